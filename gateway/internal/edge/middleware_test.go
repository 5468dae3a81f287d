package edge

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tt := range []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"socket peer without proxies", "203.0.113.7:5555", nil, nil, "203.0.113.7"},
		{"forwarded header from an untrusted peer is ignored", "203.0.113.7:5555", []string{"198.51.100.1"}, proxies, "203.0.113.7"},
		{"trusted proxy: right-most untrusted hop", "10.1.2.3:80", []string{"198.51.100.9, 198.51.100.1, 10.9.9.9"}, proxies, "198.51.100.1"},
		{"several header lines are one list", "10.1.2.3:80", []string{"192.0.2.1", "198.51.100.1"}, proxies, "198.51.100.1"},
		{"spoofed left-most entry is not believed", "10.1.2.3:80", []string{"1.2.3.4, 198.51.100.1"}, proxies, "198.51.100.1"},
		{"garbage hop stops the walk at the last trusted", "10.1.2.3:80", []string{"nonsense, 10.4.4.4"}, proxies, "10.4.4.4"},
		{"all hops trusted", "10.1.2.3:80", []string{"10.4.4.4"}, proxies, "10.4.4.4"},
		{"IPv4-mapped IPv6 peer", "[::ffff:203.0.113.7]:5555", nil, nil, "203.0.113.7"},
		{"IPv6 proxy", "[::1]:80", []string{"2001:db8::1"}, proxies, "2001:db8::1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			require.Equal(t, tt.want, ClientAddr(r, tt.trusted))
		})
	}
}

func TestMiddlewareBodyRules(t *testing.T) {
	var seen []byte
	var seenHeaders http.Header
	h := Middleware(Options{Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: 16})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = io.ReadAll(r.Body)
		seenHeaders = r.Header.Clone()
		require.NotEmpty(t, RequestID(r.Context()))
		w.WriteHeader(http.StatusNoContent)
	}))
	for _, tt := range []struct {
		name        string
		method      string
		body        string
		contentType string
		status      int
		code        string
	}{
		{"GET without body", http.MethodGet, "", "", http.StatusNoContent, ""},
		{"POST without body or type", http.MethodPost, "", "", http.StatusNoContent, ""},
		{"JSON body within the limit", http.MethodPost, `{"a":1}`, "application/json", http.StatusNoContent, ""},
		{"JSON with charset", http.MethodPost, `{"a":1}`, "application/json; charset=utf-8", http.StatusNoContent, ""},
		{"text/plain", http.MethodPost, `{"a":1}`, "text/plain", http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"no content type", http.MethodPut, `{"a":1}`, "", http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"over the limit", http.MethodPost, strings.Repeat("x", 17), "application/json", http.StatusRequestEntityTooLarge, "payload_too_large"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			seen = nil
			r := httptest.NewRequest(tt.method, "/api/v1/x", strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			require.Equal(t, tt.status, w.Code)
			require.NotEmpty(t, w.Header().Get("x-request-id"))
			require.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			if tt.code != "" {
				var body ErrorBody
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
				require.Equal(t, tt.code, body.Error)
				require.Equal(t, w.Header().Get("x-request-id"), body.RequestID)
				require.Nil(t, seen, "the handler did not run")
				return
			}
			require.Equal(t, tt.body, string(seen))
		})
	}

	t.Run("chunked body over the limit", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/x", io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("x"), 40))))
		r.ContentLength = -1
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	})

	t.Run("principal headers are stripped and a sane request id kept", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/x", nil)
		r.Header.Set("X-Wt-Principal", "forged")
		r.Header.Set("Grpc-Metadata-X-Wt-Principal", "forged")
		r.Header.Set("X-Http-Method-Override", "DELETE")
		r.Header.Set("X-Request-Id", "client-id-1")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.Empty(t, seenHeaders.Get("X-Wt-Principal"))
		require.Empty(t, seenHeaders.Get("Grpc-Metadata-X-Wt-Principal"))
		require.Empty(t, seenHeaders.Get("X-Http-Method-Override"))
		require.Equal(t, "client-id-1", w.Header().Get("x-request-id"))
	})

	t.Run("an unsafe request id is replaced", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/x", nil)
		r.Header.Set("X-Request-Id", "evil\nid")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.NotEqual(t, "evil\nid", w.Header().Get("x-request-id"))
		require.Len(t, w.Header().Get("x-request-id"), 32)
	})
}

func TestMiddlewareRefusesUnroutablePaths(t *testing.T) {
	ran := false
	h := Middleware(Options{Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: 16})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran = true
	}))
	for _, tt := range []struct{ name, target string }{
		{"invalid UTF-8", "/api/v1/org/api-keys/a%FFb"},
		{"NUL", "/api/v1/org/api-keys/a%00b"},
		{"newline", "/api/v1/account/sessions/a%0Ab"},
		{"DEL", "/api/v1/account/sessions/a%7Fb"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ran = false
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodDelete, tt.target, nil))
			require.Equal(t, http.StatusNotFound, w.Code)
			require.Contains(t, w.Body.String(), `"error":"not_found"`)
			require.False(t, ran)
		})
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/org/api-keys/k%C3%A9y", nil))
	require.True(t, ran, "valid UTF-8 passes")
}

// Regression: ?pageToken=%ff reached grpc-gateway, whose outgoing call failed
// to encode the invalid UTF-8 and answered 500 internal.
func TestMiddlewareRefusesUnusableQueries(t *testing.T) {
	ran := false
	h := Middleware(Options{Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: 16})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran = true
	}))
	for _, tt := range []struct {
		name, query string
		want        int
	}{
		{"invalid UTF-8 value", "pageToken=%ff", http.StatusBadRequest},
		{"invalid UTF-8 sequence", "pageToken=%c3%28", http.StatusBadRequest},
		{"surrogate as UTF-8", "pageToken=%ed%a0%80", http.StatusBadRequest},
		{"invalid UTF-8 name", "%ff=1", http.StatusBadRequest},
		{"NUL value", "pageToken=%00", http.StatusBadRequest},
		{"bad escape", "pageToken=%zz", http.StatusBadRequest},
		{"semicolon", "a=1;b=2", http.StatusBadRequest},
		{"plain", "pageToken=abc&pageSize=20", http.StatusOK},
		{"non-ASCII letters", "q=caf%C3%A9", http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ran = false
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/transactions?"+tt.query, nil))
			require.Equal(t, tt.want, w.Code)
			if tt.want == http.StatusBadRequest {
				require.Contains(t, w.Body.String(), `"error":"invalid_request"`)
				require.False(t, ran)
			} else {
				require.True(t, ran)
			}
		})
	}
}

func TestMiddlewareRoutesHeadAsGet(t *testing.T) {
	var seen string
	h := Middleware(Options{Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: 16})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Method
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodHead, "/api/v1/auth/session", nil))
	require.Equal(t, http.MethodGet, seen)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/api/v1/auth/logout", nil))
	require.Equal(t, http.MethodPost, seen)
}

func TestMiddlewareRecoversPanics(t *testing.T) {
	h := Middleware(Options{Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: 16})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/x", nil))
	require.Equal(t, http.StatusInternalServerError, w.Code)
	require.Contains(t, w.Body.String(), `"error":"internal"`)
	require.NotContains(t, w.Body.String(), "boom")
}

// Regression: "?pageToken=&pageSize=", API.md's own notation, was a 400
// (grpc-gateway refused "" as a number). Empty values mean "not sent".
func TestMiddlewareDropsEmptyQueryValues(t *testing.T) {
	var seen string
	h := Middleware(Options{Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: 16})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.URL.RawQuery
	}))
	for _, tt := range []struct{ query, want string }{
		{"pageToken=&pageSize=", ""},
		{"pageToken=&pageSize=20", "pageSize=20"},
		{"pageSize=20&pageSize=", "pageSize=20"},
		{"pageToken=abc&pageSize=20", "pageToken=abc&pageSize=20"},
		{"q=caf%C3%A9", "q=caf%C3%A9"},
	} {
		seen = "<not run>"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/transactions?"+tt.query, nil))
		require.Equal(t, http.StatusOK, w.Code, tt.query)
		require.Equal(t, tt.want, seen, tt.query)
	}
}

func TestIsJSON(t *testing.T) {
	for _, tt := range []struct {
		name    string
		headers map[string][]string
		want    bool
	}{
		{"plain", map[string][]string{"Content-Type": {"application/json"}}, true},
		{"charset utf-8", map[string][]string{"Content-Type": {"application/json; charset=UTF-8"}}, true},
		{"identity encoding", map[string][]string{"Content-Type": {"application/json"}, "Content-Encoding": {"identity"}}, true},
		{"none", nil, false},
		{"text", map[string][]string{"Content-Type": {"text/plain"}}, false},
		{"malformed", map[string][]string{"Content-Type": {"application/json; ="}}, false},
		// Regressions from a bad-input trial: each was read as UTF-8 JSON.
		{"another charset", map[string][]string{"Content-Type": {"application/json; charset=utf-16"}}, false},
		{"two content types", map[string][]string{"Content-Type": {"application/json", "text/plain"}}, false},
		{"gzip body", map[string][]string{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, IsJSON(http.Header(tt.headers)))
		})
	}
}
