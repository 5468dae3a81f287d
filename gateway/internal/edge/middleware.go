package edge

import (
	"bytes"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/watchtower/authplane/platform/requestid"
)

// Options configures the common middleware.
type Options struct {
	Logger *slog.Logger
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// MaxBodyBytes is the largest request body accepted (413 above).
	MaxBodyBytes int64
	// RawBodyPaths are paths whose handler enforces the body rules itself.
	RawBodyPaths []string
	// Observe, when set, is called once per request with its outcome.
	Observe func(r *http.Request, status int, d time.Duration)
}

// Middleware returns the chain every request passes first: request id,
// panic recovery, one access-log line, removal of inbound headers that could
// impersonate a principal, the client address, and the body rules (size
// limit, JSON content type) that API.md fixes for every route.
func Middleware(o Options) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rid := r.Header.Get(requestid.Header)
			if !requestid.Valid(rid) {
				rid = requestid.New()
			}
			w.Header().Set(requestid.Header, rid)
			ip := ClientAddr(r, o.TrustedProxies)
			method := r.Method
			r = r.WithContext(WithRequest(r.Context(), rid, ip))
			if r.Method == http.MethodHead {
				// HEAD is GET without a body: route it as GET (net/http
				// drops the body, since the server's own request is HEAD).
				r.Method = http.MethodGet
			}
			sw := &statusWriter{ResponseWriter: w}
			defer func() {
				if p := recover(); p != nil {
					o.Logger.Error("panic serving request", "request_id", rid, "panic", p, "stack", string(debug.Stack()))
					if !sw.wrote {
						WriteError(sw, r, http.StatusInternalServerError, "internal", "internal error", nil, 0)
					}
				}
				d := time.Since(start)
				if o.Observe != nil {
					o.Observe(r, sw.status, d)
				}
				o.Logger.LogAttrs(r.Context(), slog.LevelInfo, "http request",
					slog.String("request_id", rid), slog.String("method", method), slog.String("path", r.URL.Path),
					slog.Int("status", sw.status), slog.Duration("duration", d), slog.String("client_ip", ip))
			}()
			if !cleanPath(r.URL.Path) {
				// No route has such a path, and no id may carry it to a service.
				WriteError(sw, r, http.StatusNotFound, "not_found", "no such route", nil, 0)
				return
			}
			if r.URL.RawQuery != "" {
				q, ok := cleanQuery(r.URL.RawQuery)
				if !ok {
					// Query values become protobuf strings too (grpc-gateway would
					// fail to encode invalid UTF-8, an internal error).
					WriteError(sw, r, http.StatusBadRequest, "invalid_request", "a path or query parameter is invalid", nil, 0)
					return
				}
				if dropEmpty(q) {
					// "?pageToken=&pageSize=" (API.md's own notation) means the
					// defaults; grpc-gateway would refuse "" as a number.
					r.URL.RawQuery = q.Encode()
				}
			}
			stripPrincipalHeaders(r.Header)
			if strings.HasPrefix(r.URL.Path, "/api/") {
				sw.Header().Set("Cache-Control", "no-store")
			}
			if !slices.Contains(o.RawBodyPaths, r.URL.Path) && !readBody(sw, r, o.MaxBodyBytes) {
				return
			}
			next.ServeHTTP(sw, r)
		})
	}
}

// stripPrincipalHeaders removes every inbound header that grpc-gateway or a
// service could read as caller identity. The gateway forwards no inbound
// header to gRPC at all (see the mux's header matcher); this is the second
// line, for handlers outside the mux.
func stripPrincipalHeaders(h http.Header) {
	for k := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-wt-") || strings.HasPrefix(lk, "grpc-") || lk == "x-http-method-override" {
			delete(h, k)
		}
	}
}

// cleanPath reports whether the decoded path is valid UTF-8 without control
// characters. Path parameters become protobuf strings, which must be UTF-8,
// and ids end up in SQL, which refuses NUL.
func cleanPath(p string) bool {
	if !utf8.ValidString(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] == 0x7f {
			return false
		}
	}
	return true
}

// cleanQuery parses the query string and reports whether every decoded
// name and value is a clean string (cleanPath's rules).
func cleanQuery(raw string) (url.Values, bool) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, false
	}
	for k, vs := range q {
		if !cleanPath(k) {
			return nil, false
		}
		for _, v := range vs {
			if !cleanPath(v) {
				return nil, false
			}
		}
	}
	return q, true
}

// dropEmpty removes the empty values of q (a parameter sent empty is a
// parameter not sent) and reports whether it removed any.
func dropEmpty(q url.Values) bool {
	dropped := false
	for k, vs := range q {
		kept := vs[:0]
		for _, v := range vs {
			if v != "" {
				kept = append(kept, v)
			}
		}
		if len(kept) == len(vs) {
			continue
		}
		dropped = true
		if len(kept) == 0 {
			delete(q, k)
		} else {
			q[k] = kept
		}
	}
	return dropped
}

func hasBody(method string) bool {
	return method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch || method == http.MethodDelete
}

// readBody enforces the size limit and the JSON content type, and buffers
// the body so later readers cannot exceed the limit. It writes the error and
// returns false when the request must stop here.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) bool {
	if !hasBody(r.Method) || r.ContentLength == 0 {
		return true
	}
	if r.ContentLength > limit {
		WriteError(w, r, http.StatusRequestEntityTooLarge, "payload_too_large", "the request body exceeds the limit", map[string]any{"limitBytes": limit}, 0)
		return false
	}
	if !IsJSON(r.Header) {
		WriteError(w, r, http.StatusUnsupportedMediaType, "unsupported_media_type", "the request body must be application/json", nil, 0)
		return false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		WriteError(w, r, http.StatusBadRequest, "invalid_json", "the request body could not be read", nil, 0)
		return false
	}
	if int64(len(body)) > limit {
		WriteError(w, r, http.StatusRequestEntityTooLarge, "payload_too_large", "the request body exceeds the limit", map[string]any{"limitBytes": limit}, 0)
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return true
}

// IsJSON reports whether a request's Content-Type is application/json in
// UTF-8 (no charset, or charset utf-8: JSON has no other encoding here),
// sent once, and its body is not content-encoded: nothing here decodes
// another charset or a compressed body.
func IsJSON(h http.Header) bool {
	cts := h.Values("Content-Type")
	if len(cts) != 1 {
		return false
	}
	mt, params, err := mime.ParseMediaType(cts[0])
	if err != nil || mt != "application/json" {
		return false
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return false
	}
	for _, ce := range h.Values("Content-Encoding") {
		if !strings.EqualFold(strings.TrimSpace(ce), "identity") {
			return false
		}
	}
	return true
}

// ClientAddr returns the caller's IP: the socket peer, unless the peer is a
// trusted proxy, in which case the right-most X-Forwarded-For entry that is
// not itself a trusted proxy.
func ClientAddr(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !isTrusted(peer, trusted) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if !s.wrote {
		s.status, s.wrote = http.StatusOK, true
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
