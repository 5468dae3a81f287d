// Package testenv gives integration tests their own, disposable slice of
// the real Postgres and Redis: a fresh database per call and a unique Redis
// key prefix, both removed when the test ends.
//
// WT_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres)
// and WT_TEST_REDIS_URL (default redis://127.0.0.1:6379/0) name the servers.
// A test that needs them fails (it does not skip) when they are unreachable:
// `make test` starts them.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/watchtower/authplane/platform/pgdb"
	"github.com/watchtower/authplane/platform/principal"
)

// PostgresAdminURL is the server the test databases are created on.
func PostgresAdminURL() string {
	if u := os.Getenv("WT_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// RedisURL is the Redis server tests use.
func RedisURL() string {
	if u := os.Getenv("WT_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Postgres creates a fresh database and returns its URL; it is dropped
// (connections terminated) when tb ends.
func Postgres(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	admin := PostgresAdminURL()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("testenv: Postgres at %s unreachable (run `make test`, which starts it): %v", admin, err)
	}
	name := "wt_test_" + randomHex(6)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		tb.Fatalf("testenv: create database: %v", err)
	}
	conn.Close(ctx)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			tb.Logf("testenv: drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("testenv: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatalf("testenv: parse %s: %v", admin, err)
	}
	u.Path = "/" + name
	return u.String()
}

// Redis returns a client and a unique key prefix ("wt_test_<hex>:"); every
// key under the prefix is deleted when tb ends.
func Redis(tb testing.TB) (redis.UniversalClient, string) {
	tb.Helper()
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		tb.Fatalf("testenv: parse redis url: %v", err)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		tb.Fatalf("testenv: Redis at %s unreachable (run `make test`, which starts it): %v", opts.Addr, err)
	}
	prefix := "wt_test_" + randomHex(6) + ":"
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		DeletePrefix(ctx, c, prefix)
		_ = c.Close()
	})
	return c, prefix
}

// DeletePrefix removes every key that starts with prefix. SCAN walks the
// whole keyspace whatever the pattern, so the pages are large: a Redis that
// holds a million other keys costs a hundred round trips, not thousands.
func DeletePrefix(ctx context.Context, c redis.UniversalClient, prefix string) {
	iter := c.Scan(ctx, 0, prefix+"*", 10000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			c.Del(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		c.Del(ctx, batch...)
	}
}

// Keyring returns a principal keyring with a random key, and its
// "kid:base64" configuration string for binaries.
func Keyring(tb testing.TB) (*principal.Keyring, string) {
	tb.Helper()
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	kr, err := principal.NewKeyring([]principal.Key{{ID: "test", Secret: secret}}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return kr, "test:" + base64.RawURLEncoding.EncodeToString(secret)
}

// PostgresPool returns a pool on a fresh database (see Postgres) whose
// schema has migrations applied; the pool is closed when tb ends.
func PostgresPool(tb testing.TB, schema string, migrations fs.FS, maxConns int32) *pgxpool.Pool {
	tb.Helper()
	ctx := context.Background()
	pool, err := pgdb.Open(ctx, Postgres(tb), schema, maxConns)
	if err != nil {
		tb.Fatalf("testenv: open %s: %v", schema, err)
	}
	tb.Cleanup(pool.Close)
	if err := pgdb.Migrate(ctx, pool, schema, migrations); err != nil {
		tb.Fatalf("testenv: migrate %s: %v", schema, err)
	}
	return pool
}
