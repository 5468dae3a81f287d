package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/testenv"
)

func TestTemplateExpand(t *testing.T) {
	for _, tt := range []struct {
		name string
		tmpl string
		n    uint64
		want string
	}{
		{name: "no placeholder", tmpl: `{"a":1}`, n: 7, want: `{"a":1}`},
		{name: "counter", tmpl: `{"reference":"TXN-{{n}}"}`, n: 42, want: `{"reference":"TXN-42"}`},
		{name: "run and counter", tmpl: `{{run}}-{{n}}`, n: 3, want: `RUN-3`},
		{name: "unknown placeholder kept", tmpl: `{{x}}-{{n}}`, n: 5, want: `{{x}}-5`},
		{name: "unterminated kept", tmpl: `a{{n`, n: 1, want: `a{{n`},
		{name: "empty", tmpl: ``, n: 1, want: ``},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, string(compileTemplate(tt.tmpl, "RUN").expand(nil, tt.n)))
		})
	}
}

func TestLoadSendsUniqueRequestsAndCountsStatuses(t *testing.T) {
	var mu sync.Mutex
	keys := map[string]int{}
	bodies := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		keys[r.Header.Get("Idempotency-Key")]++
		bodies[string(b)]++
		mu.Unlock()
		if r.Header.Get("Cookie") != "wt_session=abc" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	res, err := Load(context.Background(), loadConfig{
		URL: srv.URL, Method: http.MethodPost, Connections: 4, Duration: 300 * time.Millisecond,
		Headers:      []string{"Cookie: wt_session=abc", "Idempotency-Key: {{run}}-{{n}}"},
		BodyTemplate: `{"reference":"TXN-{{n}}"}`,
	})
	require.NoError(t, err)
	require.Positive(t, res.Requests)
	require.Zero(t, res.Errors, res.FirstError)
	require.Equal(t, map[string]int{"201": res.Requests}, res.Statuses)
	require.Positive(t, res.RPS)
	require.LessOrEqual(t, res.P50Ms, res.P99Ms)
	require.LessOrEqual(t, res.P99Ms, res.MaxMs)
	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, len(keys), res.Requests)
	for k, c := range keys {
		require.Equal(t, 1, c, "idempotency key %q sent twice", k)
	}
	for b, c := range bodies {
		require.Equal(t, 1, c, "body %q sent twice", b)
	}
}

func TestLoadReportsErrors(t *testing.T) {
	res, err := Load(context.Background(), loadConfig{URL: "http://127.0.0.1:1/", Connections: 2, Duration: 200 * time.Millisecond})
	require.NoError(t, err)
	require.Zero(t, res.Requests)
	require.Positive(t, res.Errors)
	require.NotEmpty(t, res.FirstError)
}

func TestLoadCommandLine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	for _, tt := range []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{name: "ok", args: []string{"load", "--url", srv.URL, "--connections", "2", "--duration", "100ms"}},
		{name: "no url", args: []string{"load"}, wantErr: true},
		{name: "bad header", args: []string{"load", "--url", srv.URL, "--header", "nocolon"}, wantErr: true},
		{name: "zero connections", args: []string{"load", "--url", srv.URL, "--connections", "0"}, wantErr: true},
		{name: "unknown command", args: []string{"frob"}, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr)
			if tt.wantErr {
				require.ErrorAs(t, err, new(usageError))
				return
			}
			require.NoError(t, err)
			var res LoadResult
			require.NoError(t, json.Unmarshal(stdout.Bytes(), &res))
			require.Positive(t, res.Requests)
		})
	}
}

func TestRedisBaseline(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	ctx := context.Background()
	require.NoError(t, rdb.Set(ctx, prefix+"k", "v1", time.Minute).Err())
	h := &redisBaseline{rdb: rdb, key: prefix + "k"}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.JSONEq(t, `{"value":"v1"}`, rec.Body.String())
}

func TestIngestBaseline(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testenv.Postgres(t))
	require.NoError(t, err)
	defer pool.Close()
	_, err = pool.Exec(ctx, createBaselineTable)
	require.NoError(t, err)
	h := &ingestBaseline{rdb: rdb, pool: pool, prefix: prefix}
	post := func(key string) int {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"reference":"TXN-1"}`))
		req.Header.Set("Idempotency-Key", key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, tt := range []struct {
		name string
		key  string
		want int
	}{
		{name: "first", key: "k1", want: http.StatusCreated},
		{name: "replay", key: "k1", want: http.StatusConflict},
		{name: "another", key: "k2", want: http.StatusCreated},
		{name: "no key", key: "", want: http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, post(tt.key))
		})
	}
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM wtbench_transactions`).Scan(&n))
	require.Equal(t, 2, n)
}

func TestCleanRedisDeletesOnlyThePrefix(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	ctx := context.Background()
	pipe := rdb.Pipeline()
	for i := range 12000 { // more than two SCAN pages
		pipe.Set(ctx, prefix+"bench:"+strconv.Itoa(i), "x", time.Hour)
	}
	_, err := pipe.Exec(ctx)
	require.NoError(t, err)
	require.NoError(t, rdb.Set(ctx, prefix+"benchmark-kept", "x", time.Hour).Err())
	require.NoError(t, rdb.Set(ctx, prefix+"other:1", "x", time.Hour).Err())

	var out bytes.Buffer
	err = run(ctx, []string{"clean-redis", "--redis-url", testenv.RedisURL(), "--prefix", prefix + "bench:"}, &out, io.Discard)
	require.NoError(t, err)
	require.Contains(t, out.String(), "deleted 12000 keys")
	left, err := rdb.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	require.ElementsMatch(t, []string{prefix + "benchmark-kept", prefix + "other:1"}, left)
}

func TestCleanRedisRefusesBroadPrefixes(t *testing.T) {
	for _, p := range []string{"", "w", "wt", "wt*", "a?b", "x[y]"} {
		err := run(context.Background(), []string{"clean-redis", "--prefix", p}, io.Discard, io.Discard)
		require.ErrorAs(t, err, new(usageError), "prefix %q", p)
	}
}
