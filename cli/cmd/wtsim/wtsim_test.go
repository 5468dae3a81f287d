package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGeneratorIsDeterministic(t *testing.T) {
	a, b := generator{seed: 7}, generator{seed: 7}
	require.Equal(t, a.body(42), b.body(42))
	require.Equal(t, a.key(42), b.key(42))
	require.NotEqual(t, a.body(42), a.body(43))
	require.NotEqual(t, a.body(42), generator{seed: 8}.body(42))
	var tx map[string]any
	require.NoError(t, json.Unmarshal(a.body(1), &tx))
	for _, f := range []string{"reference", "amount", "currency", "channel", "transactionType", "transactionCategory", "timestamp", "sender", "receiver"} {
		require.Contains(t, tx, f)
	}
}

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	require.Equal(t, []time.Duration{50 * time.Millisecond, 95 * time.Millisecond, 99 * time.Millisecond}, percentiles(d, 0.5, 0.95, 0.99))
	require.Equal(t, []time.Duration{0}, percentiles(nil, 0.5))
}

func TestRetryable(t *testing.T) {
	for _, tt := range []struct {
		name string
		r    result
		want bool
	}{
		{"created", result{Status: 201}, false},
		{"unavailable", result{Status: 503}, true},
		{"in progress", result{Status: 409, Body: []byte(`{"error":"idempotency_key_in_progress"}`)}, true},
		{"duplicate", result{Status: 409, Body: []byte(`{"error":"duplicate_transaction"}`)}, false},
		{"rate limited", result{Status: 429}, true},
		{"validation", result{Status: 400}, false},
	} {
		t.Run(tt.name, func(t *testing.T) { require.Equal(t, tt.want, retryable(tt.r)) })
	}
}

// TestLoadFailsWhenNothingIsAccepted is the regression test for a run in
// which every send was refused (a stale API key) yet wtsim said OK, exit 0.
func TestLoadFailsWhenNothingIsAccepted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_api_key","message":"the API key is not valid","details":{},"requestId":"r"}`))
	}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	code := run([]string{"load", "--base", srv.URL, "--api-key", "wt_test_x", "--rate", "50", "--duration", "200ms", "--concurrency", "2"}, &out, &errOut)
	require.Equal(t, 1, code, "stdout: %s\nstderr: %s", out.String(), errOut.String())
	require.Contains(t, out.String(), "result      FAIL")
}

// Regression: the seed defaulted to 1, so a second `wtsim load` against the
// same org replayed the first run's transactions and failed.
func TestLoadSeedsAFreshRunByDefault(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("idempotency-key"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_api_key","message":"no","details":{},"requestId":"r"}`))
	}))
	defer srv.Close()
	firstKey := func(extra ...string) string {
		mu.Lock()
		seen = nil
		mu.Unlock()
		var out, errOut bytes.Buffer
		args := append([]string{"load", "--base", srv.URL, "--api-key", "wt_test_x", "--rate", "20", "--duration", "100ms",
			"--concurrency", "1", "--dup-ratio", "0", "--max-attempts", "1"}, extra...)
		run(args, &out, &errOut)
		mu.Lock()
		defer mu.Unlock()
		require.NotEmpty(t, seen, "stdout: %s\nstderr: %s", out.String(), errOut.String())
		return seen[0]
	}
	require.NotEqual(t, firstKey(), firstKey(), "two default runs send different transactions")
	require.Equal(t, firstKey("--seed", "5"), firstKey("--seed", "5"), "a given seed sends the same traffic")
}
