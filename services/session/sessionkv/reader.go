package sessionkv

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	sessionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/session/v1"
	"google.golang.org/protobuf/proto"
)

// DefaultRefreshInterval is how stale `seen` may get before Validate writes
// it again: sliding the idle expiry on every request would turn every read
// into a write.
const DefaultRefreshInterval = time.Minute

// ErrNotFound means the token names no live session: unknown, expired,
// revoked, tampered with or not a token at all.
var ErrNotFound = errors.New("sessionkv: session not found")

//go:embed validate.lua
var validateSource string

var validateScript = redis.NewScript(validateSource)

// Reader resolves session tokens. It is safe for concurrent use.
type Reader struct {
	client  redis.UniversalClient
	prefix  string
	now     func() time.Time
	refresh time.Duration
}

// NewReader returns a Reader over the keys under prefix. now may be nil for
// time.Now. The refresh interval is DefaultRefreshInterval.
func NewReader(client redis.UniversalClient, prefix string, now func() time.Time) *Reader {
	if now == nil {
		now = time.Now
	}
	return &Reader{client: client, prefix: prefix, now: now, refresh: DefaultRefreshInterval}
}

// WithRefreshInterval returns a copy of r that slides the idle expiry when
// `seen` is at least d old.
func (r *Reader) WithRefreshInterval(d time.Duration) *Reader {
	c := *r
	c.refresh = d
	return &c
}

// Validate resolves token to its session record and last-seen time in one
// Redis round trip (EVALSHA of validate.lua), sliding the idle expiry when
// due. It returns ErrNotFound for a malformed, unknown, expired or
// mismatching token without distinguishing them, and a wrapped Redis error
// otherwise: callers must then fail closed.
func (r *Reader) Validate(ctx context.Context, token string) (*sessionv1.SessionRecord, time.Time, error) {
	t, err := ParseToken(token)
	if err != nil {
		return nil, time.Time{}, ErrNotFound
	}
	now := r.now().UnixMilli()
	res, err := validateScript.Run(ctx, r.client, []string{SessionKey(r.prefix, t.ID)},
		t.Hash, now, r.refresh.Milliseconds()).Slice()
	if errors.Is(err, redis.Nil) {
		return nil, time.Time{}, ErrNotFound
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("sessionkv: validate: %w", err)
	}
	if len(res) != 2 {
		return nil, time.Time{}, fmt.Errorf("sessionkv: validate: unexpected reply of %d elements", len(res))
	}
	raw, _ := res[0].(string)
	seenText, _ := res[1].(string)
	seen, err := strconv.ParseInt(seenText, 10, 64)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("sessionkv: validate: bad seen %q", seenText)
	}
	rec := &sessionv1.SessionRecord{}
	if err := proto.Unmarshal([]byte(raw), rec); err != nil {
		return nil, time.Time{}, fmt.Errorf("sessionkv: decode record %s: %w", t.ID, err)
	}
	return rec, time.UnixMilli(seen).UTC(), nil
}
