package logging

import (
	"context"
	"log/slog"
)

// WithLazyAttrs returns l with attrs attached the way l.With(attrs...) would
// attach them, except that they are formatted only when a record is
// actually written. slog.Logger.With formats its attributes at once (the
// JSON handler pre-renders them), which a request-scoped logger pays on
// every call even when the call logs nothing at the enabled level.
func WithLazyAttrs(l *slog.Logger, attrs ...slog.Attr) *slog.Logger {
	if len(attrs) == 0 {
		return l
	}
	h := l.Handler()
	if lh, ok := h.(*lazyHandler); ok {
		return slog.New(&lazyHandler{next: lh.next, attrs: concat(lh.attrs, attrs)})
	}
	return slog.New(&lazyHandler{next: h, attrs: attrs})
}

type lazyHandler struct {
	next  slog.Handler
	attrs []slog.Attr
}

func concat(a, b []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

func (h *lazyHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle writes r with the pending attributes first, as With would order them.
func (h *lazyHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(a)
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *lazyHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &lazyHandler{next: h.next, attrs: concat(h.attrs, attrs)}
}

// WithGroup puts later attributes in a group; the pending ones stay outside
// it, so they are attached to the next handler first.
func (h *lazyHandler) WithGroup(name string) slog.Handler {
	return h.next.WithAttrs(h.attrs).WithGroup(name)
}
