// Command identity serves WatchTower's identity service: organizations,
// users, memberships, password verification and the audit trail, over gRPC,
// with /healthz, /readyz and /metrics on the admin port.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/watchtower/authplane/platform/admin"
	"github.com/watchtower/authplane/platform/logging"
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

func main() {
	cfg, set, err := config.Load(os.Args[1:], nil)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "identity: bad configuration:", err)
		os.Exit(2)
	}
	log := logging.New(os.Stderr, "identity", cfg.LogLevel)
	set.Log(log)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error("identity stopped", "error", err.Error())
		os.Exit(1)
	}
}

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
	})
	if err != nil {
		return err
	}

	return service.Run(ctx, service.Options{
		Name:      "identity",
		GRPCAddr:  cfg.GRPCAddr,
		AdminAddr: cfg.AdminAddr,
		Logger:    log,
		Keyring:   keys,
		Register: func(s *grpc.Server) {
			identityv1.RegisterIdentityServiceServer(s, grpcapi.NewServer(svc))
		},
		Checks: []admin.Check{{Name: "postgres", Fn: store.Ping}},
	})
}
