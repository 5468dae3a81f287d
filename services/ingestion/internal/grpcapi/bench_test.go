package grpcapi_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	ingestionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/ingestion/v1"
	"github.com/watchtower/authplane/services/ingestion/internal/ingest"
)

// latencies collects per-call durations for p50/p99.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *latencies) report(b *testing.B) {
	sort.Slice(l.d, func(i, j int) bool { return l.d[i] < l.d[j] })
	if len(l.d) == 0 {
		return
	}
	q := func(p float64) float64 { return float64(l.d[int(p*float64(len(l.d)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkIngest measures one accepted transaction (rate limit + claim,
// velocity, Postgres insert, completion) against the real Postgres and
// Redis, 64 concurrent callers, unique keys: the service alone, and over
// the loopback gRPC socket with a signed principal.
func BenchmarkIngest(b *testing.B) {
	e := newEnv(b, envOptions{})
	require.NoError(b, e.settings.PutRate(context.Background(), "org-bench", 1_000_000, 1_000_000))
	var seq atomic.Int64

	b.Run("service", func(b *testing.B) {
		var lat latencies
		b.SetParallelism(32) // 2 CPUs x 32 = 64 goroutines
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := seq.Add(1)
				start := time.Now()
				res, err := e.svc.Ingest(context.Background(), ingest.Caller{OrgID: "org-bench", APIKeyID: "key_bench"},
					fmt.Sprint("bk-", n), []byte(body(fmt.Sprint("BR-", n), "1234.56")))
				if err != nil || res.Status != 201 {
					b.Errorf("ingest: %v", err)
					return
				}
				lat.add(time.Since(start))
			}
		})
		lat.report(b)
	})
	b.Run("grpc", func(b *testing.B) {
		var lat latencies
		b.SetParallelism(32)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := seq.Add(1)
				ctx := e.apiKey("org-bench", "key_bench")
				start := time.Now()
				res, err := e.client.Ingest(ctx, &ingestionv1.IngestRequest{IdempotencyKey: fmt.Sprint("bk-", n), Body: []byte(body(fmt.Sprint("BR-", n), "1234.56"))})
				if err != nil || res.GetHttpStatus() != 201 {
					b.Errorf("ingest: %v", err)
					return
				}
				lat.add(time.Since(start))
			}
		})
		lat.report(b)
	})
}
