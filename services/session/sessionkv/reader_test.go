package sessionkv

import (
	"context"
	"crypto/rand"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/testenv"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	sessionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/session/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// clock is a settable time source.
type clock struct{ ms atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ms.Store(t.UnixMilli())
	return c
}

func (c *clock) Now() time.Time          { return time.UnixMilli(c.ms.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }
func (c *clock) Set(t time.Time)         { c.ms.Store(t.UnixMilli()) }
func (c *clock) UnixMilli() int64        { return c.ms.Load() }

// commandCounter counts the commands a client sends.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}
func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

const (
	idle     = 30 * time.Minute
	absolute = 12 * time.Hour
)

// putSession writes a session the way the session service does (the
// layout documented in the package comment) and returns its token.
func putSession(t testing.TB, c redis.UniversalClient, prefix string, created time.Time) (string, Token) {
	t.Helper()
	text, tok, err := NewToken(rand.Reader)
	require.NoError(t, err)
	abs := created.Add(absolute)
	rec := &sessionv1.SessionRecord{
		Id:                 tok.ID,
		User:               &sessionv1.SessionUser{Id: "u1", Email: "ada@example.com", Name: "Ada"},
		Org:                &sessionv1.SessionOrg{Id: "o1", Name: "Acme"},
		Role:               "ADMIN",
		AuthLevel:          authzv1.AuthLevel_AUTH_LEVEL_PASSWORD,
		State:              authzv1.SessionState_SESSION_STATE_ACTIVE,
		CreatedAt:          timestamppb.New(created),
		AbsoluteExpiresAt:  timestamppb.New(abs),
		IdleTimeoutSeconds: int64(idle / time.Second),
	}
	raw, err := proto.Marshal(rec)
	require.NoError(t, err)
	ctx := context.Background()
	key := SessionKey(prefix, tok.ID)
	require.NoError(t, c.HSet(ctx, key, FieldRecord, raw, FieldTokenHash, tok.Hash,
		FieldAbsolute, abs.UnixMilli(), FieldSeen, created.UnixMilli(), FieldIdle, idle.Milliseconds()).Err())
	require.NoError(t, c.PExpire(ctx, key, idle).Err())
	return text, tok
}

func seenOf(t *testing.T, c redis.UniversalClient, key string) int64 {
	t.Helper()
	v, err := c.HGet(context.Background(), key, FieldSeen).Int64()
	require.NoError(t, err)
	return v
}

func TestValidateSlidesIdleExpiryAtMostOncePerInterval(t *testing.T) {
	c, prefix := testenv.Redis(t)
	ctx := context.Background()
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clk := newClock(start)
	r := NewReader(c, prefix, clk.Now)
	token, tok := putSession(t, c, prefix, start)
	key := SessionKey(prefix, tok.ID)

	rec, seen, err := r.Validate(ctx, token)
	require.NoError(t, err)
	require.Equal(t, tok.ID, rec.GetId())
	require.Equal(t, "ada@example.com", rec.GetUser().GetEmail())
	require.Equal(t, start, seen)

	// Within the refresh interval nothing is written.
	require.NoError(t, c.PExpire(ctx, key, time.Hour).Err()) // marker: a slide would reset it to <= idle
	clk.Advance(59 * time.Second)
	_, seen, err = r.Validate(ctx, token)
	require.NoError(t, err)
	require.Equal(t, start, seen)
	require.Equal(t, start.UnixMilli(), seenOf(t, c, key))
	ttl, err := c.PTTL(ctx, key).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, idle, "the TTL was not touched")

	// Past it, seen moves and the TTL becomes the idle timeout.
	clk.Advance(2 * time.Second)
	_, seen, err = r.Validate(ctx, token)
	require.NoError(t, err)
	require.Equal(t, clk.Now(), seen)
	require.Equal(t, clk.UnixMilli(), seenOf(t, c, key))
	ttl, err = c.PTTL(ctx, key).Result()
	require.NoError(t, err)
	require.LessOrEqual(t, ttl, idle)
	require.Greater(t, ttl, idle-time.Minute)

	// A second call right after does not move it again.
	slid := clk.Now()
	clk.Advance(30 * time.Second)
	_, seen, err = r.Validate(ctx, token)
	require.NoError(t, err)
	require.Equal(t, slid, seen)
}

func TestValidateEnforcesIdleAndAbsoluteExpiry(t *testing.T) {
	c, prefix := testenv.Redis(t)
	ctx := context.Background()
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

	t.Run("idle", func(t *testing.T) {
		clk := newClock(start)
		r := NewReader(c, prefix, clk.Now)
		token, tok := putSession(t, c, prefix, start)
		clk.Advance(idle - time.Millisecond)
		_, _, err := r.Validate(ctx, token)
		require.NoError(t, err, "one millisecond before the idle timeout")

		token2, tok2 := putSession(t, c, prefix, start)
		clk.Set(start.Add(idle))
		_, _, err = r.Validate(ctx, token2)
		require.ErrorIs(t, err, ErrNotFound)
		require.Zero(t, c.Exists(ctx, SessionKey(prefix, tok2.ID)).Val(), "an expired session is dropped")
		require.Equal(t, int64(1), c.Exists(ctx, SessionKey(prefix, tok.ID)).Val())
	})

	t.Run("absolute", func(t *testing.T) {
		clk := newClock(start)
		r := NewReader(c, prefix, clk.Now)
		token, tok := putSession(t, c, prefix, start)
		key := SessionKey(prefix, tok.ID)
		abs := start.Add(absolute)
		// Stay active: validate every 20 minutes until the absolute expiry.
		for clk.Now().Before(abs.Add(-20 * time.Minute)) {
			clk.Advance(20 * time.Minute)
			_, _, err := r.Validate(ctx, token)
			require.NoError(t, err, "at %s", clk.Now())
		}
		// Near the end the TTL is capped by the absolute expiry.
		clk.Set(abs.Add(-5 * time.Minute))
		_, _, err := r.Validate(ctx, token)
		require.NoError(t, err)
		ttl, err := c.PTTL(ctx, key).Result()
		require.NoError(t, err)
		require.LessOrEqual(t, ttl, 5*time.Minute)

		clk.Set(abs)
		_, _, err = r.Validate(ctx, token)
		require.ErrorIs(t, err, ErrNotFound)
		require.Zero(t, c.Exists(ctx, key).Val())
	})
}

func TestValidateRefuses(t *testing.T) {
	c, prefix := testenv.Redis(t)
	ctx := context.Background()
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clk := newClock(start)
	r := NewReader(c, prefix, clk.Now)

	t.Run("tampered token hash", func(t *testing.T) {
		token, tok := putSession(t, c, prefix, start)
		tampered := []byte(tok.Hash)
		tampered[63] ^= 1
		require.NoError(t, c.HSet(ctx, SessionKey(prefix, tok.ID), FieldTokenHash, string(tampered)).Err())
		_, _, err := r.Validate(ctx, token)
		require.ErrorIs(t, err, ErrNotFound)
	})
	t.Run("unknown token", func(t *testing.T) {
		token, _, err := NewToken(rand.Reader)
		require.NoError(t, err)
		_, _, err = r.Validate(ctx, token)
		require.ErrorIs(t, err, ErrNotFound)
	})
	t.Run("revoked", func(t *testing.T) {
		token, tok := putSession(t, c, prefix, start)
		require.NoError(t, c.Del(ctx, SessionKey(prefix, tok.ID)).Err())
		_, _, err := r.Validate(ctx, token)
		require.ErrorIs(t, err, ErrNotFound)
	})
	t.Run("other prefix", func(t *testing.T) {
		token, _ := putSession(t, c, prefix, start)
		_, _, err := NewReader(c, prefix+"other:", clk.Now).Validate(ctx, token)
		require.ErrorIs(t, err, ErrNotFound)
	})
}

func TestValidateCostsOneRoundTrip(t *testing.T) {
	c, prefix := testenv.Redis(t)
	ctx := context.Background()
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clk := newClock(start)
	r := NewReader(c, prefix, clk.Now)
	token, _ := putSession(t, c, prefix, start)
	_, _, err := r.Validate(ctx, token) // loads the script into Redis if needed
	require.NoError(t, err)

	counter := &commandCounter{}
	c.AddHook(counter)
	for _, step := range []time.Duration{0, 10 * time.Second, 2 * time.Minute} {
		clk.Advance(step)
		before := counter.n.Load()
		_, _, err = r.Validate(ctx, token)
		require.NoError(t, err)
		require.Equal(t, int64(1), counter.n.Load()-before, "after %s", step)
	}

	before := counter.n.Load()
	_, _, err = r.Validate(ctx, "garbage")
	require.ErrorIs(t, err, ErrNotFound)
	require.Equal(t, before, counter.n.Load(), "a malformed token touches no Redis")
}

func TestValidateRedisFailureIsNotNotFound(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { _ = c.Close() })
	token, _, err := NewToken(rand.Reader)
	require.NoError(t, err)
	_, _, err = NewReader(c, "wt:", nil).Validate(context.Background(), token)
	require.Error(t, err)
	require.False(t, errors.Is(err, ErrNotFound), "callers must fail closed, not treat an outage as logged out")
}

func TestView(t *testing.T) {
	created := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	abs := created.Add(absolute)
	rec := &sessionv1.SessionRecord{
		Id:                 "id",
		User:               &sessionv1.SessionUser{Id: "u1", Email: "ada@example.com", Name: "Ada"},
		Org:                &sessionv1.SessionOrg{Id: "o1", Name: "Acme"},
		Role:               "ANALYST",
		Orgs:               []*sessionv1.OrgMembership{{Id: "o1", Name: "Acme", Role: "ANALYST"}},
		MfaEnabled:         true,
		AuthLevel:          authzv1.AuthLevel_AUTH_LEVEL_MFA,
		CsrfToken:          "csrf",
		AbsoluteExpiresAt:  timestamppb.New(abs),
		IdleTimeoutSeconds: int64(idle / time.Second),
	}
	for _, tt := range []struct {
		name     string
		lastSeen time.Time
		wantIdle time.Time
	}{
		{name: "idle before absolute", lastSeen: created.Add(time.Hour), wantIdle: created.Add(time.Hour + idle)},
		{name: "capped by absolute", lastSeen: abs.Add(-time.Minute), wantIdle: abs},
	} {
		t.Run(tt.name, func(t *testing.T) {
			perms := []string{"alerts:read"}
			v := View(rec, tt.lastSeen, perms)
			perms[0] = "changed"
			require.Equal(t, []string{"alerts:read"}, v.GetPermissions())
			require.Equal(t, abs, v.GetExpiresAt().AsTime())
			require.Equal(t, tt.wantIdle, v.GetIdleExpiresAt().AsTime())
			require.True(t, v.GetMfaVerified())
			require.True(t, v.GetMfaEnabled())
			require.Equal(t, "csrf", v.GetCsrfToken())
			require.Equal(t, "ANALYST", v.GetRole())
			require.Equal(t, "Acme", v.GetOrg().GetName())
			require.Len(t, v.GetOrgs(), 1)
		})
	}
	rec.AuthLevel = authzv1.AuthLevel_AUTH_LEVEL_PASSWORD
	require.False(t, View(rec, created, nil).GetMfaVerified())
	require.NotNil(t, View(rec, created, nil).GetPermissions(), "an empty list, not null")
}

func BenchmarkReaderValidate(b *testing.B) {
	c, prefix := testenv.Redis(b)
	ctx := context.Background()
	r := NewReader(c, prefix, nil)
	token, _ := putSession(b, c, prefix, time.Now())
	_, _, err := r.Validate(ctx, token)
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := r.Validate(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReaderValidateParallel(b *testing.B) {
	c, prefix := testenv.Redis(b)
	ctx := context.Background()
	r := NewReader(c, prefix, nil)
	token, _ := putSession(b, c, prefix, time.Now())
	_, _, err := r.Validate(ctx, token)
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := r.Validate(ctx, token); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkBaselineGet is one plain GET on the same connection pool: the
// floor a one-round-trip Validate is compared with.
func BenchmarkBaselineGet(b *testing.B) {
	c, prefix := testenv.Redis(b)
	ctx := context.Background()
	require.NoError(b, c.Set(ctx, prefix+"k", "v", time.Minute).Err())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := c.Get(ctx, prefix+"k").Err(); err != nil {
			b.Fatal(err)
		}
	}
}
