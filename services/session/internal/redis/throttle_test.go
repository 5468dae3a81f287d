package redis

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/platform/testenv"
)

func deadClient(t *testing.T) goredis.UniversalClient {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func requireRateLimited(t *testing.T, err error, window time.Duration) {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "got %v", err)
	require.Equal(t, apperr.KindRateLimited, e.Kind)
	require.Greater(t, e.RetryAfter, time.Duration(0))
	require.LessOrEqual(t, e.RetryAfter, window)
}

func TestThrottle(t *testing.T) {
	c, prefix := testenv.Redis(t)
	ctx := context.Background()
	limits := ThrottleLimits{PerAccount: 3, PerIP: 5, Window: time.Minute}
	th := NewThrottle(c, prefix, limits)

	t.Run("per account, normalised email", func(t *testing.T) {
		for i := range 3 {
			require.NoError(t, th.Check(ctx, "ada@example.com", "192.0.2.1"), "attempt %d", i+1)
			require.NoError(t, th.Fail(ctx, []string{"ada@example.com", " Ada@Example.com", "ADA@EXAMPLE.COM "}[i], "192.0.2.1"))
		}
		requireRateLimited(t, th.Check(ctx, "ada@example.com", "192.0.2.99"), limits.Window)
		require.NoError(t, th.Check(ctx, "bob@example.com", "192.0.2.1"), "another account from the same IP")

		require.NoError(t, th.Reset(ctx, "ADA@example.com"))
		require.NoError(t, th.Check(ctx, "ada@example.com", "192.0.2.1"), "reset after success")
	})

	t.Run("per IP", func(t *testing.T) {
		for i := range 5 {
			require.NoError(t, th.Check(ctx, "x@example.com", "198.51.100.7"))
			require.NoError(t, th.Fail(ctx, []string{"a@x", "b@x", "c@x", "d@x", "e@x"}[i], "198.51.100.7"))
		}
		requireRateLimited(t, th.Check(ctx, "fresh@example.com", "198.51.100.7"), limits.Window)
		require.NoError(t, th.Check(ctx, "fresh@example.com", "198.51.100.8"))
		require.NoError(t, th.Reset(ctx, "fresh@example.com"))
		requireRateLimited(t, th.Check(ctx, "fresh@example.com", "198.51.100.7"), limits.Window)
	})

	t.Run("window expires", func(t *testing.T) {
		short := NewThrottle(c, prefix+"short:", ThrottleLimits{PerAccount: 1, PerIP: 10, Window: 50 * time.Millisecond})
		require.NoError(t, short.Fail(ctx, "eve@example.com", ""))
		requireRateLimited(t, short.Check(ctx, "eve@example.com", ""), time.Second)
		deadline := time.Now().Add(5 * time.Second)
		for short.Check(ctx, "eve@example.com", "") != nil {
			require.True(t, time.Now().Before(deadline), "the bucket never expired")
			time.Sleep(10 * time.Millisecond) // polling the real Redis TTL, bounded by the deadline
		}
	})

	t.Run("redis down fails closed", func(t *testing.T) {
		down := NewThrottle(deadClient(t), prefix, limits)
		e, ok := apperr.As(down.Check(ctx, "ada@example.com", "192.0.2.1"))
		require.True(t, ok)
		require.Equal(t, apperr.KindUnavailable, e.Kind)
	})
}
