// Package edge holds what every gateway route shares: the request context
// (request id, client address), the API.md error envelope and the HTTP
// middleware chain that runs before any route.
package edge

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyClientIP
)

// WithRequest returns ctx carrying the request id and client IP.
func WithRequest(ctx context.Context, requestID, clientIP string) context.Context {
	ctx = context.WithValue(ctx, keyRequestID, requestID)
	return context.WithValue(ctx, keyClientIP, clientIP)
}

// RequestID returns the request's id (always set by the middleware).
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(keyRequestID).(string)
	return s
}

// ClientIP returns the caller's address: the socket peer, or the
// X-Forwarded-For entry chosen by the trusted-proxy rules.
func ClientIP(ctx context.Context) string {
	s, _ := ctx.Value(keyClientIP).(string)
	return s
}

// ErrorBody is the API.md error envelope.
type ErrorBody struct {
	Error     string         `json:"error"`
	Message   string         `json:"message"`
	Details   map[string]any `json:"details"`
	RequestID string         `json:"requestId"`
}

// FieldError is one entry of details.fields.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// WriteError writes the envelope with status. retryAfter, when positive, is
// sent as Retry-After (seconds).
func WriteError(w http.ResponseWriter, r *http.Request, status int, code, message string, details map[string]any, retryAfter int) {
	if details == nil {
		details = map[string]any{}
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(retryAfter))
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(ErrorBody{Error: code, Message: message, Details: details, RequestID: RequestID(r.Context())})
}
