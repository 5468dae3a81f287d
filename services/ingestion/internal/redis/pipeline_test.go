package redis

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/testenv"
	"github.com/watchtower/authplane/services/ingestion/internal/ingest"
)

func beginArgs(key, owner string) ingest.BeginArgs {
	return ingest.BeginArgs{OrgID: "org-p", Key: key, Fingerprint: strings.Repeat("a", fpLen), Owner: owner,
		Lease: 5 * time.Second, RatePerSecond: 1_000_000, Burst: 1_000_000, Claim: true}
}

// Through pipelines, concurrent calls keep the scripts' guarantees: of the
// callers racing for one key exactly one claims it, and every caller gets its
// own reply; completion and replay work as with direct calls.
func TestPipelinedScriptsUnderConcurrency(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := NewIdempotency(rdb, prefix)
	s.StartPipelining(ctx, 2, 8)

	// A script cache emptied (a Redis restart, a failover): the pipeline
	// meets NOSCRIPT and must load the scripts itself.
	require.NoError(t, rdb.ScriptFlush(ctx).Err())

	const keys, racers = 20, 10
	outcomes := make([][]ingest.BeginOutcome, keys)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for k := range keys {
		for r := range racers {
			wg.Go(func() {
				res, err := s.Begin(context.Background(), beginArgs(fmt.Sprint("key-", k), fmt.Sprint("owner-", r)))
				require.NoError(t, err)
				mu.Lock()
				outcomes[k] = append(outcomes[k], res.Outcome)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	for k, got := range outcomes {
		claimed := 0
		for _, o := range got {
			switch o {
			case ingest.Claimed:
				claimed++
			case ingest.InFlight:
			default:
				t.Fatalf("key %d: unexpected outcome %v", k, o)
			}
		}
		require.Equal(t, 1, claimed, "key %d", k)
	}

	// Complete through the pipeline, then a replay.
	a := beginArgs("solo", "me")
	res, err := s.Begin(ctx, a)
	require.NoError(t, err)
	require.Equal(t, ingest.Claimed, res.Outcome)
	ok, err := s.Complete(ctx, a, 201, []byte(`{"x":1}`))
	require.NoError(t, err)
	require.True(t, ok)
	res, err = s.Begin(ctx, beginArgs("solo", "other"))
	require.NoError(t, err)
	require.Equal(t, ingest.Replay, res.Outcome)
	require.Equal(t, `{"x":1}`, string(res.Body))

	// After the workers stop, calls go straight to Redis.
	cancel()
	select {
	case <-s.pipe.batcher.Stopped():
	case <-time.After(5 * time.Second):
		t.Fatal("pipeline workers did not stop")
	}
	res, err = s.Begin(context.Background(), beginArgs("late", "me"))
	require.NoError(t, err)
	require.Equal(t, ingest.Claimed, res.Outcome)
}
