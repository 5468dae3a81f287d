package grpcapi_test

import (
	"bytes"
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/grpcserver"
	"github.com/watchtower/authplane/platform/logging"
	"github.com/watchtower/authplane/platform/principal"
	"github.com/watchtower/authplane/platform/requestid"
	"github.com/watchtower/authplane/platform/testenv"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	identityv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/identity/v1"
	ingestionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/ingestion/v1"
	"github.com/watchtower/authplane/services/ingestion/apikey"
	"github.com/watchtower/authplane/services/ingestion/internal/audit"
	"github.com/watchtower/authplane/services/ingestion/internal/grpcapi"
	"github.com/watchtower/authplane/services/ingestion/internal/ingest"
	"github.com/watchtower/authplane/services/ingestion/internal/postgres"
	wtredis "github.com/watchtower/authplane/services/ingestion/internal/redis"
	"github.com/watchtower/authplane/services/ingestion/migrations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// countingKeys counts secret look-ups and by-id calls of the real store.
type countingKeys struct {
	*postgres.Keys
	lookups atomic.Int64
	byID    atomic.Int64
	// beforeRotate, when set, runs between the service's look-up of a key
	// and its rotation (to race a revocation in).
	beforeRotate atomic.Pointer[func()]
}

func (c *countingKeys) GetKey(ctx context.Context, orgID, id string) (*ingest.APIKey, error) {
	c.byID.Add(1)
	return c.Keys.GetKey(ctx, orgID, id)
}

func (c *countingKeys) RotateKey(ctx context.Context, orgID, id, newHash, newPrefix string, graceUntil *time.Time, now time.Time, ev ingest.AuditEvent) (*ingest.APIKey, error) {
	c.byID.Add(1)
	if f := c.beforeRotate.Load(); f != nil {
		(*f)()
	}
	return c.Keys.RotateKey(ctx, orgID, id, newHash, newPrefix, graceUntil, now, ev)
}

func (c *countingKeys) RevokeKey(ctx context.Context, orgID, id string, now time.Time, ev ingest.AuditEvent) error {
	c.byID.Add(1)
	return c.Keys.RevokeKey(ctx, orgID, id, now, ev)
}

func (c *countingKeys) LookupKey(ctx context.Context, hash string, now time.Time) (*ingest.VerifiedKey, error) {
	c.lookups.Add(1)
	return c.Keys.LookupKey(ctx, hash, now)
}

// failingTxs is the real transaction store with an injectable failure
// before the commit, or a corruption (a U+0000 slipped into the reference)
// that the real Postgres refuses with a data exception.
type failingTxs struct {
	*postgres.Transactions
	fail    atomic.Bool
	corrupt atomic.Bool
}

func (f *failingTxs) Insert(ctx context.Context, t *ingest.StoredTx) error {
	if f.fail.Load() {
		return context.DeadlineExceeded
	}
	if f.corrupt.Load() {
		tx := *t.Tx
		tx.Reference += "\x00"
		bad := *t
		bad.Tx = &tx
		return f.Transactions.Insert(ctx, &bad)
	}
	return f.Transactions.Insert(ctx, t)
}

type env struct {
	t        testing.TB
	client   ingestionv1.IngestionServiceClient
	svc      *ingest.Service
	pool     *pgxpool.Pool
	rdb      goredis.UniversalClient
	prefix   string
	keyring  *principal.Keyring
	keys     *countingKeys
	txs      *failingTxs
	settings *postgres.Settings
	idem     *wtredis.Idempotency
	now      atomic.Pointer[time.Time]
}

type envOptions struct {
	lease time.Duration
	// redisURL overrides the Redis the service talks to (an unreachable one).
	deadRedis bool
	// auditSink, when set, receives the audit events: a relay runs with an
	// hourly round, so only the service's notifications make it deliver.
	auditSink identityv1.IdentityServiceClient
}

var pepper = bytes.Repeat([]byte("p"), 32)

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	pool := testenv.PostgresPool(t, migrations.Schema, migrations.FS, 40)
	rdb, prefix := testenv.Redis(t)
	svcRedis := rdb
	if o.deadRedis {
		svcRedis = goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	}
	kr, _ := testenv.Keyring(t)
	hasher, err := apikey.NewHasher(pepper)
	require.NoError(t, err)
	txs := postgres.NewTransactions(pool)
	idem := wtredis.NewIdempotency(svcRedis, prefix)
	idem.StartPipelining(t.Context(), 4, 16) // as in production
	txs.StartBatching(t.Context(), 4, 16)    // as in production: concurrent inserts share commits
	e := &env{t: t, pool: pool, rdb: rdb, prefix: prefix, keyring: kr,
		keys: &countingKeys{Keys: postgres.NewKeys(pool)}, txs: &failingTxs{Transactions: txs},
		settings: postgres.NewSettings(pool), idem: wtredis.NewIdempotency(rdb, prefix)}
	start := time.Now()
	e.now.Store(&start)
	log := logging.New(testWriter{t}, "ingestion-test", "warn")
	var notifier ingest.Notifier
	if o.auditSink != nil {
		relay := audit.New(audit.Options{Outbox: postgres.NewOutbox(pool), Sink: o.auditSink, Every: time.Hour, Logger: log})
		rctx, stop := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() { relay.Run(rctx); close(stopped) }()
		t.Cleanup(func() { stop(); <-stopped })
		notifier = relay
	}
	e.svc = ingest.New(ingest.Options{
		Keys: e.keys, Settings: e.settings, Txs: e.txs,
		Idempotency: idem,
		Events:      wtredis.NewEvents(svcRedis, prefix),
		Usage:       wtredis.NewUsage(svcRedis, prefix),
		Hasher:      hasher, Logger: log, Lease: o.lease, Audit: notifier,
		Now: func() time.Time { return *e.now.Load() },
	})
	srv := grpcserver.New(grpcserver.Options{Logger: log, Keyring: kr})
	ingestionv1.RegisterIngestionServiceServer(srv, grpcapi.New(e.svc))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.ServeListener(sctx, lis); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })
	e.client = ingestionv1.NewIngestionServiceClient(cc)
	return e
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

func (e *env) advance(d time.Duration) {
	n := e.now.Load().Add(d)
	e.now.Store(&n)
}

// as signs p for one call.
func (e *env) as(p *authzv1.Principal) context.Context {
	p.RequestId = requestid.New()
	ctx, err := e.keyring.AppendToOutgoing(context.Background(), p)
	require.NoError(e.t, err)
	return ctx
}

func (e *env) service() context.Context {
	return e.as(&authzv1.Principal{Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_SERVICE, Service: "wtctl"})
}

func (e *env) user(org string) context.Context {
	return e.as(&authzv1.Principal{Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_USER, UserId: "u-1", OrgId: org, Role: "ADMIN",
		SessionState: authzv1.SessionState_SESSION_STATE_ACTIVE})
}

func (e *env) apiKey(org, keyID string) context.Context {
	return e.as(&authzv1.Principal{Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_API_KEY, OrgId: org, ApiKeyId: keyID, Environment: "test"})
}

// ingest sends body under key for org and returns the response or error.
func (e *env) ingest(org, key, body string) (*ingestionv1.IngestResponse, error) {
	return e.client.Ingest(e.apiKey(org, "key_test"), &ingestionv1.IngestRequest{IdempotencyKey: key, Body: []byte(body)})
}

func (e *env) rows(org string) int {
	var n int
	require.NoError(e.t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM transactions WHERE org_id = $1`, org).Scan(&n))
	return n
}
