package redis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/services/session/internal/session"
)

// ThrottleLimits are the sign-in failure budgets.
type ThrottleLimits struct {
	// PerAccount failures are allowed per Window for one email.
	PerAccount int
	// PerIP failures are allowed per Window from one client IP.
	PerIP int
	// Window is the fixed window; a bucket expires with it, so nothing is
	// ever locked for good.
	Window time.Duration
}

// DefaultThrottleLimits are 10 failures per account and 50 per IP in 15 minutes.
var DefaultThrottleLimits = ThrottleLimits{PerAccount: 10, PerIP: 50, Window: 15 * time.Minute}

// Throttle counts failed sign-ins in fixed windows. It implements
// session.Throttle.
type Throttle struct {
	c      goredis.UniversalClient
	prefix string
	limits ThrottleLimits
}

// NewThrottle returns a throttle over the keys under prefix.
func NewThrottle(c goredis.UniversalClient, prefix string, limits ThrottleLimits) *Throttle {
	return &Throttle{c: c, prefix: prefix, limits: limits}
}

func (t *Throttle) accountKey(email string) string {
	sum := sha256.Sum256([]byte(session.NormalizeEmail(email)))
	return t.prefix + "login:acct:{" + hex.EncodeToString(sum[:]) + "}"
}

func (t *Throttle) ipKey(ip string) string {
	return t.prefix + "login:ip:{" + ip + "}"
}

type bucket struct {
	key   string
	limit int
}

func (t *Throttle) buckets(email, ip string) []bucket {
	b := []bucket{{key: t.accountKey(email), limit: t.limits.PerAccount}}
	// Calls without a client IP (internal callers) are throttled per account only.
	if ip != "" {
		b = append(b, bucket{key: t.ipKey(ip), limit: t.limits.PerIP})
	}
	return b
}

// Check refuses with rate_limited, retry after the rest of the window, when
// a bucket is spent.
func (t *Throttle) Check(ctx context.Context, email, ip string) error {
	bs := t.buckets(email, ip)
	counts := make([]*goredis.StringCmd, len(bs))
	ttls := make([]*goredis.DurationCmd, len(bs))
	_, err := t.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, b := range bs {
			counts[i] = p.Get(ctx, b.key)
			ttls[i] = p.PTTL(ctx, b.key)
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return apperr.Unavailable(fmt.Errorf("read sign-in throttle: %w", err))
	}
	var wait time.Duration
	for i, b := range bs {
		n, err := counts[i].Int()
		if err != nil || n < b.limit {
			continue
		}
		left := ttls[i].Val()
		if left <= 0 {
			// No TTL (it cannot normally happen: Fail sets it atomically):
			// restart the window rather than lock the bucket for good.
			left = t.limits.Window
			if err := t.c.PExpire(ctx, b.key, left).Err(); err != nil {
				return apperr.Unavailable(fmt.Errorf("repair sign-in throttle: %w", err))
			}
		}
		wait = max(wait, left)
	}
	if wait > 0 {
		return apperr.RateLimited(wait)
	}
	return nil
}

// Fail counts one failed attempt in each bucket. The first failure of a
// window starts it (EXPIRE NX in the same MULTI as the INCR).
func (t *Throttle) Fail(ctx context.Context, email, ip string) error {
	_, err := t.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		for _, b := range t.buckets(email, ip) {
			p.Incr(ctx, b.key)
			p.ExpireNX(ctx, b.key, t.limits.Window)
		}
		return nil
	})
	if err != nil {
		return apperr.Unavailable(fmt.Errorf("count failed sign-in: %w", err))
	}
	return nil
}

// Reset clears the account bucket after a successful sign-in. The IP
// bucket stays: one good password must not launder an address's failures.
func (t *Throttle) Reset(ctx context.Context, email string) error {
	if err := t.c.Del(ctx, t.accountKey(email)).Err(); err != nil {
		return apperr.Unavailable(fmt.Errorf("reset sign-in throttle: %w", err))
	}
	return nil
}
