// Package config holds the ingestion service's settings: flags and WT_*
// environment variables bound through platform/config, then validated.
package config

import (
	"errors"
	"fmt"
	"time"

	"github.com/watchtower/authplane/platform/config"
	"github.com/watchtower/authplane/platform/principal"
)

// Config is the ingestion service's configuration.
type Config struct {
	GRPCAddr         string
	AdminAddr        string
	PostgresURL      string
	PostgresMaxConns int
	RedisURL         string
	RedisPoolSize    int
	RedisKeyPrefix   string
	IdentityAddr     string
	PrincipalKeys    []principal.Key
	APIKeyPepper     []byte
	IdempotencyLease time.Duration
	UsageFlushEvery  time.Duration
	InsertWorkers    int
	InsertBatch      int
	RedisPipelines   int
	RedisPipeline    int
	LogLevel         string
	Pprof            bool
}

// Load binds flags and WT_* variables (lookup may be nil for the process
// environment), parses args and validates the result. The Set is returned
// even on error so the caller can print usage.
func Load(args []string, lookup func(string) (string, bool)) (Config, *config.Set, error) {
	var (
		c            Config
		keys, pepper string
	)
	s := config.NewSet("ingestion", lookup)
	s.String(&c.GRPCAddr, "grpc-addr", "127.0.0.1:9103", "gRPC listen address")
	s.String(&c.AdminAddr, "admin-addr", "127.0.0.1:9203", "admin (health, readiness, metrics) listen address")
	s.String(&c.PostgresURL, "postgres-url", "postgres://postgres@127.0.0.1:5432/watchtower?sslmode=disable", "Postgres URL (the service uses schema ingestion)")
	s.Int(&c.PostgresMaxConns, "postgres-max-conns", 32, "largest number of Postgres connections")
	s.String(&c.RedisURL, "redis-url", "redis://127.0.0.1:6379/0", "Redis URL (comma-separated for a cluster)")
	s.Int(&c.RedisPoolSize, "redis-pool-size", 64, "Redis connections per node")
	s.String(&c.RedisKeyPrefix, "redis-key-prefix", "wt:", "prefix of every Redis key and channel this service uses")
	s.Secret(&keys, "principal-keys", "", "principal signing keys, kid:base64secret[,...] (required)")
	s.Secret(&pepper, "api-key-pepper", "", "server pepper of API key hashes, at least 32 characters (required; changing it voids every key)")
	s.Duration(&c.IdempotencyLease, "idempotency-lease", 5*time.Second, "how long an in-flight idempotency claim blocks retries if its owner dies")
	s.Duration(&c.UsageFlushEvery, "usage-flush-every", 20*time.Second, "how often API key lastUsedAt notes move from Redis to Postgres")
	s.String(&c.IdentityAddr, "identity-addr", "127.0.0.1:9101", "identity service gRPC address (the audit trail)")
	s.Int(&c.InsertWorkers, "insert-workers", 1, "workers that write transactions, each one Postgres transaction at a time (more help when Postgres is far away)")
	s.Int(&c.InsertBatch, "insert-batch", 64, "most transactions one worker commits together (1: one commit per transaction)")
	s.Int(&c.RedisPipelines, "redis-pipelines", 1, "idempotency pipelines in flight at once (more help when Redis is far away)")
	s.Int(&c.RedisPipeline, "redis-pipeline", 64, "most idempotency script calls sent to Redis in one pipeline (1: one round trip per call)")
	s.String(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	s.Bool(&c.Pprof, "pprof", false, "serve Go profiles under /debug/pprof/ on the admin address")
	if err := s.Parse(args); err != nil {
		return c, s, err
	}
	var errs []error
	if keys == "" {
		errs = append(errs, errors.New("--principal-keys (WT_PRINCIPAL_KEYS) is required"))
	} else if parsed, err := principal.ParseKeys(keys); err != nil {
		errs = append(errs, fmt.Errorf("--principal-keys: %w", err))
	} else if _, err := principal.NewKeyring(parsed, nil); err != nil {
		errs = append(errs, fmt.Errorf("--principal-keys: %w", err))
	} else {
		c.PrincipalKeys = parsed
	}
	if len(pepper) < 32 {
		errs = append(errs, errors.New("--api-key-pepper (WT_API_KEY_PEPPER) is required, at least 32 characters"))
	}
	c.APIKeyPepper = []byte(pepper)
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	if c.GRPCAddr == "" || c.AdminAddr == "" || c.PostgresURL == "" || c.RedisURL == "" {
		errs = append(errs, errors.New("--grpc-addr, --admin-addr, --postgres-url and --redis-url must not be empty"))
	}
	if c.PostgresMaxConns < 1 || c.PostgresMaxConns > 1000 || c.RedisPoolSize < 1 || c.RedisPoolSize > 10000 {
		errs = append(errs, errors.New("--postgres-max-conns (1-1000) or --redis-pool-size (1-10000) out of range"))
	}
	if c.InsertWorkers < 1 || c.InsertWorkers > c.PostgresMaxConns || c.InsertBatch < 1 || c.InsertBatch > 1000 {
		errs = append(errs, fmt.Errorf("--insert-workers %d (1 to --postgres-max-conns) or --insert-batch %d (1-1000) out of range", c.InsertWorkers, c.InsertBatch))
	}
	if c.RedisPipelines < 1 || c.RedisPipelines > c.RedisPoolSize || c.RedisPipeline < 1 || c.RedisPipeline > 1000 {
		errs = append(errs, fmt.Errorf("--redis-pipelines %d (1 to --redis-pool-size) or --redis-pipeline %d (1-1000) out of range", c.RedisPipelines, c.RedisPipeline))
	}
	if c.IdempotencyLease < 500*time.Millisecond || c.IdempotencyLease > time.Minute {
		errs = append(errs, fmt.Errorf("--idempotency-lease %s: want 500ms-1m", c.IdempotencyLease))
	}
	if c.UsageFlushEvery < time.Second || c.UsageFlushEvery > 30*time.Second {
		errs = append(errs, fmt.Errorf("--usage-flush-every %s: want 1s-30s (lastUsedAt is kept to the minute)", c.UsageFlushEvery))
	}
	return c, s, errors.Join(errs...)
}
