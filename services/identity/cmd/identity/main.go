// Command identity serves WatchTower's identity service: organizations,
// users, memberships, password verification and the audit trail, over gRPC,
// with /healthz, /readyz and /metrics on the admin port.
package main

import (
	"context"
	"log/slog"

	"github.com/watchtower/authplane/platform/admin"
	cfgset "github.com/watchtower/authplane/platform/config"
	"github.com/watchtower/authplane/platform/pgdb"
	"github.com/watchtower/authplane/platform/principal"
	"github.com/watchtower/authplane/platform/service"
	identityv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/identity/v1"
	"github.com/watchtower/authplane/services/identity/internal/argon2id"
	"github.com/watchtower/authplane/services/identity/internal/config"
	"github.com/watchtower/authplane/services/identity/internal/grpcapi"
	"github.com/watchtower/authplane/services/identity/internal/identity"
	"github.com/watchtower/authplane/services/identity/internal/postgres"
	"github.com/watchtower/authplane/services/identity/migrations"
	"google.golang.org/grpc"
)

func main() { service.Main("identity", load, logLevel, run) }

func load(args []string) (config.Config, *cfgset.Set, error) { return config.Load(args, nil) }

func logLevel(c config.Config) string { return c.LogLevel }

// run wires the service from cfg and serves until ctx ends.
func run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	keys, err := principal.NewKeyring(cfg.PrincipalKeys, nil)
	if err != nil {
		return err
	}
	pool, err := pgdb.Open(ctx, cfg.PostgresURL, migrations.Schema, int32(cfg.PostgresMaxConns))
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := pgdb.Migrate(ctx, pool, migrations.Schema, migrations.FS); err != nil {
		return err
	}
	store := postgres.New(pool)
	hasher, err := argon2id.New(cfg.Argon2, nil)
	if err != nil {
		return err
	}
	svc, err := identity.NewService(identity.Options{
		Store:               store,
		Hasher:              hasher,
		MaxConcurrentHashes: cfg.MaxConcurrentHashes,
		HashDutyPercent:     cfg.HashDutyPercent,
	})
	if err != nil {
		return err
	}

	return service.Run(ctx, service.Options{
		Name:      "identity",
		GRPCAddr:  cfg.GRPCAddr,
		AdminAddr: cfg.AdminAddr, Pprof: cfg.Pprof,
		Logger:  log,
		Keyring: keys,
		Register: func(s *grpc.Server) {
			identityv1.RegisterIdentityServiceServer(s, grpcapi.NewServer(svc))
		},
		Checks: []admin.Check{{Name: "postgres", Fn: store.Ping}},
	})
}
