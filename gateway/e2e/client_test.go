package e2e_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// resp is a response with its body read.
type resp struct {
	*http.Response
	Body []byte
}

// JSON decodes the body into a map.
func (r resp) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// ErrorCode returns the envelope's error field.
func (r resp) ErrorCode(t *testing.T) string {
	t.Helper()
	m := r.JSON(t)
	code, _ := m["error"].(string)
	return code
}

// Cookie returns the Set-Cookie named name, or nil.
func (r resp) Cookie(name string) *http.Cookie {
	for _, c := range r.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// call sends one request; headers are pairs.
func call(t *testing.T, method, url string, body []byte, headers ...string) resp {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	r, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	return resp{Response: r, Body: b}
}

func jsonBody(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// session is a signed-in console user.
type session struct {
	Cookie string
	CSRF   string
	Body   map[string]any
}

func (s session) headers(extra ...string) []string {
	return append([]string{"Cookie", "wt_session=" + s.Cookie, "X-Csrf-Token", s.CSRF}, extra...)
}

func login(t *testing.T, base, email, password string) session {
	t.Helper()
	r := call(t, http.MethodPost, base+"/api/v1/auth/login", jsonBody(t, map[string]string{"email": email, "password": password}))
	require.Equal(t, http.StatusOK, r.StatusCode, "login: %s", r.Body)
	c := r.Cookie("wt_session")
	require.NotNil(t, c, "login sets wt_session")
	m := r.JSON(t)
	sess, _ := m["session"].(map[string]any)
	require.NotNil(t, sess, "login body has a session: %s", r.Body)
	csrf, _ := sess["csrfToken"].(string)
	require.NotEmpty(t, csrf)
	return session{Cookie: c.Value, CSRF: csrf, Body: sess}
}

// bootstrap creates an org and its admin through wtctl.
func bootstrap(t *testing.T, s *Stack, org, email, password string) (orgID, userID string) {
	t.Helper()
	out, err := s.Wtctl(password+"\n", "bootstrap", "--org", org, "--email", email, "--name", "Ada Admin", "--password-stdin")
	require.NoError(t, err)
	var m map[string]string
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out)), &m), out)
	require.NotEmpty(t, m["orgId"])
	require.NotEmpty(t, m["userId"])
	return m["orgId"], m["userId"]
}
