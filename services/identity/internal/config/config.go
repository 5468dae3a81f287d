// Package config holds the identity service's settings: flags and WT_*
// environment variables bound through platform/config, then validated.
package config

import (
	"errors"
	"fmt"
	"math"

	"github.com/watchtower/authplane/platform/config"
	"github.com/watchtower/authplane/platform/principal"
	"github.com/watchtower/authplane/services/identity/internal/argon2id"
	"github.com/watchtower/authplane/services/identity/internal/identity"
)

// Config is the identity service's configuration.
type Config struct {
	GRPCAddr            string
	AdminAddr           string
	PostgresURL         string
	PostgresMaxConns    int
	PrincipalKeys       []principal.Key
	LogLevel            string
	Pprof               bool
	MaxConcurrentHashes int
	HashDutyPercent     int
	Argon2              argon2id.Params
}

// Load binds flags and WT_* variables (lookup may be nil for the process
// environment), parses args and validates the result. The Set is returned
// even on error so the caller can print usage.
func Load(args []string, lookup func(string) (string, bool)) (Config, *config.Set, error) {
	var (
		c                       Config
		keys                    string
		memory, passes, threads int
	)
	s := config.NewSet("identity", lookup)
	s.String(&c.GRPCAddr, "grpc-addr", "127.0.0.1:9101", "gRPC listen address")
	s.String(&c.AdminAddr, "admin-addr", "127.0.0.1:9201", "admin (health, readiness, metrics) listen address")
	s.String(&c.PostgresURL, "postgres-url", "postgres://postgres@127.0.0.1:5432/watchtower?sslmode=disable", "Postgres URL (the service uses schema identity)")
	s.Int(&c.PostgresMaxConns, "postgres-max-conns", 16, "largest number of Postgres connections")
	s.Secret(&keys, "principal-keys", "", "principal signing keys, kid:base64secret[,...] (required)")
	s.String(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	s.Bool(&c.Pprof, "pprof", false, "serve Go profiles under /debug/pprof/ on the admin address")
	s.Int(&c.MaxConcurrentHashes, "max-concurrent-hashes", identity.DefaultMaxConcurrentHashes(), "password hashes run at once; callers wait up to 2 s for a slot")
	s.Int(&c.HashDutyPercent, "hash-duty-percent", identity.DefaultHashDutyPercent, "share of each hashing slot's time spent hashing (1-100); after a hash the slot rests, so a sign-in flood leaves CPU to session checks")
	s.Int(&memory, "argon2-memory-kib", int(argon2id.DefaultParams.MemoryKiB), "argon2id memory cost of new hashes in KiB (at least 19456)")
	s.Int(&passes, "argon2-time", int(argon2id.DefaultParams.Time), "argon2id passes of new hashes (at least 2)")
	s.Int(&threads, "argon2-threads", int(argon2id.DefaultParams.Threads), "argon2id lanes of new hashes (1-255)")
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
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	if c.GRPCAddr == "" || c.AdminAddr == "" || c.PostgresURL == "" {
		errs = append(errs, errors.New("--grpc-addr, --admin-addr and --postgres-url must not be empty"))
	}
	if c.PostgresMaxConns < 1 || c.PostgresMaxConns > 1000 {
		errs = append(errs, fmt.Errorf("--postgres-max-conns %d: want 1-1000", c.PostgresMaxConns))
	}
	if c.MaxConcurrentHashes < 1 || c.MaxConcurrentHashes > 1024 {
		errs = append(errs, fmt.Errorf("--max-concurrent-hashes %d: want 1-1024", c.MaxConcurrentHashes))
	}
	if c.HashDutyPercent < 1 || c.HashDutyPercent > 100 {
		errs = append(errs, fmt.Errorf("--hash-duty-percent %d: want 1-100", c.HashDutyPercent))
	}
	if memory < 0 || memory > math.MaxUint32 || passes < 0 || passes > math.MaxUint32 || threads < 0 || threads > math.MaxUint8 {
		errs = append(errs, errors.New("--argon2-memory-kib, --argon2-time or --argon2-threads out of range"))
	} else {
		c.Argon2 = argon2id.Params{
			MemoryKiB: uint32(memory), Time: uint32(passes), Threads: uint8(threads),
			SaltLen: argon2id.DefaultParams.SaltLen, KeyLen: argon2id.DefaultParams.KeyLen,
		}
		if err := c.Argon2.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return c, s, errors.Join(errs...)
}
