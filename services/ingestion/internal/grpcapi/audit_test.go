package grpcapi_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	identityv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/identity/v1"
	ingestionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/ingestion/v1"
	"github.com/watchtower/authplane/services/ingestion/internal/audit"
	"github.com/watchtower/authplane/services/ingestion/internal/postgres"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// outboxed is an audit event as the outbox holds it.
type outboxed struct {
	Type, ActorID, TargetID, IP, UserAgent string
	Data                                   map[string]string
}

func (e *env) outbox(org string) []outboxed {
	e.t.Helper()
	rows, err := e.pool.Query(context.Background(),
		`SELECT type, actor_id, target_id, ip, user_agent, data FROM audit_outbox WHERE org_id = $1 ORDER BY id`, org)
	require.NoError(e.t, err)
	defer rows.Close()
	var out []outboxed
	for rows.Next() {
		var o outboxed
		require.NoError(e.t, rows.Scan(&o.Type, &o.ActorID, &o.TargetID, &o.IP, &o.UserAgent, &o.Data))
		out = append(out, o)
	}
	require.NoError(e.t, rows.Err())
	return out
}

// admin is an org admin's principal as the gateway signs it.
func (e *env) admin(org string) context.Context {
	return e.as(&authzv1.Principal{Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_USER, UserId: "usr_admin", OrgId: org, Role: "ADMIN",
		SessionState: authzv1.SessionState_SESSION_STATE_ACTIVE, ClientIp: "203.0.113.9", UserAgent: "console/1.0"})
}

func TestAuditedChangesWriteTheirEventInTheSameTransaction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	const org = "org-audit"
	ctx := e.admin(org)

	created, err := e.client.CreateApiKey(ctx, &ingestionv1.CreateApiKeyRequest{OrgId: org, Name: "core", Environment: "live", AllowedCidrs: []string{"10.0.0.0/8"}})
	require.NoError(t, err)
	id := created.GetApiKey().GetId()
	rotated, err := e.client.RotateApiKey(e.admin(org), &ingestionv1.RotateApiKeyRequest{OrgId: org, Id: id, GracePeriodSeconds: 60})
	require.NoError(t, err)
	_, err = e.client.RevokeApiKey(e.admin(org), &ingestionv1.RevokeApiKeyRequest{OrgId: org, Id: id})
	require.NoError(t, err)
	_, err = e.client.RevokeApiKey(e.admin(org), &ingestionv1.RevokeApiKeyRequest{OrgId: org, Id: id})
	require.NoError(t, err, "revocation is idempotent")
	_, err = e.client.UpdateControls(e.admin(org), &ingestionv1.UpdateControlsRequest{OrgId: org, ReviewAmount: proto.Float64(5000)})
	require.NoError(t, err)
	_, err = e.client.SetOrgAllowedCidrs(e.service(), &ingestionv1.SetOrgAllowedCidrsRequest{OrgId: org, AllowedCidrs: []string{"192.0.2.0/24", "198.51.100.7"}})
	require.NoError(t, err)

	// Refused changes record nothing.
	_, err = e.client.UpdateControls(e.admin(org), &ingestionv1.UpdateControlsRequest{OrgId: org, ReviewAmount: proto.Float64(-1)})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = e.client.RotateApiKey(e.admin(org), &ingestionv1.RotateApiKeyRequest{OrgId: org, Id: id})
	require.Error(t, err, "a revoked key cannot be rotated")

	got := e.outbox(org)
	admin := func(typ, target string, data map[string]string) outboxed {
		return outboxed{Type: typ, ActorID: "usr_admin", TargetID: target, IP: "203.0.113.9", UserAgent: "console/1.0", Data: data}
	}
	require.Equal(t, []outboxed{
		admin("api_key.created", id, map[string]string{"name": "core", "environment": "live", "prefix": created.GetApiKey().GetPrefix(),
			"allowedCidrs": "10.0.0.0/8", "allowedCidrsCount": "1"}),
		admin("api_key.rotated", id, map[string]string{"prefix": rotated.GetApiKey().GetPrefix(), "gracePeriodSeconds": "60"}),
		admin("api_key.revoked", id, map[string]string{}),
		admin("org.controls_updated", org, map[string]string{"reviewAmount": "5000", "blockAmount": "10000000",
			"velocityWindowSeconds": "600", "velocityMaxCount": "20", "previousReviewAmount": "1000000"}),
		{Type: "org.allowed_cidrs_updated", ActorID: "service:wtctl", TargetID: org, Data: map[string]string{
			"allowedCidrs": "192.0.2.0/24,198.51.100.7/32", "allowedCidrsCount": "2"}},
	}, got)
	for _, o := range got {
		for _, v := range o.Data {
			require.NotContains(t, v, created.GetSecret())
			require.NotContains(t, v, rotated.GetSecret())
		}
	}
}

func TestAuditCIDRListFitsIdentitysLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	cidrs := make([]string, 100)
	for i := range cidrs {
		cidrs[i] = "2001:db8:" + string(rune('a'+i%6)) + "::" + string(rune('a'+i/6%6)) + string(rune('a'+i/36)) + "/128"
	}
	_, err := e.client.SetOrgAllowedCidrs(e.service(), &ingestionv1.SetOrgAllowedCidrsRequest{OrgId: "org-big", AllowedCidrs: cidrs})
	require.NoError(t, err)
	got := e.outbox("org-big")
	require.Len(t, got, 1)
	require.Equal(t, "100", got[0].Data["allowedCidrsCount"])
	require.LessOrEqual(t, len(got[0].Data["allowedCidrs"]), 1024)
	require.NotEmpty(t, got[0].Data["allowedCidrs"])
}

// identitySink is identity's audit RPC over a real socket, answering with
// the code the test sets.
type identitySink struct {
	identityv1.UnimplementedIdentityServiceServer
	mu   sync.Mutex
	got  []*identityv1.RecordAuditEventRequest
	fail map[string]codes.Code // by event type
}

func (s *identitySink) RecordAuditEvent(_ context.Context, r *identityv1.RecordAuditEventRequest) (*identityv1.RecordAuditEventResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.fail[r.GetType()]; ok {
		return nil, status.Error(c, "refused")
	}
	s.got = append(s.got, r)
	return &identityv1.RecordAuditEventResponse{Id: "aud_x"}, nil
}

func (s *identitySink) set(typ string, c codes.Code) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c == codes.OK {
		delete(s.fail, typ)
		return
	}
	s.fail[typ] = c
}

func (s *identitySink) types() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.got {
		out = append(out, r.GetType())
	}
	return out
}

func startSink(t *testing.T) (*identitySink, identityv1.IdentityServiceClient) {
	sink := &identitySink{fail: map[string]codes.Code{}}
	srv := grpc.NewServer()
	identityv1.RegisterIdentityServiceServer(srv, sink)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })
	return sink, identityv1.NewIdentityServiceClient(cc)
}

func TestRelayDeliversInOrderKeepsWhatFailsAndDropsWhatIdentityRefuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	sink, client := startSink(t)
	relay := audit.New(audit.Options{Outbox: postgres.NewOutbox(e.pool), Sink: client, Batch: 2})
	const org = "org-relay"
	for _, amount := range []float64{100, 200, 300} {
		_, err := e.client.UpdateControls(e.admin(org), &ingestionv1.UpdateControlsRequest{OrgId: org, ReviewAmount: proto.Float64(amount)})
		require.NoError(t, err)
	}
	created, err := e.client.CreateApiKey(e.admin(org), &ingestionv1.CreateApiKeyRequest{OrgId: org, Name: "k", Environment: "test"})
	require.NoError(t, err)
	_, err = e.client.RevokeApiKey(e.admin(org), &ingestionv1.RevokeApiKeyRequest{OrgId: org, Id: created.GetApiKey().GetId()})
	require.NoError(t, err)

	// Identity is down for key events: the controls go through, the key
	// events (and nothing after them) stay.
	sink.set("api_key.created", codes.Unavailable)
	require.Equal(t, 3, relay.Flush(context.Background()))
	require.Equal(t, []string{"org.controls_updated", "org.controls_updated", "org.controls_updated"}, sink.types())
	require.Len(t, e.outbox(org), 2)
	var attempts int
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT attempts FROM audit_outbox WHERE org_id = $1 ORDER BY id LIMIT 1`, org).Scan(&attempts))
	require.Equal(t, 1, attempts)

	// Identity refuses one for good (unknown org): it is dropped, the
	// rest is delivered.
	sink.set("api_key.created", codes.NotFound)
	require.Equal(t, 2, relay.Flush(context.Background()))
	require.Equal(t, []string{"org.controls_updated", "org.controls_updated", "org.controls_updated", "api_key.revoked"}, sink.types())
	require.Empty(t, e.outbox(org))

	first := sink.got[0]
	require.Equal(t, org, first.GetOrgId())
	require.Equal(t, "usr_admin", first.GetActorId())
	require.Equal(t, "203.0.113.9", first.GetIp())
	require.Equal(t, "console/1.0", first.GetUserAgent())
	require.Equal(t, "100", first.GetData()["reviewAmount"])
	// Delivered late, dated when the change committed.
	var latest time.Time
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT now()`).Scan(&latest))
	require.NotNil(t, first.GetOccurredAt(), "the commit time travels with the event")
	require.False(t, first.GetOccurredAt().AsTime().After(latest))
	require.WithinDuration(t, latest, first.GetOccurredAt().AsTime(), time.Minute)
	require.True(t, first.GetOccurredAt().AsTime().Before(sink.got[3].GetOccurredAt().AsTime()), "in commit order")
}

func TestRelayRunDeliversOnNotify(t *testing.T) {
	t.Parallel()
	sink, client := startSink(t)
	e := newEnv(t, envOptions{auditSink: client}) // the relay runs with an hourly round

	_, err := e.client.UpdateControls(e.admin("org-run"), &ingestionv1.UpdateControlsRequest{OrgId: "org-run", VelocityMaxCount: proto.Int32(7)})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(sink.types()) == 1 }, 5*time.Second, 5*time.Millisecond,
		"delivered on the notification, not on the hourly round")
	// The round deletes its events in its own commit, after the sink has them.
	require.Eventually(t, func() bool { return len(e.outbox("org-run")) == 0 }, 5*time.Second, 5*time.Millisecond)
}

// A patch that changes nothing (empty, or the values already stored) is
// answered with the controls but writes no audit event.
func TestControlsPatchThatChangesNothingIsNotAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	const org = "org-noop"
	for _, req := range []*ingestionv1.UpdateControlsRequest{
		{OrgId: org},
		{OrgId: org, ReviewAmount: proto.Float64(1000000), VelocityMaxCount: proto.Int32(20)},
	} {
		res, err := e.client.UpdateControls(e.admin(org), req)
		require.NoError(t, err)
		require.Equal(t, int32(20), res.GetControls().GetVelocityMaxCount())
	}
	require.Empty(t, e.outbox(org))
	_, err := e.client.UpdateControls(e.admin(org), &ingestionv1.UpdateControlsRequest{OrgId: org, VelocityMaxCount: proto.Int32(21)})
	require.NoError(t, err)
	got := e.outbox(org)
	require.Len(t, got, 1)
	require.Equal(t, "20", got[0].Data["previousVelocityMaxCount"])
	require.NotContains(t, got[0].Data, "previousReviewAmount")
}

// Regression: UpdateControls read the controls, then wrote the whole row,
// so of two concurrent partial updates of different fields one was lost
// although both were answered 200 (14 of 30 rounds in a trial).
func TestConcurrentPartialControlsUpdatesAllTakeEffect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	const org = "org-race"
	const rounds = 10
	for i := range rounds {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Go(func() {
			_, errs[0] = e.client.UpdateControls(e.admin(org), &ingestionv1.UpdateControlsRequest{OrgId: org, ReviewAmount: proto.Float64(float64(2000 + i))})
		})
		wg.Go(func() {
			_, errs[1] = e.client.UpdateControls(e.admin(org), &ingestionv1.UpdateControlsRequest{OrgId: org, VelocityMaxCount: proto.Int32(int32(30 + i))})
		})
		wg.Wait()
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
		got, err := e.client.GetControls(e.admin(org), &ingestionv1.GetControlsRequest{OrgId: org})
		require.NoError(t, err)
		require.InDelta(t, float64(2000+i), got.GetControls().GetReviewAmount(), 0, "round %d", i)
		require.Equal(t, int32(30+i), got.GetControls().GetVelocityMaxCount(), "round %d", i)
	}
	require.Len(t, e.outbox(org), 2*rounds, "every change audited once")
	// Regression: events were dated when their transaction began, so a
	// change that waited for the lock was dated before the one it waited
	// for. Dated when written, their time order is the order of the changes.
	var misordered int
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM (
SELECT id, lag(created_at) OVER (ORDER BY id) AS before, created_at FROM audit_outbox WHERE org_id = $1) x
WHERE before > created_at`, org).Scan(&misordered))
	require.Zero(t, misordered)
}
