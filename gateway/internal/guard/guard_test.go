package guard

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/gateway/internal/authn"
	"github.com/watchtower/authplane/gateway/internal/edge"
	"github.com/watchtower/authplane/platform/access"
	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/platform/principal"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	ingestionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/ingestion/v1"
	sessionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/session/v1"
)

// table is a fixed policy: role -> permissions.
type table map[string][]string

func (t table) Allowed(role, perm string) (bool, bool) {
	if t == nil {
		return false, false
	}
	for _, p := range t[role] {
		if p == perm {
			return true, true
		}
	}
	return false, true
}

func record(role string, state authzv1.SessionState) *sessionv1.SessionRecord {
	return &sessionv1.SessionRecord{
		Id: "sess1", User: &sessionv1.SessionUser{Id: "usr_1"}, Org: &sessionv1.SessionOrg{Id: "org_1"},
		Role: role, State: state, CsrfToken: "csrf-1", AuthLevel: authzv1.AuthLevel_AUTH_LEVEL_PASSWORD,
	}
}

func TestDecide(t *testing.T) {
	keys, err := principal.NewKeyring([]principal.Key{{ID: "k", Secret: []byte("0123456789abcdef0123456789abcdef")}}, nil)
	require.NoError(t, err)
	policy := table{"ADMIN": {"api_keys:write", "api_keys:read"}, "VIEWER": {"transactions:read"}}
	g := New(access.BuildTableForPackages("watchtower."), policy, keys, "https://console.example")

	active := authzv1.SessionState_SESSION_STATE_ACTIVE
	login := sessionv1.SessionService_Login_FullMethodName
	logout := sessionv1.SessionService_Logout_FullMethodName
	createKey := ingestionv1.IngestionService_CreateApiKey_FullMethodName
	listKeys := ingestionv1.IngestionService_ListApiKeys_FullMethodName
	for _, tt := range []struct {
		name   string
		method string
		caller authn.Caller
		policy Policy
		reason string // "" = allowed
		kind   authzv1.PrincipalKind
	}{
		{name: "public route, no cookie", method: login, caller: authn.Caller{Method: "POST"}, kind: authzv1.PrincipalKind_PRINCIPAL_KIND_ANONYMOUS},
		{name: "public route, same-origin browser", method: login, caller: authn.Caller{Method: "POST", Origin: "https://console.example", Host: "10.0.0.1"}, kind: authzv1.PrincipalKind_PRINCIPAL_KIND_ANONYMOUS},
		{name: "public route, Origin equals Host", method: login, caller: authn.Caller{Method: "POST", Origin: "http://127.0.0.1:8080", Host: "127.0.0.1:8080"}, kind: authzv1.PrincipalKind_PRINCIPAL_KIND_ANONYMOUS},
		{name: "public route, cross-site Origin", method: login, caller: authn.Caller{Method: "POST", Origin: "https://evil.example", Host: "console.example"}, reason: "csrf_failed"},
		{name: "public route, Origin null", method: login, caller: authn.Caller{Method: "POST", Origin: "null"}, reason: "csrf_failed"},
		{name: "public route, Sec-Fetch-Site cross-site", method: login, caller: authn.Caller{Method: "POST", SecFetchSite: "cross-site"}, reason: "csrf_failed"},
		{name: "user route without session", method: logout, caller: authn.Caller{Method: "POST"}, reason: "unauthenticated"},
		{name: "user route with session and CSRF token", method: logout, caller: authn.Caller{Method: "POST", CSRFToken: "csrf-1", Session: record("VIEWER", active)}, kind: authzv1.PrincipalKind_PRINCIPAL_KIND_USER},
		{name: "unsafe method without CSRF token", method: logout, caller: authn.Caller{Method: "POST", Session: record("VIEWER", active)}, reason: "csrf_failed"},
		{name: "unsafe method with wrong CSRF token", method: logout, caller: authn.Caller{Method: "POST", CSRFToken: "csrf-2", Session: record("VIEWER", active)}, reason: "csrf_failed"},
		{name: "permission held", method: createKey, caller: authn.Caller{Method: "POST", CSRFToken: "csrf-1", Session: record("ADMIN", active)}, kind: authzv1.PrincipalKind_PRINCIPAL_KIND_USER},
		{name: "permission not held", method: createKey, caller: authn.Caller{Method: "POST", CSRFToken: "csrf-1", Session: record("VIEWER", active)}, reason: "forbidden"},
		{name: "safe method needs no CSRF token", method: listKeys, caller: authn.Caller{Method: "GET", Session: record("ADMIN", active)}, kind: authzv1.PrincipalKind_PRINCIPAL_KIND_USER},
		{name: "policy not loaded fails closed", method: listKeys, caller: authn.Caller{Method: "GET", Session: record("ADMIN", active)}, policy: table(nil), reason: "unavailable"},
		{name: "enrolment-limited session on an ordinary route", method: listKeys, caller: authn.Caller{Method: "GET", Session: record("ADMIN", authzv1.SessionState_SESSION_STATE_ENROLLMENT_REQUIRED)}, reason: "mfa_enrollment_required"},
		{name: "enrolment-limited session may log out", method: logout, caller: authn.Caller{Method: "POST", CSRFToken: "csrf-1", Session: record("ADMIN", authzv1.SessionState_SESSION_STATE_ENROLLMENT_REQUIRED)}, kind: authzv1.PrincipalKind_PRINCIPAL_KIND_USER},
		{name: "pending-MFA cookie is not a session", method: logout, caller: authn.Caller{Method: "POST", Pending: record("ADMIN", authzv1.SessionState_SESSION_STATE_MFA_PENDING)}, reason: "unauthenticated"},
		{name: "services-only RPC is no route", method: sessionv1.SessionService_Create_FullMethodName, caller: authn.Caller{Method: "POST", CSRFToken: "csrf-1", Session: record("ADMIN", active)}, reason: "not_found"},
		{name: "API-key RPC is no console route", method: ingestionv1.IngestionService_Ingest_FullMethodName, caller: authn.Caller{Method: "POST", CSRFToken: "csrf-1", Session: record("ADMIN", active)}, reason: "not_found"},
		{name: "unknown method", method: "/watchtower.nope.v1.Nope/Nope", caller: authn.Caller{Method: "GET"}, reason: "not_found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gg := g
			if tt.policy != nil {
				gg = New(g.rules, tt.policy, keys, "https://console.example")
			}
			caller := tt.caller
			ctx := authn.WithCaller(edge.WithRequest(context.Background(), "rid-1", "192.0.2.1"), &caller)
			p, err := gg.Decide(ctx, tt.method)
			if tt.reason != "" {
				e, ok := apperr.As(err)
				require.True(t, ok, "err: %v", err)
				require.Equal(t, tt.reason, e.Reason)
				require.Nil(t, p)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.kind, p.GetKind())
			require.Equal(t, "rid-1", p.GetRequestId())
			require.Equal(t, "192.0.2.1", p.GetClientIp())
			if tt.kind == authzv1.PrincipalKind_PRINCIPAL_KIND_USER {
				require.Equal(t, "usr_1", p.GetUserId())
				require.Equal(t, "org_1", p.GetOrgId())
				require.Equal(t, "sess1", p.GetSessionId())
				require.Equal(t, caller.Session.GetRole(), p.GetRole())
			}
		})
	}
}
