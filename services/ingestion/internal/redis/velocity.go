package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Velocity implements ingest.Velocity with one sorted set per (org, sender),
// updated in one MULTI/EXEC round trip. Members are transaction references,
// so a retried transaction is counted once.
type Velocity struct {
	c    goredis.UniversalClient
	keys Keys
}

// NewVelocity returns the velocity counter.
func NewVelocity(c goredis.UniversalClient, prefix string) *Velocity {
	return &Velocity{c: c, keys: Keys{Prefix: prefix}}
}

// Add records member and counts the window.
func (v *Velocity) Add(ctx context.Context, orgID, senderID, member string, now time.Time, window time.Duration) (int, error) {
	key := v.keys.Velocity(orgID, senderID)
	ms := now.UnixMilli()
	var card *goredis.IntCmd
	_, err := v.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.ZAdd(ctx, key, goredis.Z{Score: float64(ms), Member: member})
		p.ZRemRangeByScore(ctx, key, "-inf", "("+strconv.FormatInt(ms-window.Milliseconds(), 10))
		card = p.ZCard(ctx, key)
		p.PExpire(ctx, key, window+time.Second)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("velocity: %w", err)
	}
	return int(card.Val()), nil
}
