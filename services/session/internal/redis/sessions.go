package redis

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/watchtower/authplane/platform/apperr"
	sessionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/session/v1"
	"github.com/watchtower/authplane/services/session/internal/recordpb"
	"github.com/watchtower/authplane/services/session/internal/session"
	"github.com/watchtower/authplane/services/session/sessionkv"
	"google.golang.org/protobuf/proto"
)

// Sessions stores sessions in Redis. It implements session.Store.
type Sessions struct {
	c      goredis.UniversalClient
	prefix string
	now    func() time.Time
	random io.Reader
	reader *sessionkv.Reader
	// maxLifetime bounds every session's absolute lifetime: index entries
	// older than it are certainly dead and are pruned.
	maxLifetime time.Duration
}

// NewSessions returns a store over the keys under prefix. maxLifetime is
// the longest absolute lifetime any session is given.
func NewSessions(c goredis.UniversalClient, prefix string, now func() time.Time, random io.Reader, maxLifetime time.Duration) *Sessions {
	return &Sessions{
		c: c, prefix: prefix, now: now, random: random,
		reader:      sessionkv.NewReader(c, prefix, now),
		maxLifetime: maxLifetime,
	}
}

// Create stores rec under a fresh token.
//
// The user index is written before the session: if the second write fails,
// the index holds an id with no session (harmless, pruned by List), never a
// session missing from the index, which RevokeAll could not find.
func (s *Sessions) Create(ctx context.Context, rec session.Record) (string, string, error) {
	token, tok, err := sessionkv.NewToken(s.random)
	if err != nil {
		return "", "", err
	}
	rec.ID = tok.ID
	raw, err := proto.Marshal(recordpb.ToProto(rec))
	if err != nil {
		return "", "", fmt.Errorf("marshal session record: %w", err)
	}
	now := s.now()
	life := rec.AbsoluteExp.Sub(now)
	ttl := min(rec.IdleTimeout, life)
	if ttl <= 0 {
		return "", "", errors.New("session would expire before it is stored")
	}

	index := sessionkv.UserSessionsKey(s.prefix, rec.User.ID)
	_, err = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		p.ZAdd(ctx, index, goredis.Z{Score: float64(rec.CreatedAt.UnixMilli()), Member: tok.ID})
		// The index lives as long as its longest-lived session: set a TTL
		// when there is none, extend it when this session outlives it.
		p.ExpireNX(ctx, index, life+time.Second)
		p.ExpireGT(ctx, index, life+time.Second)
		p.ZRemRangeByScore(ctx, index, "-inf", strconv.FormatInt(now.Add(-s.maxLifetime).UnixMilli(), 10))
		return nil
	})
	if err != nil {
		return "", "", apperr.Unavailable(fmt.Errorf("index session: %w", err))
	}
	key := sessionkv.SessionKey(s.prefix, tok.ID)
	_, err = s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.HSet(ctx, key,
			sessionkv.FieldRecord, raw,
			sessionkv.FieldTokenHash, tok.Hash,
			sessionkv.FieldAbsolute, rec.AbsoluteExp.UnixMilli(),
			sessionkv.FieldSeen, now.UnixMilli(),
			sessionkv.FieldIdle, rec.IdleTimeout.Milliseconds())
		p.PExpire(ctx, key, ttl)
		return nil
	})
	if err != nil {
		return "", "", apperr.Unavailable(fmt.Errorf("store session: %w", err))
	}
	return token, tok.ID, nil
}

// Validate resolves a token in one round trip (sessionkv.Reader).
func (s *Sessions) Validate(ctx context.Context, token string) (session.Live, error) {
	rec, seen, err := s.reader.Validate(ctx, token)
	if errors.Is(err, sessionkv.ErrNotFound) {
		return session.Live{}, session.ErrNotFound
	}
	if err != nil {
		return session.Live{}, apperr.Unavailable(err)
	}
	return session.Live{Record: recordpb.FromProto(rec), LastSeen: seen}, nil
}

// Get reads a session by id without sliding it.
func (s *Sessions) Get(ctx context.Context, id string) (session.Live, error) {
	if !validID(id) {
		return session.Live{}, session.ErrNotFound
	}
	vals, err := s.c.HMGet(ctx, sessionkv.SessionKey(s.prefix, id), fieldsRead...).Result()
	if err != nil {
		return session.Live{}, apperr.Unavailable(fmt.Errorf("read session: %w", err))
	}
	l, ok, err := s.decode(vals)
	if err != nil {
		return session.Live{}, err
	}
	if !ok {
		return session.Live{}, session.ErrNotFound
	}
	return l, nil
}

// Revoke deletes session id when it belongs to userID.
func (s *Sessions) Revoke(ctx context.Context, userID, id string) error {
	l, err := s.Get(ctx, id)
	if errors.Is(err, session.ErrNotFound) {
		if validID(id) {
			// Drop a dangling index entry, if any; the answer stays not found.
			_ = s.c.ZRem(ctx, sessionkv.UserSessionsKey(s.prefix, userID), id).Err()
		}
		return err
	}
	if err != nil {
		return err
	}
	if l.User.ID != userID {
		return session.ErrNotFound
	}
	n, err := s.c.Del(ctx, sessionkv.SessionKey(s.prefix, id)).Result()
	if err != nil {
		return apperr.Unavailable(fmt.Errorf("delete session: %w", err))
	}
	if err := s.c.ZRem(ctx, sessionkv.UserSessionsKey(s.prefix, userID), id).Err(); err != nil {
		return apperr.Unavailable(fmt.Errorf("unindex session: %w", err))
	}
	if n == 0 {
		return session.ErrNotFound
	}
	return nil
}

// RevokeAll deletes every session of userID but except.
//
// It reads the user index, deletes each session key (one slot each; go-redis
// splits the pipeline per node on a cluster), then removes the ids from the
// index. Convergence: every session that existed when the index was read is
// gone when RevokeAll returns, because Create indexes a session before it
// writes it. A session created concurrently, after the read, survives; it
// was opened after the revocation started, with credentials that were valid
// then. If RevokeAll fails half-way, the caller gets Unavailable and a retry
// finishes the job (deleting is idempotent).
func (s *Sessions) RevokeAll(ctx context.Context, userID, except string) (int, error) {
	index := sessionkv.UserSessionsKey(s.prefix, userID)
	ids, err := s.c.ZRange(ctx, index, 0, -1).Result()
	if err != nil {
		return 0, apperr.Unavailable(fmt.Errorf("read session index: %w", err))
	}
	var victims []string
	for _, id := range ids {
		if id != except {
			victims = append(victims, id)
		}
	}
	if len(victims) == 0 {
		return 0, nil
	}
	dels := make([]*goredis.IntCmd, len(victims))
	_, err = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range victims {
			dels[i] = p.Del(ctx, sessionkv.SessionKey(s.prefix, id))
		}
		return nil
	})
	if err != nil {
		return 0, apperr.Unavailable(fmt.Errorf("delete sessions: %w", err))
	}
	members := make([]any, len(victims))
	for i, id := range victims {
		members[i] = id
	}
	if err := s.c.ZRem(ctx, index, members...).Err(); err != nil {
		return 0, apperr.Unavailable(fmt.Errorf("unindex sessions: %w", err))
	}
	revoked := 0
	for _, d := range dels {
		revoked += int(d.Val())
	}
	return revoked, nil
}

// List returns userID's live sessions, newest first, and prunes index
// entries whose session is gone.
func (s *Sessions) List(ctx context.Context, userID string) ([]session.Live, error) {
	index := sessionkv.UserSessionsKey(s.prefix, userID)
	ids, err := s.c.ZRevRange(ctx, index, 0, -1).Result()
	if err != nil {
		return nil, apperr.Unavailable(fmt.Errorf("read session index: %w", err))
	}
	if len(ids) == 0 {
		return nil, nil
	}
	reads := make([]*goredis.SliceCmd, len(ids))
	_, err = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			reads[i] = p.HMGet(ctx, sessionkv.SessionKey(s.prefix, id), fieldsRead...)
		}
		return nil
	})
	if err != nil {
		return nil, apperr.Unavailable(fmt.Errorf("read sessions: %w", err))
	}
	var out []session.Live
	var stale []any
	for i, r := range reads {
		l, ok, err := s.decode(r.Val())
		if err != nil {
			return nil, err
		}
		if !ok || l.User.ID != userID {
			stale = append(stale, ids[i])
			continue
		}
		out = append(out, l)
	}
	if len(stale) > 0 {
		_ = s.c.ZRem(ctx, index, stale...).Err() // best effort; the next List retries
	}
	return out, nil
}

var fieldsRead = []string{sessionkv.FieldRecord, sessionkv.FieldAbsolute, sessionkv.FieldSeen, sessionkv.FieldIdle}

// decode turns an HMGET of fieldsRead into a live session; ok is false when
// the session is missing or past its idle or absolute expiry.
func (s *Sessions) decode(vals []any) (session.Live, bool, error) {
	if len(vals) != len(fieldsRead) {
		return session.Live{}, false, nil
	}
	raw, ok1 := vals[0].(string)
	abs, ok2 := int64Of(vals[1])
	seen, ok3 := int64Of(vals[2])
	idle, ok4 := int64Of(vals[3])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return session.Live{}, false, nil
	}
	now := s.now().UnixMilli()
	if now >= abs || now-seen >= idle {
		return session.Live{}, false, nil
	}
	rec := &sessionv1.SessionRecord{}
	if err := proto.Unmarshal([]byte(raw), rec); err != nil {
		return session.Live{}, false, fmt.Errorf("decode session record: %w", err)
	}
	return session.Live{Record: recordpb.FromProto(rec), LastSeen: time.UnixMilli(seen).UTC()}, true, nil
}

func int64Of(v any) (int64, bool) {
	s, ok := v.(string)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n < math.MaxInt64
}

// validID reports whether id has the shape of a session id (32 hex digits),
// so no caller-chosen string ever becomes part of a key.
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}
