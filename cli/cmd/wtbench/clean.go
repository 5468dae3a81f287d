package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/watchtower/authplane/platform/redisdb"
)

// runCleanRedis deletes every key under a prefix: a bench run leaves about
// a million idempotency records with a 24-hour TTL, and every later SCAN of
// that Redis (the tests' clean-up, for one) pays for each of them.
func runCleanRedis(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wtbench clean-redis", flag.ContinueOnError)
	redisURL := fs.String("redis-url", "redis://127.0.0.1:6379/0", "Redis URL")
	prefix := fs.String("prefix", "", "delete every key that starts with this (required, at least 3 characters)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if len(*prefix) < 3 || strings.ContainsAny(*prefix, "*?[]\\") {
		return usageError{errors.New("--prefix: at least 3 characters, no glob characters")}
	}
	rdb, err := redisdb.Open(ctx, *redisURL, 4)
	if err != nil {
		return err
	}
	defer rdb.Close()
	n, err := deletePrefix(ctx, rdb, *prefix)
	fmt.Fprintf(stdout, "deleted %d keys under %q\n", n, *prefix)
	return err
}

// deletePrefix unlinks the keys under prefix in batches of SCAN's pages.
func deletePrefix(ctx context.Context, rdb redis.UniversalClient, prefix string) (int, error) {
	var cursor uint64
	deleted := 0
	for {
		keys, next, err := rdb.Scan(ctx, cursor, prefix+"*", 5000).Result()
		if err != nil {
			return deleted, fmt.Errorf("clean-redis: scan: %w", err)
		}
		if len(keys) > 0 {
			n, err := rdb.Unlink(ctx, keys...).Result()
			if err != nil {
				return deleted, fmt.Errorf("clean-redis: unlink: %w", err)
			}
			deleted += int(n)
		}
		if cursor = next; cursor == 0 {
			return deleted, nil
		}
	}
}
