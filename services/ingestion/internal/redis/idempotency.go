package redis

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/watchtower/authplane/services/ingestion/internal/ingest"
)

// Values stored under an idempotency key:
//
//	claim:  "C" + fingerprint(64 hex) + owner
//	record: "D" + fingerprint(64 hex) + status(3 digits) + body
const fpLen = 64

var (
	//go:embed begin.lua
	beginSrc string
	//go:embed complete.lua
	completeSrc string
	//go:embed release.lua
	releaseSrc string

	beginScript    = goredis.NewScript(beginSrc)
	completeScript = goredis.NewScript(completeSrc)
	releaseScript  = goredis.NewScript(releaseSrc)
)

// Idempotency implements ingest.Idempotency.
type Idempotency struct {
	c    goredis.UniversalClient
	keys Keys
	pipe *pipeliner // nil: one round trip per call
}

// NewIdempotency returns the idempotency store.
func NewIdempotency(c goredis.UniversalClient, prefix string) *Idempotency {
	return &Idempotency{c: c, keys: Keys{Prefix: prefix}}
}

func claimValue(a ingest.BeginArgs) string { return "C" + a.Fingerprint + a.Owner }

// StartPipelining sends the scripts of concurrent calls to Redis in
// pipelines of at most size (see pipeline.go), with workers pipelines in
// flight, until ctx ends. Call it once, before the store is used.
func (s *Idempotency) StartPipelining(ctx context.Context, workers, size int) {
	s.pipe = startPipeliner(ctx, s.c, workers, size)
}

// Begin applies the rate limit, then returns the record, the foreign claim
// or (when a.Claim) a fresh claim for a.Owner with the sender's velocity.
func (s *Idempotency) Begin(ctx context.Context, a ingest.BeginArgs) (ingest.BeginResult, error) {
	if len(a.Fingerprint) != fpLen {
		return ingest.BeginResult{}, errors.New("idempotency: bad fingerprint")
	}
	interval := 1_000_000 / max(a.RatePerSecond, 1)
	claim, velKey := "0", ""
	if a.Claim {
		claim = "1"
		if a.SenderID != "" {
			velKey = s.keys.Velocity(a.OrgID, a.SenderID)
		}
	}
	res, err := s.pipe.run(ctx, s.c, beginScript, []string{s.keys.Rate(a.OrgID), s.keys.Idem(a.OrgID, a.Key), velKey},
		interval, max(a.Burst, 1), claimValue(a), a.Lease.Milliseconds(), claim, a.Member, a.Window.Milliseconds()).StringSlice()
	if err != nil {
		return ingest.BeginResult{}, fmt.Errorf("idempotency begin: %w", err)
	}
	switch res[0] {
	case "absent":
		return ingest.BeginResult{Outcome: ingest.Absent}, nil
	case "claimed":
		n, _ := strconv.Atoi(res[1])
		return ingest.BeginResult{Outcome: ingest.Claimed, VelocityCount: n}, nil
	case "limited":
		us, _ := strconv.ParseInt(res[1], 10, 64)
		return ingest.BeginResult{Outcome: ingest.Limited, RetryAfter: time.Duration(us) * time.Microsecond}, nil
	case "found":
		v := res[1]
		pttl, _ := strconv.ParseInt(res[2], 10, 64)
		if len(v) < 1+fpLen {
			return ingest.BeginResult{}, errors.New("idempotency: corrupt record")
		}
		if v[1:1+fpLen] != a.Fingerprint {
			return ingest.BeginResult{Outcome: ingest.Reused}, nil
		}
		if v[0] == 'C' {
			return ingest.BeginResult{Outcome: ingest.InFlight, RetryAfter: time.Duration(max(pttl, 0)) * time.Millisecond}, nil
		}
		if len(v) < 1+fpLen+3 {
			return ingest.BeginResult{}, errors.New("idempotency: corrupt record")
		}
		status, err := strconv.Atoi(v[1+fpLen : 1+fpLen+3])
		if err != nil {
			return ingest.BeginResult{}, errors.New("idempotency: corrupt record")
		}
		return ingest.BeginResult{Outcome: ingest.Replay, Status: status, Body: []byte(v[1+fpLen+3:])}, nil
	}
	return ingest.BeginResult{}, fmt.Errorf("idempotency: unexpected script answer %q", res[0])
}

// Complete turns the owner's claim into the record for 24 hours.
func (s *Idempotency) Complete(ctx context.Context, a ingest.BeginArgs, status int, body []byte) (bool, error) {
	record := fmt.Sprintf("D%s%03d%s", a.Fingerprint, status, body)
	n, err := s.pipe.run(ctx, s.c, completeScript, []string{s.keys.Idem(a.OrgID, a.Key)}, claimValue(a), record,
		ingest.IdempotencyRetention.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("idempotency complete: %w", err)
	}
	return n == 1, nil
}

// Release drops the owner's claim.
func (s *Idempotency) Release(ctx context.Context, a ingest.BeginArgs) error {
	if err := s.pipe.run(ctx, s.c, releaseScript, []string{s.keys.Idem(a.OrgID, a.Key)}, claimValue(a)).Err(); err != nil {
		return fmt.Errorf("idempotency release: %w", err)
	}
	return nil
}
