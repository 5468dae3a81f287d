// Package config holds the gateway's settings.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/watchtower/authplane/platform/config"
)

// Config is the gateway's configuration.
type Config struct {
	HTTPAddr        string
	AdminAddr       string
	RedisURL        string
	RedisKeyPrefix  string
	RedisPoolSize   int
	PrincipalKeys   string
	IdentityAddr    string
	SessionAddr     string
	IngestionAddr   string
	AuthzAddr       string
	PublicBaseURL   string
	CookieInsecure  bool
	TrustedProxies  string
	MaxBodyBytes    int
	PolicyRefresh   time.Duration
	LogLevel        string
	Pprof           bool
	TrustedPrefixes []netip.Prefix
}

// Load binds flags and WT_* variables and validates them.
func Load(args []string, lookup func(string) (string, bool)) (Config, *config.Set, error) {
	var c Config
	s := config.NewSet("gateway", lookup)
	s.String(&c.HTTPAddr, "http-addr", "127.0.0.1:8080", "HTTP listen address (REST API, /healthz, /readyz)")
	s.String(&c.AdminAddr, "admin-addr", "127.0.0.1:9200", "admin (metrics) listen address")
	s.String(&c.RedisURL, "redis-url", "redis://127.0.0.1:6379/0", "Redis URL (sessions)")
	s.String(&c.RedisKeyPrefix, "redis-key-prefix", "wt:", "prefix of every Redis key")
	s.Int(&c.RedisPoolSize, "redis-pool-size", 128, "Redis connection pool size")
	s.Secret(&c.PrincipalKeys, "principal-keys", "", "principal signing keys, kid:base64secret[,...]; the first signs (required)")
	s.String(&c.IdentityAddr, "identity-addr", "127.0.0.1:9101", "identity service gRPC address")
	s.String(&c.SessionAddr, "session-addr", "127.0.0.1:9102", "session service gRPC address")
	s.String(&c.IngestionAddr, "ingestion-addr", "127.0.0.1:9103", "ingestion service gRPC address")
	s.String(&c.AuthzAddr, "authz-addr", "127.0.0.1:9104", "authz service gRPC address")
	s.String(&c.PublicBaseURL, "public-base-url", "http://127.0.0.1:8080", "the console's public URL (same-origin check for pre-session routes)")
	s.Bool(&c.CookieInsecure, "cookie-insecure", false, "drop the Secure attribute from cookies (only for plain-HTTP hosts other than localhost)")
	s.String(&c.TrustedProxies, "trusted-proxies", "", "comma-separated CIDRs of proxies whose X-Forwarded-For is believed")
	s.Int(&c.MaxBodyBytes, "max-body-bytes", 1<<20, "largest accepted request body")
	s.Duration(&c.PolicyRefresh, "policy-refresh", time.Minute, "how often the role -> permission snapshot is re-read from authz")
	s.String(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	s.Bool(&c.Pprof, "pprof", false, "serve Go profiles under /debug/pprof/ on the admin address")
	if err := s.Parse(args); err != nil {
		return c, s, err
	}
	var errs []error
	if c.PrincipalKeys == "" {
		errs = append(errs, errors.New("--principal-keys (WT_PRINCIPAL_KEYS) is required"))
	}
	if u, err := url.Parse(c.PublicBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("--public-base-url %q must be an absolute http(s) URL", c.PublicBaseURL))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, errors.New("--max-body-bytes must be at least 1024"))
	}
	for _, p := range strings.Split(c.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				errs = append(errs, fmt.Errorf("--trusted-proxies: %q is not a CIDR or address", p))
				continue
			}
			pfx = netip.PrefixFrom(addr, addr.BitLen())
		}
		c.TrustedPrefixes = append(c.TrustedPrefixes, pfx.Masked())
	}
	return c, s, errors.Join(errs...)
}
