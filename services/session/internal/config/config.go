// Package config holds the session service's settings.
package config

import (
	"errors"
	"fmt"
	"time"

	"github.com/watchtower/authplane/platform/config"
)

// Config is the session service's configuration.
type Config struct {
	GRPCAddr        string
	AdminAddr       string
	RedisURL        string
	RedisKeyPrefix  string
	RedisPoolSize   int
	IdentityAddr    string
	AuthzAddr       string
	PrincipalKeys   string
	LogLevel        string
	Pprof           bool
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	// EnforceMFAEnrollment limits sessions of users who owe MFA enrolment.
	EnforceMFAEnrollment bool
}

// Load binds flags and WT_* variables and validates them. lookup may be nil
// for os.LookupEnv.
func Load(args []string, lookup func(string) (string, bool)) (Config, *config.Set, error) {
	var c Config
	s := config.NewSet("session", lookup)
	s.String(&c.GRPCAddr, "grpc-addr", "127.0.0.1:9102", "gRPC listen address")
	s.String(&c.AdminAddr, "admin-addr", "127.0.0.1:9202", "admin (health, metrics) listen address")
	s.String(&c.RedisURL, "redis-url", "redis://127.0.0.1:6379/0", "Redis URL (comma-separated for a cluster)")
	s.String(&c.RedisKeyPrefix, "redis-key-prefix", "wt:", "prefix of every Redis key this service writes")
	s.Int(&c.RedisPoolSize, "redis-pool-size", 64, "Redis connection pool size")
	s.String(&c.IdentityAddr, "identity-addr", "127.0.0.1:9101", "identity service gRPC address")
	s.String(&c.AuthzAddr, "authz-addr", "127.0.0.1:9104", "authz service gRPC address")
	s.Secret(&c.PrincipalKeys, "principal-keys", "", "principal signing keys, kid:base64secret[,...] (required)")
	s.String(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	s.Bool(&c.Pprof, "pprof", false, "serve Go profiles under /debug/pprof/ on the admin address")
	s.Duration(&c.IdleTimeout, "session-idle-timeout", 30*time.Minute, "a session unused this long ends (sliding)")
	s.Duration(&c.AbsoluteTimeout, "session-absolute-timeout", 12*time.Hour, "every session ends this long after sign-in")
	s.Bool(&c.EnforceMFAEnrollment, "mfa-enrollment-enforced", false,
		"limit a session to MFA enrolment when the org requires MFA for the role and the user has none; off until MFA enrolment (POST /api/v1/auth/mfa/setup) ships, since otherwise no ADMIN could use the console")
	if err := s.Parse(args); err != nil {
		return c, s, err
	}
	var errs []error
	if c.PrincipalKeys == "" {
		errs = append(errs, errors.New("--principal-keys (WT_PRINCIPAL_KEYS) is required"))
	}
	if c.IdleTimeout < time.Minute {
		errs = append(errs, fmt.Errorf("--session-idle-timeout %s: must be at least 1m", c.IdleTimeout))
	}
	if c.AbsoluteTimeout < c.IdleTimeout {
		errs = append(errs, fmt.Errorf("--session-absolute-timeout %s: must be at least the idle timeout", c.AbsoluteTimeout))
	}
	if c.RedisPoolSize < 1 {
		errs = append(errs, errors.New("--redis-pool-size must be positive"))
	}
	return c, s, errors.Join(errs...)
}
