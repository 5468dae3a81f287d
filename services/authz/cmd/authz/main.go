// Command authz serves WatchTower's role -> permission policy over gRPC.
package main

import (
	"context"
	"log/slog"

	cfgset "github.com/watchtower/authplane/platform/config"
	"github.com/watchtower/authplane/platform/service"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	"github.com/watchtower/authplane/services/authz/internal/config"
	"github.com/watchtower/authplane/services/authz/internal/grpcapi"
	"google.golang.org/grpc"
)

func main() { service.Main("authz", load, logLevel, run) }

func load(args []string) (config.Config, *cfgset.Set, error) { return config.Load(args, nil) }

func logLevel(c config.Config) string { return c.LogLevel }

func run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	keys, err := service.Keyring(cfg.PrincipalKeys)
	if err != nil {
		return err
	}
	return service.Run(ctx, service.Options{
		Name: "authz", GRPCAddr: cfg.GRPCAddr, AdminAddr: cfg.AdminAddr, Pprof: cfg.Pprof, Logger: log, Keyring: keys,
		Register: func(s *grpc.Server) { authzv1.RegisterAuthorizationServiceServer(s, grpcapi.NewServer()) },
	})
}
