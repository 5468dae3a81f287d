package service

import (
	"bytes"
	"log/slog"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTuneGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	cases := []struct {
		name, gogc string
		want       int
		logged     string
	}{
		{"unset: the default", "", DefaultGCPercent, `"gogc":400,"from":"default"`},
		{"blank: the default", "  ", DefaultGCPercent, `"from":"default"`},
		{"set: the runtime already applied it", "150", 100, `"gogc":"150","from":"GOGC"`},
		{"off: left to the runtime", "off", 100, `"gogc":"off","from":"GOGC"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			var buf bytes.Buffer
			TuneGC(func(k string) string {
				if k == "GOGC" {
					return tc.gogc
				}
				return ""
			}, slog.New(slog.NewJSONHandler(&buf, nil)))
			require.Equal(t, tc.want, debug.SetGCPercent(100))
			require.Contains(t, buf.String(), tc.logged)
		})
	}
}
