// Package authn turns the console cookies of a request into a resolved
// session, once per request, before routing. It does not decide anything:
// the guard decides, per RPC, whether the caller it found is enough.
package authn

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/watchtower/authplane/gateway/internal/edge"
	"github.com/watchtower/authplane/platform/principal"
	sessionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/session/v1"
	"github.com/watchtower/authplane/services/session/sessionkv"
)

// Cookie names fixed by API.md.
const (
	SessionCookie = "wt_session"
	MFACookie     = "wt_mfa"
)

// Caller is what the gateway knows about the request's sender.
type Caller struct {
	// Method is the HTTP method (for CSRF rules).
	Method string
	// Origin, SecFetchSite, Host and CSRFToken are the request's values.
	Origin, SecFetchSite, Host, CSRFToken string
	UserAgent                             string
	// SessionCookie reports that a wt_session cookie was sent at all.
	SessionCookie bool
	// Session is the live session the cookie named, if any.
	Session  *sessionv1.SessionRecord
	LastSeen time.Time
	// Pending is the live pending-MFA session the wt_mfa cookie named, if any.
	Pending *sessionv1.SessionRecord
}

type ctxKey struct{}

// FromContext returns the request's caller (nil outside the middleware).
func FromContext(ctx context.Context) *Caller {
	c, _ := ctx.Value(ctxKey{}).(*Caller)
	return c
}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// Resolver validates session tokens: sessionkv.Reader in production.
type Resolver interface {
	Validate(ctx context.Context, token string) (*sessionv1.SessionRecord, time.Time, error)
}

// Middleware resolves the cookies of every request except those skip
// selects (routes that never accept a cookie). A Redis failure fails
// closed with 503: no route runs on a guess about who is calling.
func Middleware(r Resolver, log *slog.Logger, skip func(*http.Request) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			c := &Caller{
				Method:       req.Method,
				Origin:       req.Header.Get("Origin"),
				SecFetchSite: req.Header.Get("Sec-Fetch-Site"),
				Host:         req.Host,
				CSRFToken:    req.Header.Get("X-Csrf-Token"),
				UserAgent:    principal.UserAgent(req.UserAgent()),
			}
			if !skip(req) {
				if err := c.resolve(req, r); err != nil {
					log.Error("session store unavailable", "request_id", edge.RequestID(req.Context()), "error", err.Error())
					edge.WriteError(w, req, http.StatusServiceUnavailable, "unavailable", "a dependency is unavailable; retry later", nil, 1)
					return
				}
			} else if _, err := req.Cookie(SessionCookie); err == nil {
				c.SessionCookie = true
			}
			next.ServeHTTP(w, req.WithContext(WithCaller(req.Context(), c)))
		})
	}
}

func (c *Caller) resolve(req *http.Request, r Resolver) error {
	if ck, err := req.Cookie(SessionCookie); err == nil {
		c.SessionCookie = true
		rec, seen, err := r.Validate(req.Context(), ck.Value)
		switch {
		case err == nil && rec.GetState() != pendingState:
			c.Session, c.LastSeen = rec, seen
		case err != nil && !errors.Is(err, sessionkv.ErrNotFound):
			return err
		}
	}
	if ck, err := req.Cookie(MFACookie); err == nil {
		rec, _, err := r.Validate(req.Context(), ck.Value)
		switch {
		case err == nil && rec.GetState() == pendingState:
			c.Pending = rec
		case err != nil && !errors.Is(err, sessionkv.ErrNotFound):
			return err
		}
	}
	return nil
}
