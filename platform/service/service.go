// Package service runs a WatchTower gRPC service process: its gRPC server
// (with the platform interceptors, health and reflection) and its admin HTTP
// server, until the context ends.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/watchtower/authplane/platform/admin"
	"github.com/watchtower/authplane/platform/grpcserver"
	"github.com/watchtower/authplane/platform/principal"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Options describes one service process.
type Options struct {
	Name      string
	GRPCAddr  string
	AdminAddr string
	Logger    *slog.Logger
	Keyring   *principal.Keyring
	Registry  *prometheus.Registry
	// Register adds the service's gRPC implementations.
	Register func(*grpc.Server)
	// Checks are the readiness probes (/readyz on the admin address).
	Checks []admin.Check
	// Pprof serves Go's profiles on the admin address (--pprof).
	Pprof bool
}

// Keyring parses the --principal-keys setting; a failure wraps ErrBadConfig.
func Keyring(spec string) (*principal.Keyring, error) {
	keys, err := principal.ParseKeys(spec)
	if err == nil {
		var k *principal.Keyring
		if k, err = principal.NewKeyring(keys, nil); err == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w: --principal-keys: %v", ErrBadConfig, err)
}

// Run serves until ctx ends or a server fails.
func Run(ctx context.Context, o Options) error {
	reg := o.Registry
	if reg == nil {
		reg = admin.NewRegistry()
	}
	srv := grpcserver.New(grpcserver.Options{Logger: o.Logger, Keyring: o.Keyring, Registry: reg})
	o.Register(srv.Server)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ctx, o.GRPCAddr); err != nil {
			return fmt.Errorf("%s grpc: %w", o.Name, err)
		}
		return nil
	})
	g.Go(func() error { watchReadiness(ctx, srv, o.Checks); return nil })
	adminHandler := admin.Handler(reg, o.Logger, o.Checks...)
	if o.Pprof {
		adminHandler = admin.WithPprof(adminHandler)
	}
	g.Go(func() error {
		if err := admin.Serve(ctx, o.AdminAddr, adminHandler, o.Logger); err != nil {
			return fmt.Errorf("%s admin: %w", o.Name, err)
		}
		return nil
	})
	return g.Wait()
}

// readinessEvery is how often the gRPC health status is re-derived from the
// readiness checks, so that a gRPC health probe (the gateway's /readyz) sees
// a dependency outage too.
const readinessEvery = 2 * time.Second

func watchReadiness(ctx context.Context, srv *grpcserver.Server, checks []admin.Check) {
	t := time.NewTicker(readinessEvery)
	defer t.Stop()
	for {
		st := healthpb.HealthCheckResponse_SERVING
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		for _, c := range checks {
			if c.Fn(cctx) != nil {
				st = healthpb.HealthCheckResponse_NOT_SERVING
				break
			}
		}
		cancel()
		if ctx.Err() != nil {
			return
		}
		srv.Health.SetServingStatus("", st)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
