// Command ingestion runs the ingestion service: organization API keys,
// baseline controls and exactly-once POST /api/v1/transactions.
package main

import (
	"context"
	"fmt"
	"log/slog"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/watchtower/authplane/platform/admin"
	cfgset "github.com/watchtower/authplane/platform/config"
	"github.com/watchtower/authplane/platform/grpcclient"
	"github.com/watchtower/authplane/platform/pgdb"
	"github.com/watchtower/authplane/platform/principal"
	"github.com/watchtower/authplane/platform/redisdb"
	"github.com/watchtower/authplane/platform/service"
	identityv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/identity/v1"
	ingestionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/ingestion/v1"
	"github.com/watchtower/authplane/services/ingestion/apikey"
	"github.com/watchtower/authplane/services/ingestion/internal/audit"
	"github.com/watchtower/authplane/services/ingestion/internal/config"
	"github.com/watchtower/authplane/services/ingestion/internal/grpcapi"
	"github.com/watchtower/authplane/services/ingestion/internal/ingest"
	"github.com/watchtower/authplane/services/ingestion/internal/postgres"
	wtredis "github.com/watchtower/authplane/services/ingestion/internal/redis"
	"github.com/watchtower/authplane/services/ingestion/migrations"
)

func main() {
	service.Main("ingestion", load, logLevel, func(ctx context.Context, cfg config.Config, log *slog.Logger) error { return run(ctx, cfg, log) })
}

func load(args []string) (config.Config, *cfgset.Set, error) { return config.Load(args, nil) }

func logLevel(c config.Config) string { return c.LogLevel }

func run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	keyring, err := principal.NewKeyring(cfg.PrincipalKeys, nil)
	if err != nil {
		return err
	}
	hasher, err := apikey.NewHasher(cfg.APIKeyPepper)
	if err != nil {
		return err
	}
	pool, err := pgdb.Open(ctx, cfg.PostgresURL, migrations.Schema, int32(cfg.PostgresMaxConns))
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := pgdb.Migrate(ctx, pool, migrations.Schema, migrations.FS); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	rdb, err := redisdb.Open(ctx, cfg.RedisURL, cfg.RedisPoolSize)
	if err != nil {
		return err
	}
	defer rdb.Close()

	identityConn, err := grpcclient.Dial(cfg.IdentityAddr, "ingestion", keyring)
	if err != nil {
		return err
	}
	defer identityConn.Close()
	relay := audit.New(audit.Options{Outbox: postgres.NewOutbox(pool), Sink: identityv1.NewIdentityServiceClient(identityConn), Logger: log})

	txs := postgres.NewTransactions(pool)
	txs.StartBatching(ctx, cfg.InsertWorkers, cfg.InsertBatch)
	idem := wtredis.NewIdempotency(rdb, cfg.RedisKeyPrefix)
	idem.StartPipelining(ctx, cfg.RedisPipelines, cfg.RedisPipeline)
	svc := ingest.New(ingest.Options{
		Keys:        postgres.NewKeys(pool),
		Settings:    postgres.NewSettings(pool),
		Txs:         txs,
		Idempotency: idem,
		Events:      wtredis.NewEvents(rdb, cfg.RedisKeyPrefix),
		Usage:       wtredis.NewUsage(rdb, cfg.RedisKeyPrefix),
		Hasher:      hasher,
		Logger:      log,
		Lease:       cfg.IdempotencyLease,
		Audit:       relay,
	})
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { svc.RunUsageFlusher(ctx, cfg.UsageFlushEvery); return nil })
	g.Go(func() error { relay.Run(ctx); return nil })
	g.Go(func() error {
		return service.Run(ctx, service.Options{
			Name: "ingestion", GRPCAddr: cfg.GRPCAddr, AdminAddr: cfg.AdminAddr, Pprof: cfg.Pprof, Logger: log, Keyring: keyring,
			Register: func(s *grpc.Server) { ingestionv1.RegisterIngestionServiceServer(s, grpcapi.New(svc)) },
			Checks: []admin.Check{
				{Name: "postgres", Fn: pool.Ping},
				{Name: "redis", Fn: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
			},
		})
	})
	return g.Wait()
}
