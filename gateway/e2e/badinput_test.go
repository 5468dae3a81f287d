package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/testenv"
	"github.com/watchtower/authplane/services/session/sessionkv"
)

// TestBadInput sends every malformed request of the foundation issue and
// checks the status and error code API.md names: never a 500.
func TestBadInput(t *testing.T) {
	s := StartStack(t, StackOptions{})
	base := s.Gateways[0]
	bootstrap(t, s, "Acme Bank", "ada@acme.test", adminPassword)
	bootstrap(t, s, "Zürich Treuhand", "jürgen.öhlmann@zürich.test", adminPassword)

	loginURL := base + "/api/v1/auth/login"
	creds := func(email, password string) []byte {
		return jsonBody(t, map[string]string{"email": email, "password": password})
	}
	revoked := login(t, base, "ada@acme.test", adminPassword)
	require.Equal(t, http.StatusNoContent, call(t, http.MethodPost, base+"/api/v1/auth/logout", nil, revoked.headers()...).StatusCode)
	expired := login(t, base, "ada@acme.test", adminPassword)
	expireInRedis(t, s, expired.Cookie)

	for _, tt := range []struct {
		name    string
		method  string
		url     string
		body    []byte
		headers []string
		status  int
		code    string
		field   string
	}{
		{name: "missing email", method: "POST", url: loginURL, body: []byte(`{"password":"x"}`), status: 400, code: "validation_failed", field: "email"},
		{name: "missing password", method: "POST", url: loginURL, body: []byte(`{"email":"ada@acme.test"}`), status: 400, code: "validation_failed", field: "password"},
		{name: "non-JSON body", method: "POST", url: loginURL, body: []byte(`email=ada&password=x`), status: 400, code: "invalid_json"},
		{name: "JSON array body", method: "POST", url: loginURL, body: []byte(`[{"email":"ada@acme.test"}]`), status: 400, code: "invalid_json"},
		{name: "truncated JSON", method: "POST", url: loginURL, body: []byte(`{"email":"ada@`), status: 400, code: "invalid_json"},
		{name: "wrong field type", method: "POST", url: loginURL, body: []byte(`{"email":42,"password":"x"}`), status: 400, code: "invalid_json"},
		{name: "2 MiB body", method: "POST", url: loginURL, body: []byte(`{"email":"` + strings.Repeat("a", 2<<20) + `"}`), status: 413, code: "payload_too_large"},
		{name: "text/plain content type", method: "POST", url: loginURL, body: creds("ada@acme.test", adminPassword), headers: []string{"Content-Type", "text/plain"}, status: 415, code: "unsupported_media_type"},
		{name: "10 kB password", method: "POST", url: loginURL, body: creds("ada@acme.test", strings.Repeat("p", 10_000)), status: 400, code: "validation_failed", field: "password"},
		{name: "wrong password", method: "POST", url: loginURL, body: creds("ada@acme.test", "not the password"), status: 401, code: "invalid_credentials"},
		{name: "unknown email", method: "POST", url: loginURL, body: creds("nobody@acme.test", adminPassword), status: 401, code: "invalid_credentials"},
		{name: "email in upper case", method: "POST", url: loginURL, body: creds("ADA@ACME.TEST", adminPassword), status: 200},
		{name: "email with surrounding spaces", method: "POST", url: loginURL, body: creds("  ada@acme.test \t", adminPassword), status: 200},
		{name: "email with non-ASCII letters in another case", method: "POST", url: loginURL, body: creds("JÜRGEN.ÖHLMANN@ZÜRICH.TEST", adminPassword), status: 200},
		{name: "email with non-ASCII letters decomposed (NFD)", method: "POST", url: loginURL, body: creds("ju\u0308rgen.o\u0308hlmann@zu\u0308rich.test", adminPassword), status: 200},
		// Regression: a User-Agent the principal could not carry was a 500
		// (invalid UTF-8) or a 401 for a valid caller (too long to verify).
		{name: "User-Agent with an invalid UTF-8 byte", method: "POST", url: loginURL, body: creds("ada@acme.test", adminPassword), headers: []string{"User-Agent", "bad\xffagent"}, status: 200},
		{name: "5 kB User-Agent", method: "POST", url: loginURL, body: creds("ada@acme.test", adminPassword), headers: []string{"User-Agent", strings.Repeat("u", 5000)}, status: 200},
		{name: "cross-site login", method: "POST", url: loginURL, body: creds("ada@acme.test", adminPassword), headers: []string{"Origin", "https://evil.example"}, status: 403, code: "csrf_failed"},
		{name: "garbage cookie", method: "GET", url: base + "/api/v1/auth/session", headers: []string{"Cookie", "wt_session=%%%garbage%%%"}, status: 401, code: "unauthenticated"},
		{name: "well-formed unknown cookie", method: "GET", url: base + "/api/v1/auth/session", headers: []string{"Cookie", "wt_session=" + strings.Repeat("A", 43)}, status: 401, code: "unauthenticated"},
		{name: "expired session cookie", method: "GET", url: base + "/api/v1/auth/session", headers: []string{"Cookie", "wt_session=" + expired.Cookie}, status: 401, code: "unauthenticated"},
		{name: "revoked session cookie", method: "GET", url: base + "/api/v1/auth/session", headers: []string{"Cookie", "wt_session=" + revoked.Cookie}, status: 401, code: "unauthenticated"},
		{name: "no cookie", method: "GET", url: base + "/api/v1/auth/session", status: 401, code: "unauthenticated"},
		{name: "forged principal header is ignored", method: "GET", url: base + "/api/v1/auth/session", headers: []string{"X-Wt-Principal", "v1.test.AAAA.BBBB", "Grpc-Metadata-X-Wt-Principal", "v1.test.AAAA.BBBB"}, status: 401, code: "unauthenticated"},
		{name: "logout without session", method: "POST", url: base + "/api/v1/auth/logout", status: 401, code: "unauthenticated"},
		{name: "unknown path", method: "GET", url: base + "/api/v1/nope", status: 404, code: "not_found"},
		{name: "known path, wrong method", method: "GET", url: loginURL, status: 405, code: "method_not_allowed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, tt.method, tt.url, tt.body, tt.headers...)
			require.Equal(t, tt.status, r.StatusCode, "body: %.300s", r.Body)
			require.NotEmpty(t, r.Header.Get("x-request-id"))
			if tt.code == "" {
				return
			}
			m := r.JSON(t)
			require.Equal(t, tt.code, m["error"], "body: %.300s", r.Body)
			require.NotEmpty(t, m["message"])
			require.Equal(t, r.Header.Get("x-request-id"), m["requestId"])
			if tt.field != "" {
				fields := m["details"].(map[string]any)["fields"].([]any)
				require.Equal(t, tt.field, fields[0].(map[string]any)["field"])
			}
		})
	}
}

// expireInRedis moves a session's absolute expiry into the past, as the
// passage of 12 hours would.
func expireInRedis(t *testing.T, s *Stack, cookie string) {
	t.Helper()
	tok, err := sessionkv.ParseToken(cookie)
	require.NoError(t, err)
	rdb, _ := testenv.Redis(t)
	n, err := rdb.HSet(context.Background(), sessionkv.SessionKey(s.RedisPrefix, tok.ID), "abs", "1").Result()
	require.NoError(t, err)
	require.Zero(t, n, "the field existed")
}

func TestLoginThrottling(t *testing.T) {
	s := StartStack(t, StackOptions{})
	base := s.Gateways[0]
	bootstrap(t, s, "Acme Bank", "ada@acme.test", adminPassword)
	attempt := func(password string) resp {
		return call(t, http.MethodPost, base+"/api/v1/auth/login", jsonBody(t, map[string]string{"email": "ada@acme.test", "password": password}))
	}
	for i := 0; i < 9; i++ {
		require.Equal(t, http.StatusUnauthorized, attempt("wrong").StatusCode)
	}
	require.Equal(t, http.StatusOK, attempt(adminPassword).StatusCode, "success resets the account counter")
	for i := 0; i < 10; i++ {
		require.Equal(t, http.StatusUnauthorized, attempt("wrong").StatusCode, "failure %d", i+1)
	}
	r := attempt("wrong")
	require.Equal(t, http.StatusTooManyRequests, r.StatusCode, string(r.Body))
	require.Equal(t, "rate_limited", r.ErrorCode(t))
	require.NotEmpty(t, r.Header.Get("Retry-After"))
	r = attempt(adminPassword)
	require.Equal(t, http.StatusTooManyRequests, r.StatusCode, "the right password does not bypass the window")
}

// TestNoSecretsInLogs signs in, uses and ends a session, then searches every
// process's log for the password, the tokens and the CSRF token.
func TestNoSecretsInLogs(t *testing.T) {
	s := StartStack(t, StackOptions{})
	base := s.Gateways[0]
	bootstrap(t, s, "Acme Bank", "ada@acme.test", adminPassword)
	call(t, http.MethodPost, base+"/api/v1/auth/login", jsonBody(t, map[string]string{"email": "ada@acme.test", "password": "wrong " + adminPassword}))
	sess := login(t, base, "ada@acme.test", adminPassword)
	require.Equal(t, http.StatusOK, call(t, http.MethodGet, base+"/api/v1/auth/session", nil, sess.headers()...).StatusCode)
	require.Equal(t, http.StatusNoContent, call(t, http.MethodPost, base+"/api/v1/auth/logout", nil, sess.headers()...).StatusCode)
	s.StopAll() // flushes every buffered log line
	logs := s.Logs()
	require.Contains(t, logs, "http request", "the logs were captured")
	for name, secret := range map[string]string{
		"password":       adminPassword,
		"wrong password": "wrong " + adminPassword,
		"session token":  sess.Cookie,
		"csrf token":     sess.CSRF,
		"principal key":  strings.SplitN(s.PrincipalKey, ":", 2)[1],
	} {
		require.NotContains(t, logs, secret, "the %s appears in a log line", name)
	}
}
