// Command session serves WatchTower's console sessions over gRPC: sign-in
// (through identity), session creation, validation, listing and revocation,
// all kept in Redis.
package main

import (
	"context"
	"crypto/rand"
	"log/slog"
	"time"

	"github.com/watchtower/authplane/platform/admin"
	cfgset "github.com/watchtower/authplane/platform/config"
	"github.com/watchtower/authplane/platform/grpcclient"
	"github.com/watchtower/authplane/platform/principal"
	"github.com/watchtower/authplane/platform/redisdb"
	"github.com/watchtower/authplane/platform/service"
	"github.com/watchtower/authplane/services/session/internal/config"
	"github.com/watchtower/authplane/services/session/internal/grpcapi"
	"github.com/watchtower/authplane/services/session/internal/identityclient"
	"github.com/watchtower/authplane/services/session/internal/policy"
	sessionredis "github.com/watchtower/authplane/services/session/internal/redis"
	"github.com/watchtower/authplane/services/session/internal/session"
	"google.golang.org/grpc"
)

func main() {
	service.Main("session", load, logLevel, func(ctx context.Context, cfg config.Config, log *slog.Logger) error {
		keys, err := service.Keyring(cfg.PrincipalKeys)
		if err != nil {
			return err
		}
		return run(ctx, cfg, keys, log)
	})
}

func load(args []string) (config.Config, *cfgset.Set, error) { return config.Load(args, nil) }

func logLevel(c config.Config) string { return c.LogLevel }

func run(ctx context.Context, cfg config.Config, keys *principal.Keyring, log *slog.Logger) error {
	rdb, err := redisdb.Open(ctx, cfg.RedisURL, cfg.RedisPoolSize)
	if err != nil {
		return err
	}
	defer rdb.Close()
	identityConn, err := grpcclient.Dial(cfg.IdentityAddr, "session", keys)
	if err != nil {
		return err
	}
	defer identityConn.Close()
	authzConn, err := grpcclient.Dial(cfg.AuthzAddr, "session", keys)
	if err != nil {
		return err
	}
	defer authzConn.Close()

	identity := identityclient.New(identityConn)
	svc := session.NewService(session.Deps{
		Store:       sessionredis.NewSessions(rdb, cfg.RedisKeyPrefix, time.Now, rand.Reader, max(cfg.AbsoluteTimeout, session.PendingMFALifetime)),
		Throttle:    sessionredis.NewThrottle(rdb, cfg.RedisKeyPrefix, sessionredis.DefaultThrottleLimits),
		Identity:    identity,
		Permissions: policy.New(authzConn, time.Now, policy.DefaultRefresh),
		Audit:       identity,
		Timeouts:    session.Timeouts{Idle: cfg.IdleTimeout, Absolute: cfg.AbsoluteTimeout},

		EnforceMFAEnrollment: cfg.EnforceMFAEnrollment,
	})
	api := grpcapi.NewServer(svc, time.Now)
	return service.Run(ctx, service.Options{
		Name: "session", GRPCAddr: cfg.GRPCAddr, AdminAddr: cfg.AdminAddr, Pprof: cfg.Pprof, Logger: log, Keyring: keys,
		Register: func(s *grpc.Server) { api.Register(s) },
		Checks:   []admin.Check{{Name: "redis", Fn: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }}},
	})
}
