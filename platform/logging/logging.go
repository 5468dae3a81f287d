// Package logging sets up structured JSON logs (log/slog) and carries a
// request-scoped logger in the context.
//
// Messages are constant strings; values go in attributes. Nothing here logs a
// request or response body, a header value or metadata: callers add only the
// attributes they choose, and no credential is ever one of them.
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
)

type ctxKey struct{}

// New returns a JSON logger writing to w at level ("debug", "info", "warn",
// "error"), tagged with the service name.
func New(w io.Writer, service, level string) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})).With("service", service)
}

// NewContext returns ctx carrying l.
func NewContext(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// FromContext returns the request-scoped logger, or slog.Default().
func FromContext(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
