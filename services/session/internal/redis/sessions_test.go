package redis

import (
	"context"
	"crypto/rand"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/platform/testenv"
	"github.com/watchtower/authplane/services/session/internal/session"
	"github.com/watchtower/authplane/services/session/sessionkv"
)

type clock struct{ ms atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ms.Store(t.UnixMilli())
	return c
}

func (c *clock) Now() time.Time          { return time.UnixMilli(c.ms.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

var start = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func newStore(t *testing.T) (*Sessions, *clock) {
	t.Helper()
	c, prefix := testenv.Redis(t)
	clk := newClock(start)
	return NewSessions(c, prefix, clk.Now, rand.Reader, 12*time.Hour), clk
}

func record(userID string, now time.Time) session.Record {
	return session.Record{
		User:        session.User{ID: userID, Email: userID + "@example.com", Name: "User " + userID},
		Org:         session.Membership{OrgID: "o1", OrgName: "Acme", Role: "ANALYST"},
		Orgs:        []session.Membership{{OrgID: "o1", OrgName: "Acme", Role: "ANALYST"}},
		AuthLevel:   session.AuthLevelPassword,
		State:       session.StateActive,
		CSRFToken:   "csrf",
		CreatedAt:   now,
		AbsoluteExp: now.Add(12 * time.Hour),
		IdleTimeout: 30 * time.Minute,
		IP:          "192.0.2.1",
		UserAgent:   "test",
	}
}

func TestSessionsCreateValidateGet(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	token, id, err := s.Create(ctx, record("u1", clk.Now()))
	require.NoError(t, err)
	require.Len(t, token, sessionkv.TokenLen)
	tok, err := sessionkv.ParseToken(token)
	require.NoError(t, err)
	require.Equal(t, tok.ID, id)

	l, err := s.Validate(ctx, token)
	require.NoError(t, err)
	require.Equal(t, id, l.ID)
	require.Equal(t, "u1", l.User.ID)
	require.Equal(t, "ANALYST", l.Org.Role)
	require.Equal(t, session.StateActive, l.State)
	require.Equal(t, start, l.LastSeen)

	g, err := s.Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, l.Record, g.Record)

	// The token is not stored anywhere.
	keys, err := s.c.Keys(ctx, s.prefix+"*").Result()
	require.NoError(t, err)
	for _, k := range keys {
		require.NotContains(t, k, token)
		if typ := s.c.Type(ctx, k).Val(); typ == "hash" {
			for f, v := range s.c.HGetAll(ctx, k).Val() {
				require.NotContains(t, v, token, "field %s", f)
			}
		}
	}

	_, err = s.Get(ctx, "not-an-id")
	require.ErrorIs(t, err, session.ErrNotFound)
	clk.Advance(31 * time.Minute)
	_, err = s.Get(ctx, id)
	require.ErrorIs(t, err, session.ErrNotFound, "idle-expired")
	_, err = s.Validate(ctx, token)
	require.ErrorIs(t, err, session.ErrNotFound)
}

func TestSessionsListRevoke(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	var ids []string
	for range 3 {
		_, id, err := s.Create(ctx, record("u1", clk.Now()))
		require.NoError(t, err)
		ids = append(ids, id)
		clk.Advance(time.Second)
	}
	_, otherID, err := s.Create(ctx, record("u2", clk.Now()))
	require.NoError(t, err)

	list, err := s.List(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, list, 3)
	require.Equal(t, []string{ids[2], ids[1], ids[0]}, []string{list[0].ID, list[1].ID, list[2].ID}, "newest first")

	require.ErrorIs(t, s.Revoke(ctx, "u1", otherID), session.ErrNotFound, "another user's session")
	_, err = s.Get(ctx, otherID)
	require.NoError(t, err, "and it is untouched")
	require.ErrorIs(t, s.Revoke(ctx, "u1", "0123456789abcdef0123456789abcdef"), session.ErrNotFound)

	require.NoError(t, s.Revoke(ctx, "u1", ids[1]))
	require.ErrorIs(t, s.Revoke(ctx, "u1", ids[1]), session.ErrNotFound, "twice")
	list, err = s.List(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Zero(t, s.c.ZScore(ctx, sessionkv.UserSessionsKey(s.prefix, "u1"), ids[1]).Val())

	// A session that vanished on its own is pruned from the index by List.
	require.NoError(t, s.c.Del(ctx, sessionkv.SessionKey(s.prefix, ids[0])).Err())
	list, err = s.List(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, int64(1), s.c.ZCard(ctx, sessionkv.UserSessionsKey(s.prefix, "u1")).Val())
}

func TestSessionsRevokeAll(t *testing.T) {
	for _, tt := range []struct {
		name        string
		keepCurrent bool
		wantRevoked int
	}{
		{name: "all", wantRevoked: 3},
		{name: "except current", keepCurrent: true, wantRevoked: 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newStore(t)
			ctx := context.Background()
			var tokens, ids []string
			for range 3 {
				token, id, err := s.Create(ctx, record("u1", clk.Now()))
				require.NoError(t, err)
				tokens, ids = append(tokens, token), append(ids, id)
			}
			otherToken, _, err := s.Create(ctx, record("u2", clk.Now()))
			require.NoError(t, err)

			except := ""
			if tt.keepCurrent {
				except = ids[0]
			}
			n, err := s.RevokeAll(ctx, "u1", except)
			require.NoError(t, err)
			require.Equal(t, tt.wantRevoked, n)
			for i, token := range tokens {
				_, err := s.Validate(ctx, token)
				if tt.keepCurrent && i == 0 {
					require.NoError(t, err)
				} else {
					require.ErrorIs(t, err, session.ErrNotFound)
				}
			}
			_, err = s.Validate(ctx, otherToken)
			require.NoError(t, err, "another user's session survives")

			n, err = s.RevokeAll(ctx, "u1", except)
			require.NoError(t, err)
			require.Zero(t, n, "idempotent")
		})
	}
}

func TestSessionsIndexOutlivesLongestSession(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	_, _, err := s.Create(ctx, record("u1", clk.Now()))
	require.NoError(t, err)
	pending := record("u1", clk.Now())
	pending.State = session.StateMFAPending
	pending.AbsoluteExp = clk.Now().Add(session.PendingMFALifetime)
	pending.IdleTimeout = session.PendingMFALifetime
	_, _, err = s.Create(ctx, pending)
	require.NoError(t, err)
	ttl := s.c.TTL(ctx, sessionkv.UserSessionsKey(s.prefix, "u1")).Val()
	require.Greater(t, ttl, 11*time.Hour, "a short pending session must not shorten the index")
}

func TestSessionsRedisDownIsUnavailable(t *testing.T) {
	c, prefix := testenv.Redis(t)
	s := NewSessions(c, prefix, time.Now, rand.Reader, 12*time.Hour)
	down := NewSessions(deadClient(t), prefix, time.Now, rand.Reader, 12*time.Hour)
	ctx := context.Background()
	token, _, err := s.Create(ctx, record("u1", time.Now()))
	require.NoError(t, err)
	_, err = down.Validate(ctx, token)
	requireUnavailable(t, err)
	_, _, err = down.Create(ctx, record("u1", time.Now()))
	requireUnavailable(t, err)
	_, err = down.RevokeAll(ctx, "u1", "")
	requireUnavailable(t, err)
	_, err = down.List(ctx, "u1")
	requireUnavailable(t, err)
}

func requireUnavailable(t *testing.T, err error) {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "got %v", err)
	require.Equal(t, apperr.KindUnavailable, e.Kind)
}
