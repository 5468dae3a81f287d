package grpcserver

import (
	"log/slog"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
)

func TestCallLevel(t *testing.T) {
	cases := []struct {
		code codes.Code
		took time.Duration
		want slog.Level
	}{
		{codes.OK, time.Millisecond, slog.LevelDebug},
		{codes.OK, SlowCall - 1, slog.LevelDebug},
		{codes.OK, SlowCall, slog.LevelWarn},
		{codes.InvalidArgument, time.Millisecond, slog.LevelInfo},
		{codes.Unauthenticated, time.Millisecond, slog.LevelInfo},
		{codes.ResourceExhausted, time.Millisecond, slog.LevelInfo},
		{codes.Unavailable, time.Millisecond, slog.LevelInfo},
		{codes.Internal, time.Millisecond, slog.LevelError},
		{codes.Unknown, time.Millisecond, slog.LevelError},
		{codes.DataLoss, time.Millisecond, slog.LevelError},
	}
	for _, tc := range cases {
		if got := callLevel(tc.code, tc.took); got != tc.want {
			t.Errorf("callLevel(%v, %v) = %v, want %v", tc.code, tc.took, got, tc.want)
		}
	}
}
