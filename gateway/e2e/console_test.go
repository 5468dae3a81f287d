package e2e_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const adminPassword = "correct horse battery staple"

func TestLoginSessionLogout(t *testing.T) {
	s := StartStack(t, StackOptions{})
	base := s.Gateways[0]
	orgID, userID := bootstrap(t, s, "Acme Bank", "ada@acme.test", adminPassword)

	r := call(t, http.MethodPost, base+"/api/v1/auth/login", jsonBody(t, map[string]string{"email": "ada@acme.test", "password": adminPassword}))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	require.NotEmpty(t, r.Header.Get("x-request-id"))
	raw := strings.Join(r.Header.Values("Set-Cookie"), "\n")
	c := r.Cookie("wt_session")
	require.NotNil(t, c, raw)
	require.True(t, c.HttpOnly, raw)
	require.True(t, c.Secure, raw)
	require.Equal(t, http.SameSiteLaxMode, c.SameSite, raw)
	require.Equal(t, "/", c.Path, raw)
	require.Empty(t, c.Domain, raw)
	require.Positive(t, c.MaxAge, raw)
	body := r.JSON(t)
	require.Equal(t, false, body["mfaRequired"])
	sess := body["session"].(map[string]any)
	require.Equal(t, userID, sess["user"].(map[string]any)["id"])
	require.Equal(t, "ada@acme.test", sess["user"].(map[string]any)["email"])
	require.Equal(t, orgID, sess["org"].(map[string]any)["id"])
	require.Equal(t, "Acme Bank", sess["org"].(map[string]any)["name"])
	require.Equal(t, "ADMIN", sess["role"])
	csrf := sess["csrfToken"].(string)

	got := call(t, http.MethodGet, base+"/api/v1/auth/session", nil, "Cookie", "wt_session="+c.Value)
	require.Equal(t, http.StatusOK, got.StatusCode, string(got.Body))
	view := got.JSON(t)
	require.Equal(t, userID, view["user"].(map[string]any)["id"])
	require.Equal(t, "ADMIN", view["role"])
	require.Equal(t, csrf, view["csrfToken"])
	require.NotEmpty(t, view["expiresAt"])
	require.NotEmpty(t, view["idleExpiresAt"])
	require.Contains(t, view["permissions"], "members:write")
	orgs := view["orgs"].([]any)
	require.Len(t, orgs, 1)

	// Logout without the CSRF token is refused and changes nothing.
	r = call(t, http.MethodPost, base+"/api/v1/auth/logout", nil, "Cookie", "wt_session="+c.Value)
	require.Equal(t, http.StatusForbidden, r.StatusCode, string(r.Body))
	require.Equal(t, "csrf_failed", r.ErrorCode(t))
	require.Equal(t, http.StatusOK, call(t, http.MethodGet, base+"/api/v1/auth/session", nil, "Cookie", "wt_session="+c.Value).StatusCode)

	r = call(t, http.MethodPost, base+"/api/v1/auth/logout", nil, "Cookie", "wt_session="+c.Value, "X-Csrf-Token", csrf)
	require.Equal(t, http.StatusNoContent, r.StatusCode, string(r.Body))
	cleared := r.Cookie("wt_session")
	require.NotNil(t, cleared)
	require.Equal(t, -1, cleared.MaxAge, "Max-Age=0 on the wire")
	require.Contains(t, strings.Join(r.Header.Values("Set-Cookie"), "\n"), "Max-Age=0")

	r = call(t, http.MethodGet, base+"/api/v1/auth/session", nil, "Cookie", "wt_session="+c.Value)
	require.Equal(t, http.StatusUnauthorized, r.StatusCode)
	require.Equal(t, "unauthenticated", r.ErrorCode(t))
}

func TestOperationalEndpoints(t *testing.T) {
	s := StartStack(t, StackOptions{})
	base := s.Gateways[0]
	doc := call(t, http.MethodGet, base+"/api/v1/openapi.json", nil)
	require.Equal(t, http.StatusOK, doc.StatusCode)
	paths := doc.JSON(t)["paths"].(map[string]any)
	for _, p := range []string{"/api/v1/auth/login", "/api/v1/auth/logout", "/api/v1/auth/session"} {
		require.Contains(t, paths, p)
	}
	require.Equal(t, http.StatusOK, call(t, http.MethodGet, base+"/healthz", nil).StatusCode)
	ready := call(t, http.MethodGet, base+"/readyz", nil)
	require.Equal(t, http.StatusOK, ready.StatusCode)
	require.Equal(t, "ready", ready.JSON(t)["status"])
	metrics := call(t, http.MethodGet, "http://"+s.Admin["gateway0"]+"/metrics", nil)
	require.Equal(t, http.StatusOK, metrics.StatusCode)
	require.Contains(t, string(metrics.Body), "watchtower_gateway_redis_pool_misses")
	require.Contains(t, string(metrics.Body), "watchtower_gateway_http_requests_total")
	svc := call(t, http.MethodGet, "http://"+s.Admin["identity"]+"/metrics", nil)
	require.Contains(t, string(svc.Body), "watchtower_grpc_server_calls_total")
}

// TestRevocationOnEveryReplica signs in through one gateway and proves that
// logout and revocation through it are in force on the very next request
// to another replica.
func TestRevocationOnEveryReplica(t *testing.T) {
	s := StartStack(t, StackOptions{Gateways: 2})
	a, b := s.Gateways[0], s.Gateways[1]
	bootstrap(t, s, "Acme Bank", "ada@acme.test", adminPassword)

	first := login(t, a, "ada@acme.test", adminPassword)
	second := login(t, a, "ada@acme.test", adminPassword)
	require.Equal(t, http.StatusOK, call(t, http.MethodGet, b+"/api/v1/auth/session", nil, first.headers()...).StatusCode)
	require.Equal(t, http.StatusOK, call(t, http.MethodGet, b+"/api/v1/auth/session", nil, second.headers()...).StatusCode)

	// Revoke the first session from the second (account sessions route), then logout.
	list := call(t, http.MethodGet, a+"/api/v1/account/sessions", nil, second.headers()...)
	require.Equal(t, http.StatusOK, list.StatusCode, string(list.Body))
	sessions := list.JSON(t)["sessions"].([]any)
	require.Len(t, sessions, 2)
	var firstID string
	for _, x := range sessions {
		m := x.(map[string]any)
		if m["current"] != true {
			firstID = m["id"].(string)
		}
	}
	require.NotEmpty(t, firstID)
	r := call(t, http.MethodDelete, a+"/api/v1/account/sessions/"+firstID, nil, second.headers()...)
	require.Equal(t, http.StatusNoContent, r.StatusCode, string(r.Body))
	r = call(t, http.MethodGet, b+"/api/v1/auth/session", nil, first.headers()...)
	require.Equal(t, http.StatusUnauthorized, r.StatusCode, "revoked on A, refused on B at once")

	r = call(t, http.MethodPost, a+"/api/v1/auth/logout", nil, second.headers()...)
	require.Equal(t, http.StatusNoContent, r.StatusCode, string(r.Body))
	r = call(t, http.MethodGet, b+"/api/v1/auth/session", nil, second.headers()...)
	require.Equal(t, http.StatusUnauthorized, r.StatusCode, "logged out on A, refused on B at once")
}
