package grpcapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/platform/grpcclient"
	"github.com/watchtower/authplane/platform/grpcserver"
	"github.com/watchtower/authplane/platform/logging"
	"github.com/watchtower/authplane/platform/principal"
	"github.com/watchtower/authplane/platform/requestid"
	"github.com/watchtower/authplane/platform/testenv"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	identityv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/identity/v1"
	sessionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/session/v1"
	"github.com/watchtower/authplane/services/session/internal/identityclient"
	"github.com/watchtower/authplane/services/session/internal/policy"
	sessionredis "github.com/watchtower/authplane/services/session/internal/redis"
	"github.com/watchtower/authplane/services/session/internal/session"
	"github.com/watchtower/authplane/services/session/sessionkv"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// fakeIdentity is a small in-test identity service.
type fakeIdentity struct {
	identityv1.UnimplementedIdentityServiceServer
	mu       sync.Mutex
	accounts map[string]account // by email
	audit    []*identityv1.RecordAuditEventRequest
	callers  []string
}

type account struct {
	password    string
	user        *identityv1.User
	memberships []*identityv1.Membership
}

func (f *fakeIdentity) noteCaller(ctx context.Context) {
	p, _ := principal.FromContext(ctx)
	f.mu.Lock()
	f.callers = append(f.callers, p.GetService())
	f.mu.Unlock()
}

func (f *fakeIdentity) VerifyPassword(ctx context.Context, req *identityv1.VerifyPasswordRequest) (*identityv1.VerifyPasswordResponse, error) {
	f.noteCaller(ctx)
	if !strings.Contains(req.GetEmail(), "@") {
		return nil, apperr.Validation(apperr.FieldViolation{Field: "email", Reason: "malformed"})
	}
	a, ok := f.accounts[session.NormalizeEmail(req.GetEmail())]
	if !ok || a.password != req.GetPassword() || a.user.GetDisabled() {
		return nil, apperr.Unauthenticated("invalid_credentials", "the email or password is wrong")
	}
	return &identityv1.VerifyPasswordResponse{User: a.user, Memberships: a.memberships}, nil
}

func (f *fakeIdentity) GetUser(ctx context.Context, req *identityv1.GetUserRequest) (*identityv1.GetUserResponse, error) {
	f.noteCaller(ctx)
	for _, a := range f.accounts {
		if a.user.GetId() == req.GetUserId() {
			return &identityv1.GetUserResponse{User: a.user, Memberships: a.memberships}, nil
		}
	}
	return nil, apperr.NotFound("no such user")
}

func (f *fakeIdentity) RecordAuditEvent(ctx context.Context, req *identityv1.RecordAuditEventRequest) (*identityv1.RecordAuditEventResponse, error) {
	f.noteCaller(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.audit = append(f.audit, req)
	return &identityv1.RecordAuditEventResponse{Id: "ev", At: timestamppb.Now()}, nil
}

func (f *fakeIdentity) auditTypes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, e := range f.audit {
		out = append(out, e.GetType())
	}
	return out
}

// fakeAuthz serves a fixed policy.
type fakeAuthz struct {
	authzv1.UnimplementedAuthorizationServiceServer
}

func (fakeAuthz) GetPolicy(context.Context, *authzv1.GetPolicyRequest) (*authzv1.GetPolicyResponse, error) {
	return &authzv1.GetPolicyResponse{Version: "1", Roles: []*authzv1.RolePermissions{
		{Role: "ADMIN", Permissions: []string{"alerts:read", "members:write"}},
		{Role: "ANALYST", Permissions: []string{"alerts:read"}},
	}}, nil
}

// lockedBuffer collects log output from concurrent handlers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const password = "correct horse battery staple"

type harness struct {
	keys     *principal.Keyring
	client   sessionv1.SessionServiceClient
	current  sessionv1.CurrentSessionServiceClient
	identity *fakeIdentity
	logs     *lockedBuffer
}

func serve(t *testing.T, keys *principal.Keyring, logs *lockedBuffer, register func(grpc.ServiceRegistrar)) string {
	t.Helper()
	srv := grpcserver.New(grpcserver.Options{Logger: logging.New(logs, "test", "debug"), Keyring: keys})
	register(srv.Server)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.ServeListener(ctx, lis); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return lis.Addr().String()
}

func newHarness(t *testing.T, identityAddr string) *harness {
	t.Helper()
	keys, _ := testenv.Keyring(t)
	rdb, prefix := testenv.Redis(t)
	logs := &lockedBuffer{}
	identity := &fakeIdentity{accounts: map[string]account{
		"ada@example.com": {password: password,
			user:        &identityv1.User{Id: "u-ada", Email: "ada@example.com", Name: "Ada"},
			memberships: []*identityv1.Membership{{OrgId: "o-acme", OrgName: "Acme", Role: "ANALYST"}, {OrgId: "o-later", OrgName: "Later", Role: "ADMIN"}}},
		"mfa@example.com": {password: password,
			user:        &identityv1.User{Id: "u-mfa", Email: "mfa@example.com", Name: "Mo", MfaEnabled: true},
			memberships: []*identityv1.Membership{{OrgId: "o-acme", OrgName: "Acme", Role: "ADMIN", MfaRequired: true}}},
		"admin@example.com": {password: password,
			user:        &identityv1.User{Id: "u-admin", Email: "admin@example.com", Name: "Ad"},
			memberships: []*identityv1.Membership{{OrgId: "o-acme", OrgName: "Acme", Role: "ADMIN", MfaRequired: true}}},
		"orphan@example.com": {password: password,
			user: &identityv1.User{Id: "u-orphan", Email: "orphan@example.com", Name: "Or"}},
	}}
	if identityAddr == "" {
		identityAddr = serve(t, keys, logs, func(s grpc.ServiceRegistrar) { identityv1.RegisterIdentityServiceServer(s, identity) })
	}
	authzAddr := serve(t, keys, logs, func(s grpc.ServiceRegistrar) { authzv1.RegisterAuthorizationServiceServer(s, fakeAuthz{}) })

	identityConn, err := grpcclient.Dial(identityAddr, "session", keys)
	require.NoError(t, err)
	t.Cleanup(func() { _ = identityConn.Close() })
	authzConn, err := grpcclient.Dial(authzAddr, "session", keys)
	require.NoError(t, err)
	t.Cleanup(func() { _ = authzConn.Close() })

	idc := identityclient.New(identityConn)
	svc := session.NewService(session.Deps{
		Store:       sessionredis.NewSessions(rdb, prefix, time.Now, rand.Reader, 12*time.Hour),
		Throttle:    sessionredis.NewThrottle(rdb, prefix, sessionredis.DefaultThrottleLimits),
		Identity:    idc,
		Permissions: policy.New(authzConn, nil, time.Minute),
		Audit:       idc,
		Timeouts:    session.Timeouts{Idle: 30 * time.Minute, Absolute: 12 * time.Hour},

		EnforceMFAEnrollment: true,
	})
	addr := serve(t, keys, logs, NewServer(svc, nil).Register)
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })
	return &harness{keys: keys, client: sessionv1.NewSessionServiceClient(cc), current: sessionv1.NewCurrentSessionServiceClient(cc), identity: identity, logs: logs}
}

// as returns a context carrying p, signed, as the gateway would send it.
func (h *harness) as(t *testing.T, p *authzv1.Principal) context.Context {
	t.Helper()
	p.RequestId = requestid.New()
	ctx, err := h.keys.AppendToOutgoing(context.Background(), p)
	require.NoError(t, err)
	return ctx
}

func (h *harness) anonymous(t *testing.T, ip string) context.Context {
	return h.as(t, &authzv1.Principal{Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_ANONYMOUS, ClientIp: ip, UserAgent: "test-browser"})
}

func (h *harness) service(t *testing.T) context.Context {
	return h.as(t, &authzv1.Principal{Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_SERVICE, Service: "gateway"})
}

// user returns a user principal for the session of token, as the gateway
// derives it from the validated session.
func (h *harness) user(t *testing.T, token string) context.Context {
	t.Helper()
	res, err := h.client.Validate(h.service(t), &sessionv1.ValidateRequest{Token: token})
	require.NoError(t, err)
	r := res.GetRecord()
	return h.as(t, &authzv1.Principal{
		Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_USER, UserId: r.GetUser().GetId(), OrgId: r.GetOrg().GetId(),
		SessionId: r.GetId(), Role: r.GetRole(), AuthLevel: r.GetAuthLevel(), SessionState: r.GetState(), ClientIp: "192.0.2.1",
	})
}

func (h *harness) login(t *testing.T, email, pw, ip string) (*sessionv1.LoginResponse, metadata.MD, error) {
	t.Helper()
	var hdr metadata.MD
	res, err := h.client.Login(h.anonymous(t, ip), &sessionv1.LoginRequest{Email: email, Password: pw}, grpc.Header(&hdr))
	return res, hdr, err
}

func one(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) == 1 {
		return v[0]
	}
	return ""
}

func requireAppErr(t *testing.T, err error, code codes.Code, reason string) *apperr.Error {
	t.Helper()
	st, ok := status.FromError(err)
	require.True(t, ok, "got %v", err)
	require.Equal(t, code, st.Code(), st.Message())
	e, ok := apperr.FromStatus(st)
	require.True(t, ok, "no ErrorInfo in %v", st)
	require.Equal(t, reason, e.Reason)
	return e
}

func TestLogin(t *testing.T) {
	h := newHarness(t, "")

	res, hdr, err := h.login(t, " Ada@Example.com ", password, "192.0.2.1")
	require.NoError(t, err)
	require.False(t, res.GetMfaRequired())
	token := one(hdr, sessionkv.HeaderSetSession)
	_, err = sessionkv.ParseToken(token)
	require.NoError(t, err, "x-wt-set-session carries a session token")
	require.Empty(t, hdr.Get(sessionkv.HeaderSetMFA))
	maxAge, err := strconv.Atoi(one(hdr, sessionkv.HeaderCookieMaxAge))
	require.NoError(t, err)
	require.InDelta(t, 12*3600, maxAge, 5)

	s := res.GetSession()
	require.Equal(t, "u-ada", s.GetUser().GetId())
	require.Equal(t, "o-acme", s.GetOrg().GetId(), "the oldest membership is the active org")
	require.Equal(t, "ANALYST", s.GetRole())
	require.Len(t, s.GetOrgs(), 2)
	require.Equal(t, []string{"alerts:read"}, s.GetPermissions(), "from the authz policy")
	require.NotEmpty(t, s.GetCsrfToken())
	require.False(t, s.GetMfaVerified())
	require.WithinDuration(t, time.Now().Add(12*time.Hour), s.GetExpiresAt().AsTime(), 5*time.Second)
	require.WithinDuration(t, time.Now().Add(30*time.Minute), s.GetIdleExpiresAt().AsTime(), 5*time.Second)

	v, err := h.client.Validate(h.service(t), &sessionv1.ValidateRequest{Token: token})
	require.NoError(t, err)
	require.Equal(t, authzv1.SessionState_SESSION_STATE_ACTIVE, v.GetRecord().GetState())
	require.Equal(t, "192.0.2.1", v.GetRecord().GetIp())
	require.Equal(t, "test-browser", v.GetRecord().GetUserAgent())

	cur, err := h.current.GetCurrentSession(h.user(t, token), &sessionv1.GetCurrentSessionRequest{})
	require.NoError(t, err)
	require.Equal(t, s.GetCsrfToken(), cur.GetSession().GetCsrfToken())
	require.Equal(t, []string{"alerts:read"}, cur.GetSession().GetPermissions())

	require.Contains(t, h.identity.auditTypes(), "session.login")
	h.identity.mu.Lock()
	for _, e := range h.identity.audit {
		if e.GetType() == "session.login" {
			// Regression: the login event had the address but no user agent.
			require.Equal(t, "192.0.2.1", e.GetIp())
			require.Equal(t, "test-browser", e.GetUserAgent())
		}
	}
	h.identity.mu.Unlock()
	for _, c := range h.identity.callers {
		require.Equal(t, "session", c, "identity is called as service session")
	}
	require.NotContains(t, h.logs.String(), token, "the token is never logged")
	require.NotContains(t, h.logs.String(), password, "the password is never logged")
}

func TestLoginErrors(t *testing.T) {
	h := newHarness(t, "")

	_, hdr, err := h.login(t, "ada@example.com", "wrong", "192.0.2.2")
	requireAppErr(t, err, codes.Unauthenticated, "invalid_credentials")
	require.Empty(t, hdr.Get(sessionkv.HeaderSetSession))

	_, _, err = h.login(t, "nobody@example.com", password, "192.0.2.2")
	requireAppErr(t, err, codes.Unauthenticated, "invalid_credentials")

	_, _, err = h.login(t, "orphan@example.com", password, "192.0.2.2")
	requireAppErr(t, err, codes.Unauthenticated, "invalid_credentials")

	_, _, err = h.login(t, "not-an-email", password, "192.0.2.2")
	e := requireAppErr(t, err, codes.InvalidArgument, "validation_failed")
	require.Equal(t, []apperr.FieldViolation{{Field: "email", Reason: "malformed"}}, e.Fields, "identity's error is passed on unchanged")

	// Missing credentials are refused before identity is asked.
	_, _, err = h.login(t, "", "", "192.0.2.2")
	e = requireAppErr(t, err, codes.InvalidArgument, "validation_failed")
	require.Equal(t, []apperr.FieldViolation{{Field: "email", Reason: "required"}, {Field: "password", Reason: "required"}}, e.Fields)
}

func TestLoginThrottle(t *testing.T) {
	h := newHarness(t, "")

	for range 10 {
		_, _, err := h.login(t, "ada@example.com", "wrong", "192.0.2.3")
		requireAppErr(t, err, codes.Unauthenticated, "invalid_credentials")
	}
	_, _, err := h.login(t, "ADA@example.com", password, "192.0.2.4")
	e := requireAppErr(t, err, codes.ResourceExhausted, "rate_limited")
	require.Greater(t, e.RetryAfter, 14*time.Minute, "retry after the rest of the 15-minute window")
	require.LessOrEqual(t, e.RetryAfter, 15*time.Minute)

	// Another account is not affected.
	_, _, err = h.login(t, "admin@example.com", password, "192.0.2.4")
	require.NoError(t, err)
}

func TestLoginSuccessResetsAccountThrottle(t *testing.T) {
	h := newHarness(t, "")
	for range 9 {
		_, _, err := h.login(t, "ada@example.com", "wrong", "192.0.2.5")
		requireAppErr(t, err, codes.Unauthenticated, "invalid_credentials")
	}
	_, _, err := h.login(t, "ada@example.com", password, "192.0.2.5")
	require.NoError(t, err)
	for range 10 {
		_, _, err := h.login(t, "ada@example.com", "wrong", "192.0.2.5")
		requireAppErr(t, err, codes.Unauthenticated, "invalid_credentials")
	}
	_, _, err = h.login(t, "ada@example.com", password, "192.0.2.5")
	requireAppErr(t, err, codes.ResourceExhausted, "rate_limited")
}

func TestLoginMFA(t *testing.T) {
	h := newHarness(t, "")
	res, hdr, err := h.login(t, "mfa@example.com", password, "192.0.2.6")
	require.NoError(t, err)
	require.True(t, res.GetMfaRequired())
	require.Nil(t, res.GetSession())
	require.Empty(t, hdr.Get(sessionkv.HeaderSetSession), "no session before the second factor")
	token := one(hdr, sessionkv.HeaderSetMFA)
	_, err = sessionkv.ParseToken(token)
	require.NoError(t, err)
	maxAge, err := strconv.Atoi(one(hdr, sessionkv.HeaderCookieMaxAge))
	require.NoError(t, err)
	require.InDelta(t, 300, maxAge, 2)

	v, err := h.client.Validate(h.service(t), &sessionv1.ValidateRequest{Token: token})
	require.NoError(t, err)
	require.Equal(t, authzv1.SessionState_SESSION_STATE_MFA_PENDING, v.GetRecord().GetState())
	require.WithinDuration(t, time.Now().Add(5*time.Minute), v.GetRecord().GetAbsoluteExpiresAt().AsTime(), 5*time.Second)

	// The MFA step then opens the real session through Create.
	c, err := h.client.Create(h.service(t), &sessionv1.CreateRequest{
		UserId: "u-mfa", OrgId: "o-acme", AuthLevel: authzv1.AuthLevel_AUTH_LEVEL_MFA, Ip: "192.0.2.6",
	})
	require.NoError(t, err)
	require.NotEqual(t, token, c.GetToken(), "a new token: no fixation")
	require.True(t, c.GetSession().GetMfaVerified())
	require.Equal(t, []string{"alerts:read", "members:write"}, c.GetSession().GetPermissions())

	_, err = h.client.Create(h.service(t), &sessionv1.CreateRequest{UserId: "u-mfa", OrgId: "o-other"})
	requireAppErr(t, err, codes.NotFound, "not_found")
}

func TestLoginEnrollmentRequired(t *testing.T) {
	h := newHarness(t, "")
	res, hdr, err := h.login(t, "admin@example.com", password, "192.0.2.7")
	require.NoError(t, err)
	require.False(t, res.GetMfaRequired())
	require.Empty(t, res.GetSession().GetPermissions(), "an enrolment-limited session holds no permission")
	v, err := h.client.Validate(h.service(t), &sessionv1.ValidateRequest{Token: one(hdr, sessionkv.HeaderSetSession)})
	require.NoError(t, err)
	require.Equal(t, authzv1.SessionState_SESSION_STATE_ENROLLMENT_REQUIRED, v.GetRecord().GetState())
}

func TestLogout(t *testing.T) {
	h := newHarness(t, "")
	_, hdr, err := h.login(t, "ada@example.com", password, "192.0.2.8")
	require.NoError(t, err)
	token := one(hdr, sessionkv.HeaderSetSession)
	ctx := h.user(t, token)

	var out metadata.MD
	_, err = h.client.Logout(ctx, &sessionv1.LogoutRequest{}, grpc.Header(&out))
	require.NoError(t, err)
	require.Equal(t, "1", one(out, sessionkv.HeaderClearSession))

	_, err = h.client.Validate(h.service(t), &sessionv1.ValidateRequest{Token: token})
	requireAppErr(t, err, codes.Unauthenticated, "unauthenticated")
	require.Contains(t, h.identity.auditTypes(), "session.logout")
}

func TestMySessions(t *testing.T) {
	h := newHarness(t, "")
	var tokens []string
	for range 3 {
		_, hdr, err := h.login(t, "ada@example.com", password, "192.0.2.9")
		require.NoError(t, err)
		tokens = append(tokens, one(hdr, sessionkv.HeaderSetSession))
	}
	_, otherHdr, err := h.login(t, "admin@example.com", password, "192.0.2.9")
	require.NoError(t, err)
	other, err := sessionkv.ParseToken(one(otherHdr, sessionkv.HeaderSetSession))
	require.NoError(t, err)

	me := h.user(t, tokens[0])
	list, err := h.client.ListMySessions(me, &sessionv1.ListMySessionsRequest{})
	require.NoError(t, err)
	require.Len(t, list.GetSessions(), 3)
	current := 0
	for _, s := range list.GetSessions() {
		if s.GetCurrent() {
			current++
		}
	}
	require.Equal(t, 1, current)

	_, err = h.client.RevokeMySession(h.user(t, tokens[0]), &sessionv1.RevokeMySessionRequest{Id: other.ID})
	requireAppErr(t, err, codes.NotFound, "not_found")
	_, err = h.client.RevokeMySession(h.user(t, tokens[0]), &sessionv1.RevokeMySessionRequest{Id: "../../etc"})
	requireAppErr(t, err, codes.NotFound, "not_found")

	second, err := sessionkv.ParseToken(tokens[1])
	require.NoError(t, err)
	_, err = h.client.RevokeMySession(h.user(t, tokens[0]), &sessionv1.RevokeMySessionRequest{Id: second.ID})
	require.NoError(t, err)

	_, err = h.client.RevokeMyOtherSessions(h.user(t, tokens[0]), &sessionv1.RevokeMyOtherSessionsRequest{})
	require.NoError(t, err)
	list, err = h.client.ListMySessions(h.user(t, tokens[0]), &sessionv1.ListMySessionsRequest{})
	require.NoError(t, err)
	require.Len(t, list.GetSessions(), 1)
	require.True(t, list.GetSessions()[0].GetCurrent())

	svcList, err := h.client.List(h.service(t), &sessionv1.ListRequest{UserId: "u-admin"})
	require.NoError(t, err)
	require.Len(t, svcList.GetSessions(), 1, "the other user's session survived")

	n, err := h.client.RevokeAllForUser(h.service(t), &sessionv1.RevokeAllForUserRequest{UserId: "u-admin"})
	require.NoError(t, err)
	require.Equal(t, int32(1), n.GetRevoked())
}

func TestAccessIsEnforced(t *testing.T) {
	h := newHarness(t, "")

	_, err := h.client.Login(context.Background(), &sessionv1.LoginRequest{Email: "ada@example.com", Password: password})
	require.Equal(t, codes.Unauthenticated, status.Code(err), "an unsigned call is refused")

	_, err = h.client.Validate(h.anonymous(t, "192.0.2.10"), &sessionv1.ValidateRequest{Token: "x"})
	require.Equal(t, codes.Unauthenticated, status.Code(err), "services only")

	_, hdr, err := h.login(t, "ada@example.com", password, "192.0.2.10")
	require.NoError(t, err)
	_, err = h.client.RevokeAllForUser(h.user(t, one(hdr, sessionkv.HeaderSetSession)), &sessionv1.RevokeAllForUserRequest{UserId: "u-admin"})
	require.Equal(t, codes.PermissionDenied, status.Code(err), "a user may not call a service RPC")
}

func TestIdentityUnreachableIsUnavailable(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close())
	h := newHarness(t, addr)
	_, _, err = h.login(t, "ada@example.com", password, "192.0.2.11")
	requireAppErr(t, err, codes.Unavailable, "unavailable")
}
