package logging

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLazyAttrsWriteWhatWithWrites: a logger with lazy attributes writes
// byte for byte what the same logger built with With writes.
func TestLazyAttrsWriteWhatWithWrites(t *testing.T) {
	attrs := []slog.Attr{slog.String("request_id", "r-1"), slog.Int("n", 7)}
	cases := []struct {
		name string
		use  func(l *slog.Logger)
	}{
		{"plain record", func(l *slog.Logger) { l.Info("call", "code", "OK") }},
		{"no record attributes", func(l *slog.Logger) { l.Warn("call") }},
		{"more attributes with With", func(l *slog.Logger) { l.With("user", "u-1").Info("call", "code", "OK") }},
		{"a group", func(l *slog.Logger) { l.WithGroup("g").Info("call", "code", "OK") }},
		{"With then a group", func(l *slog.Logger) { l.With("a", 1).WithGroup("g").With("b", 2).Error("call", "c", 3) }},
		{"below the level", func(l *slog.Logger) { l.Debug("hidden", "x", 1) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var eager, lazy bytes.Buffer
			noTime := func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}
			base := func(w *bytes.Buffer) *slog.Logger {
				return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: noTime})).With("service", "test")
			}
			asAny := make([]any, len(attrs))
			for i, a := range attrs {
				asAny[i] = a
			}
			tc.use(base(&eager).With(asAny...))
			tc.use(WithLazyAttrs(base(&lazy), attrs...))
			require.Equal(t, eager.String(), lazy.String())
		})
	}
}

func TestLazyAttrsNest(t *testing.T) {
	var buf bytes.Buffer
	l := WithLazyAttrs(slog.New(slog.NewJSONHandler(&buf, nil)), slog.String("a", "1"))
	l = WithLazyAttrs(l, slog.String("b", "2"))
	_, nested := l.Handler().(*lazyHandler).next.(*lazyHandler)
	require.False(t, nested, "a second call extends the first handler instead of wrapping it")
	l.Info("m")
	require.Contains(t, buf.String(), `"a":"1","b":"2"`)
	require.True(t, l.Enabled(context.Background(), slog.LevelInfo))
	require.False(t, l.Enabled(context.Background(), slog.LevelDebug))
}

func BenchmarkRequestLogger(b *testing.B) {
	base := New(&bytes.Buffer{}, "bench", "info")
	attrs := []slog.Attr{slog.String("request_id", "0123456789abcdef"), slog.String("method", "/x.v1.S/M"),
		slog.String("org_id", "org_abc"), slog.String("api_key_id", "key_abc")}
	asAny := make([]any, len(attrs))
	for i, a := range attrs {
		asAny[i] = a
	}
	b.Run("With", func(b *testing.B) {
		for b.Loop() {
			base.With(asAny...).Debug("call")
		}
	})
	b.Run("WithLazyAttrs", func(b *testing.B) {
		for b.Loop() {
			WithLazyAttrs(base, attrs...).Debug("call")
		}
	})
}
