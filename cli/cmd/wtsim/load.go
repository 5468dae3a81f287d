package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

type loadConfig struct {
	Client      clientConfig
	Rate        float64
	Duration    time.Duration
	Concurrency int
	DupRatio    float64
	Seed        uint64
	MaxAttempts int
}

type job struct {
	n   int
	dup bool
}

// txState is what the simulator learned about one logical transaction.
type txState struct {
	ackID string          // transaction id of the first 201
	ids   map[string]bool // every transaction id any 201 for it carried
}

type loadStats struct {
	mu        sync.Mutex
	latencies []time.Duration
	statuses  map[string]int
	sends     int // logical sends (a send may take several attempts)
	dups      int
	retries   int
	gaveUp    int
	unexpect  map[string]int
	txs       map[int]*txState
}

func (s *loadStats) attempt(r result) {
	key := strconv.Itoa(r.Status)
	switch {
	case r.Err != nil:
		key = "transport_error"
		if strings.Contains(r.Err.Error(), "Timeout") || strings.Contains(r.Err.Error(), "deadline") {
			key = "timeout"
		}
	case r.Status == http.StatusCreated && r.Replayed:
		key = "201(replayed)"
	case r.Status >= 300:
		key += " " + r.errorCode()
	}
	s.mu.Lock()
	s.statuses[key]++
	if r.Err == nil {
		s.latencies = append(s.latencies, r.Latency)
	}
	s.mu.Unlock()
}

// sendWithRetry sends transaction n like a real integration: the same key
// and body until a final answer or maxAttempts.
func sendWithRetry(ctx context.Context, c *client, g generator, n, maxAttempts int, onAttempt func(result)) (result, int) {
	key, body := g.key(n), g.body(n)
	var r result
	for attempt := 1; ; attempt++ {
		r = c.send(ctx, "", key, body)
		if onAttempt != nil {
			onAttempt(r)
		}
		if !retryable(r) || attempt >= maxAttempts || ctx.Err() != nil {
			return r, attempt - 1
		}
		wait := r.RetryAfter
		if wait <= 0 {
			wait = min(time.Duration(25<<attempt)*time.Millisecond, 2*time.Second)
			wait += time.Duration(rand.Int64N(int64(wait)/2 + 1))
		}
		select {
		case <-ctx.Done():
			return r, attempt
		case <-time.After(wait):
		}
	}
}

func idOf(r result) string {
	var a accepted
	if r.Status != http.StatusCreated || json.Unmarshal(r.Body, &a) != nil {
		return ""
	}
	return a.Transaction.ID
}

type loadReport struct {
	Acked, Lost, Duplicated, VerifyFailed, DistinctIDs int
}

func (r loadReport) ok() bool { return r.Lost == 0 && r.Duplicated == 0 && r.VerifyFailed == 0 }

func runLoad(ctx context.Context, cfg loadConfig, out io.Writer) (loadReport, error) {
	c, err := newClient(cfg.Client, cfg.Concurrency)
	if err != nil {
		return loadReport{}, err
	}
	g := generator{seed: cfg.Seed}
	st := &loadStats{statuses: map[string]int{}, unexpect: map[string]int{}, txs: map[int]*txState{}}
	fmt.Fprintf(out, "wtsim load: base=%s seed=%d rate=%g/s duration=%s concurrency=%d dup-ratio=%.2f\n",
		cfg.Client.Base, cfg.Seed, cfg.Rate, cfg.Duration, cfg.Concurrency, cfg.DupRatio)

	jobs := make(chan job, cfg.Concurrency)
	start := time.Now()
	sendCtx, cancel := context.WithTimeout(ctx, cfg.Duration+30*time.Second)
	defer cancel()
	go func() {
		defer close(jobs)
		pick := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
		next := 0
		for i := 0; ; i++ {
			if cfg.Rate > 0 {
				at := start.Add(time.Duration(float64(i) / cfg.Rate * float64(time.Second)))
				if d := time.Until(at); d > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(d):
					}
				}
			}
			if time.Since(start) >= cfg.Duration || ctx.Err() != nil {
				return
			}
			j := job{n: next}
			if next > 0 && pick.Float64() < cfg.DupRatio {
				j = job{n: pick.IntN(next), dup: true}
			} else {
				next++
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()

	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				r, retries := sendWithRetry(sendCtx, c, g, j.n, cfg.MaxAttempts, st.attempt)
				st.mu.Lock()
				st.sends++
				st.retries += retries
				if j.dup {
					st.dups++
				}
				t := st.txs[j.n]
				if t == nil {
					t = &txState{ids: map[string]bool{}}
					st.txs[j.n] = t
				}
				switch id := idOf(r); {
				case id != "":
					t.ids[id] = true
					if t.ackID == "" {
						t.ackID = id
					}
				case retryable(r):
					st.gaveUp++
				default:
					st.unexpect[fmt.Sprintf("%d %s", r.Status, r.errorCode())]++
				}
				st.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	fresh := st.statuses["201"]
	attempts := 0
	for _, n := range st.statuses {
		attempts += n
	}
	fmt.Fprintf(out, "sent        %d sends (%d transactions, %d duplicates), %d HTTP attempts (%d retries) in %s\n",
		st.sends, len(st.txs), st.dups, attempts, st.retries, elapsed.Round(time.Millisecond))
	fmt.Fprintf(out, "throughput  %.1f req/s, %.1f accepted transactions/s\n",
		float64(attempts)/elapsed.Seconds(), float64(fresh)/elapsed.Seconds())
	p := percentiles(st.latencies, 0.50, 0.95, 0.99)
	fmt.Fprintf(out, "latency     p50 %s  p95 %s  p99 %s  (per HTTP attempt)\n", p[0], p[1], p[2])
	fmt.Fprintf(out, "statuses    %s\n", counts(st.statuses))
	if st.gaveUp > 0 || len(st.unexpect) > 0 {
		fmt.Fprintf(out, "unanswered  %d sends gave up after %d attempts; unexpected finals: %s\n", st.gaveUp, cfg.MaxAttempts, counts(st.unexpect))
	}
	rep := verify(ctx, c, g, st, cfg, out)
	switch {
	case !rep.ok():
		fmt.Fprintln(out, "result      FAIL")
	case st.gaveUp > 0 || len(st.unexpect) > 0 || fresh == 0:
		// Exactly-once held for what was acknowledged, but a run in which
		// sends were refused (a wrong key, a validation failure) or nothing
		// was accepted did not test what it set out to.
		fmt.Fprintln(out, "result      FAIL: not every send was accepted (see unanswered / statuses)")
		return rep, errNotAccepted
	default:
		fmt.Fprintln(out, "result      OK: every acknowledged transaction is stored exactly once")
	}
	return rep, nil
}

// errNotAccepted reports a load run in which some sends were never accepted.
var errNotAccepted = errors.New("some sends were never accepted")

// verify re-sends every acknowledged transaction with its idempotency key
// and body. A transaction stored exactly once answers 201 replayed with the
// id first acknowledged; a fresh 201 means the acknowledged one was lost
// (and has now been stored); another id, or several ids seen for one
// transaction during the run, means it was duplicated. Ids must also be
// distinct across transactions. (GET /api/v1/transactions needs a console
// session, so the simulator verifies through the ingestion API itself.)
func verify(ctx context.Context, c *client, g generator, st *loadStats, cfg loadConfig, out io.Writer) loadReport {
	var rep loadReport
	var acked []int
	owner := map[string]int{}
	for n, t := range st.txs {
		if len(t.ids) > 1 {
			rep.Duplicated++
		}
		if t.ackID == "" {
			continue
		}
		acked = append(acked, n)
		if prev, seen := owner[t.ackID]; seen && prev != n {
			rep.Duplicated++
		}
		owner[t.ackID] = n
	}
	sort.Ints(acked)
	rep.Acked, rep.DistinctIDs = len(acked), len(owner)

	work := make(chan int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range work {
				r, _ := sendWithRetry(ctx, c, g, n, cfg.MaxAttempts, nil)
				id := idOf(r)
				mu.Lock()
				switch {
				case id == "":
					rep.VerifyFailed++
				case !r.Replayed:
					rep.Lost++
				case id != st.txs[n].ackID:
					rep.Duplicated++
				}
				mu.Unlock()
			}
		}()
	}
	for _, n := range acked {
		work <- n
	}
	close(work)
	wg.Wait()
	fmt.Fprintf(out, "verify      %d acknowledged transactions re-sent: %d lost, %d duplicated, %d unverifiable; %d distinct ids\n",
		rep.Acked, rep.Lost, rep.Duplicated, rep.VerifyFailed, rep.DistinctIDs)
	return rep
}

func percentiles(d []time.Duration, qs ...float64) []time.Duration {
	out := make([]time.Duration, len(qs))
	if len(d) == 0 {
		return out
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	for i, q := range qs {
		idx := int(q*float64(len(s))+0.5) - 1
		out[i] = s[min(max(idx, 0), len(s)-1)].Round(10 * time.Microsecond)
	}
	return out
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "  ")
}
