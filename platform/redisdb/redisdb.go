// Package redisdb opens go-redis UniversalClients from WT_REDIS_URL.
package redisdb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Open parses url ("redis://[user:pass@]host:port/db", "rediss://…", or a
// comma-separated list of such URLs for a cluster) and returns a
// UniversalClient, after one PING.
func Open(ctx context.Context, url string, poolSize int) (redis.UniversalClient, error) {
	var opts redis.UniversalOptions
	for _, u := range strings.Split(url, ",") {
		o, err := redis.ParseURL(strings.TrimSpace(u))
		if err != nil {
			return nil, fmt.Errorf("redisdb: parse url: %w", err)
		}
		opts.Addrs = append(opts.Addrs, o.Addr)
		opts.Username, opts.Password, opts.DB, opts.TLSConfig = o.Username, o.Password, o.DB, o.TLSConfig
	}
	opts.PoolSize = poolSize
	opts.DialTimeout = 2 * time.Second
	// One dial attempt: during an outage a call fails fast (fail closed) instead
	// of retrying for half a second inside every request.
	opts.DialerRetries = 1
	opts.ReadTimeout = 2 * time.Second
	opts.WriteTimeout = 2 * time.Second
	c := redis.NewUniversalClient(&opts)
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redisdb: ping: %w", err)
	}
	return c, nil
}
