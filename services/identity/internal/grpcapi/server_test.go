package grpcapi_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/platform/grpcclient"
	"github.com/watchtower/authplane/platform/grpcserver"
	"github.com/watchtower/authplane/platform/principal"
	"github.com/watchtower/authplane/platform/testenv"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	identityv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/identity/v1"
	"github.com/watchtower/authplane/services/identity/internal/argon2id"
	"github.com/watchtower/authplane/services/identity/internal/grpcapi"
	"github.com/watchtower/authplane/services/identity/internal/identity"
	"github.com/watchtower/authplane/services/identity/internal/postgres"
	"github.com/watchtower/authplane/services/identity/migrations"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const (
	adminPassword = "correct horse battery staple"
	adminEmail    = "alice@example.com"
)

// countingHasher wraps the real hasher, counts its work and remembers the
// hashes it was asked to verify; with a gate it holds every Verify until
// the gate closes, after signalling entered.
type countingHasher struct {
	inner    *argon2id.Hasher
	hashes   atomic.Int64
	verifies atomic.Int64

	mu       sync.Mutex
	verified []string

	gate    chan struct{}
	entered chan struct{}
}

func (h *countingHasher) Hash(password string) (string, error) {
	h.hashes.Add(1)
	return h.inner.Hash(password)
}

func (h *countingHasher) Verify(phc, password string) (bool, bool, error) {
	h.verifies.Add(1)
	h.mu.Lock()
	h.verified = append(h.verified, phc)
	h.mu.Unlock()
	if h.gate != nil {
		h.entered <- struct{}{}
		<-h.gate
	}
	return h.inner.Verify(phc, password)
}

func (h *countingHasher) reset() {
	h.hashes.Store(0)
	h.verifies.Store(0)
	h.mu.Lock()
	h.verified = nil
	h.mu.Unlock()
}

func (h *countingHasher) lastVerified() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.verified[len(h.verified)-1]
}

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type env struct {
	addr   string
	keys   *principal.Keyring
	client identityv1.IdentityServiceClient
	pool   *pgxpool.Pool
	hasher *countingHasher
	logs   *syncBuffer
}

type envOptions struct {
	maxHashes int
	hashWait  time.Duration
	gated     bool
}

// start runs the real gRPC server on 127.0.0.1:0 against a fresh database
// and returns a client that signs a wtctl service principal on each call.
func start(t testing.TB, o envOptions) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("needs Postgres")
	}
	ctx, cancel := context.WithCancel(context.Background())
	pool := testenv.PostgresPool(t, migrations.Schema, migrations.FS, 8)

	real, err := argon2id.New(argon2id.DefaultParams, nil)
	require.NoError(t, err)
	h := &countingHasher{inner: real}
	svc, err := identity.NewService(identity.Options{
		Store: postgres.New(pool), Hasher: h, MaxConcurrentHashes: o.maxHashes, HashWait: o.hashWait,
	})
	require.NoError(t, err)
	require.Equal(t, int64(1), h.hashes.Load(), "the dummy hash is made once at start-up")
	h.reset()
	if o.gated {
		h.gate, h.entered = make(chan struct{}), make(chan struct{}, 16)
	}

	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	keys, _ := testenv.Keyring(t)
	srv := grpcserver.New(grpcserver.Options{Logger: log, Keyring: keys})
	identityv1.RegisterIdentityServiceServer(srv, grpcapi.NewServer(svc))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.ServeListener(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})

	conn, err := grpcclient.Dial(lis.Addr().String(), "wtctl", keys)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return &env{addr: lis.Addr().String(), keys: keys, client: identityv1.NewIdentityServiceClient(conn), pool: pool, hasher: h, logs: logs}
}

func (e *env) bootstrap(t testing.TB, email string) *identityv1.BootstrapResponse {
	t.Helper()
	res, err := e.client.Bootstrap(context.Background(), &identityv1.BootstrapRequest{
		OrgName: "Acme Bank", Email: email, Name: "Alice", Password: adminPassword,
	})
	require.NoError(t, err)
	return res
}

// requireStatus checks the gRPC code and the ErrorInfo reason of err.
func requireStatus(t *testing.T, err error, code codes.Code, reason string) *status.Status {
	t.Helper()
	st, ok := status.FromError(err)
	require.True(t, ok, "not a status: %v", err)
	require.Equal(t, code, st.Code(), st.Message())
	require.Equal(t, reason, reasonOf(st))
	return st
}

func reasonOf(st *status.Status) string {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

func fieldsOf(st *status.Status) map[string]string {
	out := map[string]string{}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, f := range br.GetFieldViolations() {
				out[f.GetField()] = f.GetDescription()
			}
		}
	}
	return out
}

func TestBootstrapThenVerifyPassword(t *testing.T) {
	e := start(t, envOptions{})
	ctx := context.Background()
	boot := e.bootstrap(t, "  Alice@Example.com ")
	require.Regexp(t, `^org_[a-z2-7]{26}$`, boot.GetOrgId())
	require.Regexp(t, `^usr_[a-z2-7]{26}$`, boot.GetUserId())

	res, err := e.client.VerifyPassword(ctx, &identityv1.VerifyPasswordRequest{Email: adminEmail, Password: adminPassword})
	require.NoError(t, err)
	require.Equal(t, boot.GetUserId(), res.GetUser().GetId())
	require.Equal(t, adminEmail, res.GetUser().GetEmail())
	require.Equal(t, "Alice", res.GetUser().GetName())
	require.False(t, res.GetUser().GetDisabled())
	require.False(t, res.GetUser().GetMfaEnabled())
	require.Len(t, res.GetMemberships(), 1)
	m := res.GetMemberships()[0]
	require.Equal(t, boot.GetOrgId(), m.GetOrgId())
	require.Equal(t, "Acme Bank", m.GetOrgName())
	require.Equal(t, "ADMIN", m.GetRole())
	require.True(t, m.GetMfaRequired(), "the default policy requires MFA of ADMIN")
	require.WithinDuration(t, time.Now(), m.GetJoinedAt().AsTime(), time.Minute)

	got, err := e.client.GetUser(ctx, &identityv1.GetUserRequest{UserId: boot.GetUserId()})
	require.NoError(t, err)
	require.Equal(t, res.GetUser().GetEmail(), got.GetUser().GetEmail())
	require.Len(t, got.GetMemberships(), 1)

	var typ, actor, target string
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT type, actor_id, target_id FROM audit_events WHERE org_id = $1`, boot.GetOrgId()).Scan(&typ, &actor, &target))
	require.Equal(t, "org.bootstrapped", typ)
	require.Equal(t, "service:wtctl", actor)
	require.Equal(t, boot.GetOrgId(), target)
}

func TestVerifyPasswordFailuresLookAlike(t *testing.T) {
	e := start(t, envOptions{})
	ctx := context.Background()
	e.bootstrap(t, adminEmail)
	disabled := e.bootstrap(t, "bob@example.com")
	_, err := e.pool.Exec(ctx, `UPDATE users SET disabled = true WHERE id = $1`, disabled.GetUserId())
	require.NoError(t, err)

	var messages []string
	for _, tt := range []struct {
		name, email, password string
	}{
		{name: "wrong password", email: adminEmail, password: adminPassword + "x"},
		{name: "unknown email", email: "mallory@example.com", password: adminPassword},
		{name: "disabled user with the right password", email: "bob@example.com", password: adminPassword},
		{name: "empty password", email: adminEmail, password: ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.hasher.reset()
			_, err := e.client.VerifyPassword(ctx, &identityv1.VerifyPasswordRequest{Email: tt.email, Password: tt.password})
			st := requireStatus(t, err, codes.Unauthenticated, "invalid_credentials")
			messages = append(messages, st.Message())
			require.Equal(t, int64(1), e.hasher.verifies.Load(), "one full verification")
			require.Zero(t, e.hasher.hashes.Load())
		})
	}
	for _, m := range messages {
		require.Equal(t, messages[0], m)
	}
}

// TestHashWorkIsTheSameForKnownAndUnknownEmail checks timing equivalence
// structurally: every outcome runs exactly one Verify, against a hash with
// the same parameters, and no other hashing.
func TestHashWorkIsTheSameForKnownAndUnknownEmail(t *testing.T) {
	e := start(t, envOptions{})
	ctx := context.Background()
	e.bootstrap(t, adminEmail)

	paramsOf := func(email, password string) argon2id.Params {
		t.Helper()
		e.hasher.reset()
		_, _ = e.client.VerifyPassword(ctx, &identityv1.VerifyPasswordRequest{Email: email, Password: password})
		require.Equal(t, int64(1), e.hasher.verifies.Load())
		require.Zero(t, e.hasher.hashes.Load())
		d, err := argon2id.Parse(e.hasher.lastVerified())
		require.NoError(t, err)
		return d.Params
	}
	known := paramsOf(adminEmail, adminPassword)
	require.Equal(t, argon2id.DefaultParams, known)
	require.Equal(t, known, paramsOf(adminEmail, "wrong password here"))
	require.Equal(t, known, paramsOf("nobody@example.com", adminPassword))
	require.Equal(t, known, paramsOf("someone.else@example.org", ""))
}

func TestVerifyPasswordEmailForms(t *testing.T) {
	e := start(t, envOptions{})
	ctx := context.Background()
	boot := e.bootstrap(t, "jos\u00e9@example.com")
	for _, tt := range []struct{ name, email string }{
		{name: "as stored", email: "jos\u00e9@example.com"},
		{name: "upper case", email: "JOS\u00c9@EXAMPLE.COM"},
		{name: "surrounding spaces", email: "  jos\u00e9@example.com\t"},
		{name: "NFD", email: "jose\u0301@example.com"},
		{name: "NFD upper with spaces", email: " JOSE\u0301@Example.Com "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.client.VerifyPassword(ctx, &identityv1.VerifyPasswordRequest{Email: tt.email, Password: adminPassword})
			require.NoError(t, err)
			require.Equal(t, boot.GetUserId(), res.GetUser().GetId())
		})
	}
}

func TestOversizedPasswordIsRefusedWithoutHashing(t *testing.T) {
	e := start(t, envOptions{})
	ctx := context.Background()
	e.bootstrap(t, adminEmail)
	e.hasher.reset()
	huge := strings.Repeat("p", 10*1024)

	_, err := e.client.VerifyPassword(ctx, &identityv1.VerifyPasswordRequest{Email: adminEmail, Password: huge})
	st := requireStatus(t, err, codes.InvalidArgument, "validation_failed")
	require.Equal(t, map[string]string{"password": "too_long"}, fieldsOf(st))

	_, err = e.client.Bootstrap(ctx, &identityv1.BootstrapRequest{OrgName: "Other", Email: "carol@example.com", Password: huge})
	st = requireStatus(t, err, codes.InvalidArgument, "validation_failed")
	require.Equal(t, map[string]string{"password": "too_long"}, fieldsOf(st))

	require.Zero(t, e.hasher.verifies.Load())
	require.Zero(t, e.hasher.hashes.Load())
}

func TestCallersWithoutAValidServicePrincipalAreRefused(t *testing.T) {
	e := start(t, envOptions{})
	e.bootstrap(t, adminEmail)
	conn, err := grpc.NewClient(e.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	raw := identityv1.NewIdentityServiceClient(conn)
	otherKeys, _ := testenv.Keyring(t)

	signed := func(keys *principal.Keyring, p *authzv1.Principal, sendRID string) context.Context {
		wire, err := keys.Sign(p)
		require.NoError(t, err)
		return metadata.AppendToOutgoingContext(context.Background(), principal.MetadataKey, wire, "x-request-id", sendRID)
	}
	service := func() *authzv1.Principal {
		return &authzv1.Principal{Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_SERVICE, Service: "session", RequestId: "req-1"}
	}
	for _, tt := range []struct {
		name string
		ctx  context.Context
		code codes.Code
	}{
		{name: "no principal", ctx: metadata.AppendToOutgoingContext(context.Background(), "x-request-id", "req-1"), code: codes.Unauthenticated},
		{name: "garbage principal", ctx: metadata.AppendToOutgoingContext(context.Background(), principal.MetadataKey, "v1.test.AAAA.BBBB", "x-request-id", "req-1"), code: codes.Unauthenticated},
		{name: "signed with another key", ctx: signed(otherKeys, service(), "req-1"), code: codes.Unauthenticated},
		{name: "signed for another request id", ctx: signed(e.keys, service(), "req-2"), code: codes.Unauthenticated},
		{name: "anonymous principal", ctx: signed(e.keys, &authzv1.Principal{Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_ANONYMOUS, RequestId: "req-1"}, "req-1"), code: codes.Unauthenticated},
		{name: "user principal", ctx: signed(e.keys, &authzv1.Principal{Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_USER, UserId: "usr_x", OrgId: "org_x", Role: "ADMIN",
			SessionState: authzv1.SessionState_SESSION_STATE_ACTIVE, RequestId: "req-1"}, "req-1"), code: codes.PermissionDenied},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.hasher.reset()
			_, err := raw.VerifyPassword(tt.ctx, &identityv1.VerifyPasswordRequest{Email: adminEmail, Password: adminPassword})
			require.Equal(t, tt.code, status.Code(err), "%v", err)
			require.Zero(t, e.hasher.verifies.Load(), "refused before any hashing")
		})
	}

	// The same raw client with a correctly signed service principal succeeds,
	// so the refusals above are about the principal alone.
	_, err = raw.VerifyPassword(signed(e.keys, service(), "req-1"), &identityv1.VerifyPasswordRequest{Email: adminEmail, Password: adminPassword})
	require.NoError(t, err)
}

func TestBootstrapErrors(t *testing.T) {
	e := start(t, envOptions{})
	ctx := context.Background()
	e.bootstrap(t, adminEmail)
	for _, tt := range []struct {
		name   string
		req    *identityv1.BootstrapRequest
		code   codes.Code
		reason string
		fields map[string]string
	}{
		{name: "email taken in another spelling", req: &identityv1.BootstrapRequest{OrgName: "Other", Email: " ALICE@example.com", Password: adminPassword},
			code: codes.AlreadyExists, reason: "email_taken"},
		{name: "weak password", req: &identityv1.BootstrapRequest{OrgName: "Other", Email: "carol@example.com", Password: "short"},
			code: codes.InvalidArgument, reason: "weak_password"},
		{name: "missing org name and bad email", req: &identityv1.BootstrapRequest{OrgName: "  ", Email: "carol", Password: adminPassword},
			code: codes.InvalidArgument, reason: "validation_failed", fields: map[string]string{"org_name": "required", "email": "invalid"}},
		{name: "control character in name", req: &identityv1.BootstrapRequest{OrgName: "Other", Email: "carol@example.com", Name: "Ca\x00rol", Password: adminPassword},
			code: codes.InvalidArgument, reason: "validation_failed", fields: map[string]string{"name": "invalid"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.client.Bootstrap(ctx, tt.req)
			st := requireStatus(t, err, tt.code, tt.reason)
			if tt.fields != nil {
				require.Equal(t, tt.fields, fieldsOf(st))
			}
		})
	}
	var orgs int
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM organizations`).Scan(&orgs))
	require.Equal(t, 1, orgs)
}

func TestGetUserNotFound(t *testing.T) {
	e := start(t, envOptions{})
	_, err := e.client.GetUser(context.Background(), &identityv1.GetUserRequest{UserId: "usr_missing"})
	requireStatus(t, err, codes.NotFound, "not_found")
	_, err = e.client.GetUser(context.Background(), &identityv1.GetUserRequest{})
	requireStatus(t, err, codes.InvalidArgument, "validation_failed")
}

func TestRecordAuditEvent(t *testing.T) {
	e := start(t, envOptions{})
	ctx := context.Background()
	boot := e.bootstrap(t, adminEmail)

	res, err := e.client.RecordAuditEvent(ctx, &identityv1.RecordAuditEventRequest{
		OrgId: boot.GetOrgId(), Type: "member.role_changed", ActorId: boot.GetUserId(), TargetId: "usr_other",
		Ip: "2001:db8::1", UserAgent: "console/1.0", Data: map[string]string{"from": "VIEWER", "to": "ANALYST"},
	})
	require.NoError(t, err)
	require.Regexp(t, `^aud_[a-z2-7]{26}$`, res.GetId())
	require.WithinDuration(t, time.Now(), res.GetAt().AsTime(), time.Minute)
	var typ, ip, data string
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT type, ip, data::text FROM audit_events WHERE id = $1 AND org_id = $2`, res.GetId(), boot.GetOrgId()).Scan(&typ, &ip, &data))
	require.Equal(t, "member.role_changed", typ)
	require.Equal(t, "2001:db8::1", ip)
	require.JSONEq(t, `{"from":"VIEWER","to":"ANALYST"}`, data)

	// A relayed event keeps the time it happened; a future time is now.
	past := time.Now().Add(-90 * time.Second).UTC().Truncate(time.Microsecond)
	for _, tc := range []struct {
		name string
		at   time.Time
		want func(got time.Time)
	}{
		{"in the past", past, func(got time.Time) { require.True(t, got.Equal(past), "got %v want %v", got, past) }},
		{"in the future", time.Now().Add(time.Hour), func(got time.Time) { require.WithinDuration(t, time.Now(), got, time.Minute) }},
	} {
		t.Run("occurred "+tc.name, func(t *testing.T) {
			res, err := e.client.RecordAuditEvent(ctx, &identityv1.RecordAuditEventRequest{
				OrgId: boot.GetOrgId(), Type: "api_key.created", OccurredAt: timestamppb.New(tc.at)})
			require.NoError(t, err)
			tc.want(res.GetAt().AsTime())
			var stored time.Time
			require.NoError(t, e.pool.QueryRow(ctx, `SELECT at FROM audit_events WHERE id = $1`, res.GetId()).Scan(&stored))
			tc.want(stored)
		})
	}

	for _, tt := range []struct {
		name   string
		req    *identityv1.RecordAuditEventRequest
		code   codes.Code
		reason string
		fields map[string]string
	}{
		{name: "ip with port", req: &identityv1.RecordAuditEventRequest{OrgId: boot.GetOrgId(), Type: "x.y", Ip: "[2001:db8::1]:443"}, code: codes.OK},
		{name: "unknown org", req: &identityv1.RecordAuditEventRequest{OrgId: "org_missing", Type: "x.y"}, code: codes.NotFound, reason: "not_found"},
		{name: "missing org and type", req: &identityv1.RecordAuditEventRequest{}, code: codes.InvalidArgument, reason: "validation_failed",
			fields: map[string]string{"org_id": "required", "type": "required"}},
		{name: "bad type and ip", req: &identityv1.RecordAuditEventRequest{OrgId: boot.GetOrgId(), Type: "Member Changed", Ip: "not-an-ip"},
			code: codes.InvalidArgument, reason: "validation_failed", fields: map[string]string{"type": "invalid", "ip": "invalid"}},
		{name: "NUL in data", req: &identityv1.RecordAuditEventRequest{OrgId: boot.GetOrgId(), Type: "x.y", Data: map[string]string{"k": "a\x00b"}},
			code: codes.InvalidArgument, reason: "validation_failed", fields: map[string]string{"data.k": "invalid"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.client.RecordAuditEvent(ctx, tt.req)
			if tt.code == codes.OK {
				require.NoError(t, err)
				return
			}
			st := requireStatus(t, err, tt.code, tt.reason)
			if tt.fields != nil {
				require.Equal(t, tt.fields, fieldsOf(st))
			}
		})
	}
}

func TestOutdatedHashIsUpgradedOnLogin(t *testing.T) {
	e := start(t, envOptions{})
	ctx := context.Background()
	boot := e.bootstrap(t, adminEmail)
	older, err := argon2id.New(argon2id.Params{MemoryKiB: 19456, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}, nil)
	require.NoError(t, err)
	old, err := older.Hash(adminPassword)
	require.NoError(t, err)
	_, err = e.pool.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, boot.GetUserId(), old)
	require.NoError(t, err)
	e.hasher.reset()

	_, err = e.client.VerifyPassword(ctx, &identityv1.VerifyPasswordRequest{Email: adminEmail, Password: adminPassword})
	require.NoError(t, err)
	require.Equal(t, int64(1), e.hasher.hashes.Load())
	var stored string
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, boot.GetUserId()).Scan(&stored))
	d, err := argon2id.Parse(stored)
	require.NoError(t, err)
	require.Equal(t, argon2id.DefaultParams, d.Params)

	// The upgraded hash still verifies, and needs no further rehash.
	e.hasher.reset()
	_, err = e.client.VerifyPassword(ctx, &identityv1.VerifyPasswordRequest{Email: adminEmail, Password: adminPassword})
	require.NoError(t, err)
	require.Zero(t, e.hasher.hashes.Load())
}

func TestSaturatedHashingIsRateLimited(t *testing.T) {
	e := start(t, envOptions{maxHashes: 1, hashWait: 50 * time.Millisecond})
	ctx := context.Background()
	e.bootstrap(t, adminEmail)
	e.hasher.gate, e.hasher.entered = make(chan struct{}), make(chan struct{}, 4)

	first := make(chan error, 1)
	go func() {
		_, err := e.client.VerifyPassword(ctx, &identityv1.VerifyPasswordRequest{Email: adminEmail, Password: adminPassword})
		first <- err
	}()
	<-e.hasher.entered // the only slot is now held

	_, err := e.client.VerifyPassword(ctx, &identityv1.VerifyPasswordRequest{Email: adminEmail, Password: adminPassword})
	st := requireStatus(t, err, codes.ResourceExhausted, "rate_limited")
	var retry string
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			retry = info.GetMetadata()[apperr.MetaRetryAfter]
		}
	}
	require.Equal(t, "1", retry)

	close(e.hasher.gate)
	require.NoError(t, <-first)
}

func TestPasswordsAreNeverLogged(t *testing.T) {
	e := start(t, envOptions{})
	ctx := context.Background()
	const secret = "Sup3r-Secret-Passw0rd-Marker"
	_, err := e.client.Bootstrap(ctx, &identityv1.BootstrapRequest{OrgName: "Acme", Email: adminEmail, Password: secret})
	require.NoError(t, err)
	_, err = e.client.VerifyPassword(ctx, &identityv1.VerifyPasswordRequest{Email: adminEmail, Password: secret})
	require.NoError(t, err)
	_, err = e.client.VerifyPassword(ctx, &identityv1.VerifyPasswordRequest{Email: adminEmail, Password: secret + "-wrong"})
	require.Error(t, err)
	_, err = e.client.Bootstrap(ctx, &identityv1.BootstrapRequest{OrgName: "Acme", Email: "x@example.com", Password: "weak-" + secret[:3]})
	require.Error(t, err)
	logs := e.logs.String()
	require.Contains(t, logs, "grpc call", "the calls were logged")
	require.NotContains(t, logs, secret)
	require.NotContains(t, logs, "argon2id$", "no password hash either")
}

// BenchmarkVerifyPasswordRPC is one login's cost at the identity service:
// a signed loopback gRPC call, the Postgres look-ups and one argon2id
// verification with the default parameters.
func BenchmarkVerifyPasswordRPC(b *testing.B) {
	e := start(b, envOptions{})
	e.bootstrap(b, adminEmail)
	for _, bb := range []struct{ name, email, password string }{
		{name: "unknown email", email: "nobody@example.com", password: adminPassword},
		{name: "known email", email: adminEmail, password: adminPassword},
		{name: "wrong password", email: adminEmail, password: "wrong password!"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			req := &identityv1.VerifyPasswordRequest{Email: bb.email, Password: bb.password}
			for b.Loop() {
				_, err := e.client.VerifyPassword(context.Background(), req)
				if bb.password == adminPassword && bb.email == adminEmail && err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
