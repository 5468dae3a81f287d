package redis

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

var (
	//go:embed take.lua
	takeSrc    string
	takeScript = goredis.NewScript(takeSrc)
)

// Usage implements ingest.UsageLog with one hash shared by every replica.
type Usage struct {
	c    goredis.UniversalClient
	keys Keys
}

// NewUsage returns the usage buffer.
func NewUsage(c goredis.UniversalClient, prefix string) *Usage {
	return &Usage{c: c, keys: Keys{Prefix: prefix}}
}

// Note records that keyID was used at at.
func (u *Usage) Note(ctx context.Context, keyID string, at time.Time) error {
	if err := u.c.HSet(ctx, u.keys.LastUsed(), keyID, at.Unix()).Err(); err != nil {
		return fmt.Errorf("usage note: %w", err)
	}
	return nil
}

// Take drains the buffer.
func (u *Usage) Take(ctx context.Context) (map[string]time.Time, error) {
	vals, err := takeScript.Run(ctx, u.c, []string{u.keys.LastUsed()}).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("usage take: %w", err)
	}
	out := make(map[string]time.Time, len(vals)/2)
	for i := 0; i+1 < len(vals); i += 2 {
		sec, err := strconv.ParseInt(vals[i+1], 10, 64)
		if err != nil {
			continue
		}
		out[vals[i]] = time.Unix(sec, 0).UTC()
	}
	return out, nil
}

// Events publishes API key changes on the invalidation channel.
type Events struct {
	c    goredis.UniversalClient
	keys Keys
}

// NewEvents returns the publisher.
func NewEvents(c goredis.UniversalClient, prefix string) *Events {
	return &Events{c: c, keys: Keys{Prefix: prefix}}
}

// Publish announces that keyID changed.
func (e *Events) Publish(ctx context.Context, keyID string) error {
	if err := e.c.Publish(ctx, e.keys.Invalidate(), keyID).Err(); err != nil {
		return fmt.Errorf("publish invalidation: %w", err)
	}
	return nil
}
