package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/watchtower/authplane/platform/redisdb"
)

// The baselines are what the gateway is compared with: the least a Go
// server must do for the same request, on the same machine and in the same
// run (bare net/http, the same Redis and Postgres client libraries).

// redisBaseline answers every request with one Redis GET.
type redisBaseline struct {
	rdb redis.UniversalClient
	key string
}

func (b *redisBaseline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v, err := b.rdb.Get(r.Context(), b.key).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		http.Error(w, "redis unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"value":`+strconv.Quote(v)+`}`)
}

// ingestBaseline answers every POST with one Redis SET NX (the idempotency
// reservation) and one Postgres INSERT (the transaction row).
type ingestBaseline struct {
	rdb    redis.UniversalClient
	pool   *pgxpool.Pool
	prefix string
}

const (
	createBaselineTable = `CREATE TABLE IF NOT EXISTS wtbench_transactions (
		id bigserial PRIMARY KEY,
		idempotency_key text NOT NULL UNIQUE,
		body jsonb NOT NULL,
		received_at timestamptz NOT NULL DEFAULT now())`
	insertBaselineTransaction = `INSERT INTO wtbench_transactions (idempotency_key, body) VALUES ($1, $2) RETURNING id`
)

func (b *ingestBaseline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		http.Error(w, "idempotency-key required", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	ok, err := b.rdb.SetNX(r.Context(), b.prefix+key, "1", 24*time.Hour).Result()
	if err != nil {
		http.Error(w, "redis unavailable", http.StatusServiceUnavailable)
		return
	}
	if !ok {
		http.Error(w, "replay", http.StatusConflict)
		return
	}
	var id int64
	if err := b.pool.QueryRow(r.Context(), insertBaselineTransaction, key, body).Scan(&id); err != nil {
		http.Error(w, "postgres: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, `{"id":"`+strconv.FormatInt(id, 10)+`"}`)
}

func runBaselineRedis(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("wtbench baseline-redis", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:18090", "listen address")
	redisURL := fs.String("redis-url", "redis://127.0.0.1:6379/0", "Redis URL")
	key := fs.String("key", "wtbench:baseline", "the key every request reads")
	pool := fs.Int("redis-pool-size", 128, "Redis connection pool size (the gateway's default)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	rdb, err := redisdb.Open(ctx, *redisURL, *pool)
	if err != nil {
		return err
	}
	defer rdb.Close()
	if err := rdb.Set(ctx, *key, "baseline", time.Hour).Err(); err != nil {
		return fmt.Errorf("baseline-redis: seed key: %w", err)
	}
	return serve(ctx, *addr, &redisBaseline{rdb: rdb, key: *key}, stderr)
}

func runBaselineIngest(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("wtbench baseline-ingest", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:18091", "listen address")
	redisURL := fs.String("redis-url", "redis://127.0.0.1:6379/0", "Redis URL")
	prefix := fs.String("redis-key-prefix", "wtbench:idem:", "prefix of the idempotency keys")
	pgURL := fs.String("postgres-url", "postgres://postgres@127.0.0.1:5432/wtbench_baseline?sslmode=disable", "scratch Postgres database (a table wtbench_transactions is created in it)")
	poolSize := fs.Int("redis-pool-size", 128, "Redis connection pool size")
	pgConns := fs.Int("postgres-max-conns", 32, "Postgres pool size")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	rdb, err := redisdb.Open(ctx, *redisURL, *poolSize)
	if err != nil {
		return err
	}
	defer rdb.Close()
	cfg, err := pgxpool.ParseConfig(*pgURL)
	if err != nil {
		return usageError{fmt.Errorf("baseline-ingest: --postgres-url: %w", err)}
	}
	cfg.MaxConns = int32(*pgConns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("baseline-ingest: postgres: %w", err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, createBaselineTable); err != nil {
		return fmt.Errorf("baseline-ingest: create table: %w", err)
	}
	return serve(ctx, *addr, &ingestBaseline{rdb: rdb, pool: pool, prefix: *prefix}, stderr)
}

// serve runs h on addr until ctx ends.
func serve(ctx context.Context, addr string, h http.Handler, stderr io.Writer) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	log.Info("baseline listening", "addr", lis.Addr().String())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
