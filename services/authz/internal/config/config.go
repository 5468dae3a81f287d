// Package config holds the authz service's settings.
package config

import (
	"errors"

	"github.com/watchtower/authplane/platform/config"
)

// Config is the authz service's configuration.
type Config struct {
	GRPCAddr      string
	AdminAddr     string
	PrincipalKeys string
	LogLevel      string
	Pprof         bool
}

// Load binds flags and WT_* variables and validates them.
func Load(args []string, lookup func(string) (string, bool)) (Config, *config.Set, error) {
	var c Config
	s := config.NewSet("authz", lookup)
	s.String(&c.GRPCAddr, "grpc-addr", "127.0.0.1:9104", "gRPC listen address")
	s.String(&c.AdminAddr, "admin-addr", "127.0.0.1:9204", "admin (health, metrics) listen address")
	s.Secret(&c.PrincipalKeys, "principal-keys", "", "principal signing keys, kid:base64secret[,...] (required)")
	s.String(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	s.Bool(&c.Pprof, "pprof", false, "serve Go profiles under /debug/pprof/ on the admin address")
	if err := s.Parse(args); err != nil {
		return c, s, err
	}
	if c.PrincipalKeys == "" {
		return c, s, errors.New("--principal-keys (WT_PRINCIPAL_KEYS) is required")
	}
	return c, s, nil
}
