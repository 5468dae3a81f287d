// Command authz serves WatchTower's role -> permission policy over gRPC.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/watchtower/authplane/platform/logging"
	"github.com/watchtower/authplane/platform/service"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	"github.com/watchtower/authplane/services/authz/internal/config"
	"github.com/watchtower/authplane/services/authz/internal/grpcapi"
	"google.golang.org/grpc"
)

func main() {
	cfg, set, err := config.Load(os.Args[1:], nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "authz: bad configuration:", err)
		os.Exit(2)
	}
	keys, err := service.Keyring(cfg.PrincipalKeys)
	if err != nil {
		fmt.Fprintln(os.Stderr, "authz: bad configuration:", err)
		os.Exit(2)
	}
	log := logging.New(os.Stderr, "authz", cfg.LogLevel)
	set.Log(log)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err = service.Run(ctx, service.Options{
		Name: "authz", GRPCAddr: cfg.GRPCAddr, AdminAddr: cfg.AdminAddr, Logger: log, Keyring: keys,
		Register: func(s *grpc.Server) { authzv1.RegisterAuthorizationServiceServer(s, grpcapi.NewServer()) },
	})
	if err != nil {
		log.Error("authz stopped", "error", err.Error())
		os.Exit(1)
	}
}
