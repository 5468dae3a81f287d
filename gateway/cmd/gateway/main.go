// Command gateway is WatchTower's REST edge: it authenticates every request
// (session cookie or API key), decides it against the route's declared
// access rule, and forwards it to the owning gRPC service with a signed
// principal.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/watchtower/authplane/gateway/internal/apikeyauth"
	"github.com/watchtower/authplane/gateway/internal/config"
	"github.com/watchtower/authplane/gateway/internal/ingest"
	"github.com/watchtower/authplane/gateway/internal/policysnap"
	"github.com/watchtower/authplane/gateway/internal/server"
	"github.com/watchtower/authplane/platform/admin"
	"github.com/watchtower/authplane/platform/grpcclient"
	"github.com/watchtower/authplane/platform/logging"
	"github.com/watchtower/authplane/platform/redisdb"
	"github.com/watchtower/authplane/platform/service"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	ingestionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/ingestion/v1"
	"github.com/watchtower/authplane/services/session/sessionkv"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func main() {
	cfg, set, err := config.Load(os.Args[1:], nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gateway: bad configuration:", err)
		os.Exit(2)
	}
	// One access-log line per request: batch them into few writes.
	logOut := logging.NewBufferedWriter(os.Stderr, 100*time.Millisecond)
	log := logging.New(logOut, "gateway", cfg.LogLevel)
	set.Log(log)
	service.TuneGC(os.Getenv, log)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err = run(ctx, cfg, log)
	stop()
	if err != nil {
		log.Error("gateway stopped", "error", err.Error())
	}
	_ = logOut.Close()
	if err != nil {
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	keys, err := service.Keyring(cfg.PrincipalKeys)
	if err != nil {
		return fmt.Errorf("principal keys: %w", err)
	}
	rdb, err := redisdb.Open(ctx, cfg.RedisURL, cfg.RedisPoolSize)
	if err != nil {
		return err
	}
	defer rdb.Close()

	authzConn, err := grpcclient.Dial(cfg.AuthzAddr, "gateway", keys)
	if err != nil {
		return err
	}
	defer authzConn.Close()
	policy := policysnap.New(authzv1.NewAuthorizationServiceClient(authzConn), cfg.PolicyRefresh, log)

	reg := admin.NewRegistry()
	registerPoolStats(reg, rdb)
	backends := map[string]string{"identity": cfg.IdentityAddr, "session": cfg.SessionAddr, "ingestion": cfg.IngestionAddr, "authz": cfg.AuthzAddr}
	checks, closeChecks, err := readiness(rdb, policy, backends)
	if err != nil {
		return err
	}
	defer closeChecks()

	// The ingestion route signs its own principals (API key, and the
	// gateway's SERVICE principal for key verification): no guard here.
	ingestionConn, err := grpc.NewClient(cfg.IngestionAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer ingestionConn.Close()
	ingestion := ingestionv1.NewIngestionServiceClient(ingestionConn)
	apiKeys := apikeyauth.New(apikeyauth.Options{Ingestion: ingestion, Keyring: keys, Redis: rdb, Prefix: cfg.RedisKeyPrefix, Logger: log})

	gw, err := server.New(ctx, server.Options{
		Config:   cfg,
		Logger:   log,
		Keys:     keys,
		Sessions: sessionkv.NewReader(rdb, cfg.RedisKeyPrefix, nil),
		Policy:   policy,
		Registry: reg,
		Ready:    checks,
		Ingest: ingest.New(ingest.Options{
			Keyring: keys, Ingestion: ingestion, Keys: apiKeys, MaxBody: int64(cfg.MaxBodyBytes), Logger: log,
		}),
	})
	if err != nil {
		return err
	}
	defer gw.Close()

	lis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           gw,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { policy.Run(ctx); return nil })
	g.Go(func() error { apiKeys.Run(ctx); return nil })
	adminHandler := admin.Handler(reg, log, checks...)
	if cfg.Pprof {
		adminHandler = admin.WithPprof(adminHandler)
	}
	g.Go(func() error { return admin.Serve(ctx, cfg.AdminAddr, adminHandler, log) })
	g.Go(func() error {
		log.Info("http listening", "addr", lis.Addr().String())
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	return g.Wait()
}

// readiness checks Redis, the policy snapshot and every backend's gRPC
// health (which each service derives from its own Postgres/Redis checks).
func readiness(rdb redis.UniversalClient, policy *policysnap.Snapshot, backends map[string]string) ([]admin.Check, func(), error) {
	checks := []admin.Check{
		{Name: "redis", Fn: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
		{Name: "policy", Fn: func(context.Context) error {
			if !policy.Ready() {
				return errors.New("policy snapshot not loaded")
			}
			return nil
		}},
	}
	var conns []*grpc.ClientConn
	for name, addr := range backends {
		cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, nil, err
		}
		conns = append(conns, cc)
		hc := healthpb.NewHealthClient(cc)
		checks = append(checks, admin.Check{Name: name, Fn: func(ctx context.Context) error {
			resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
			if err != nil {
				return err
			}
			if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				return fmt.Errorf("%s is %s", name, resp.GetStatus())
			}
			return nil
		}})
	}
	return checks, func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}, nil
}

// registerPoolStats exposes the Redis pool counters, so a benchmark can
// check that the hot path opens no new connections after warm-up.
func registerPoolStats(reg *prometheus.Registry, rdb redis.UniversalClient) {
	gauge := func(name, help string, f func(*redis.PoolStats) uint32) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "watchtower_gateway_redis_pool_" + name, Help: help},
			func() float64 { return float64(f(rdb.PoolStats())) }))
	}
	gauge("hits", "Times a free connection was found in the pool.", func(s *redis.PoolStats) uint32 { return s.Hits })
	gauge("misses", "Times no free connection was found (a new one was dialled).", func(s *redis.PoolStats) uint32 { return s.Misses })
	gauge("timeouts", "Times a wait for a connection timed out.", func(s *redis.PoolStats) uint32 { return s.Timeouts })
	gauge("total_conns", "Connections in the pool.", func(s *redis.PoolStats) uint32 { return s.TotalConns })
	gauge("idle_conns", "Idle connections in the pool.", func(s *redis.PoolStats) uint32 { return s.IdleConns })
	gauge("stale_conns", "Stale connections removed from the pool.", func(s *redis.PoolStats) uint32 { return s.StaleConns })
}
