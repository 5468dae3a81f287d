// Command wtbench is WatchTower's loopback benchmark driver: a closed-loop
// HTTP load generator and the bare baseline servers the gateway is measured
// against in the same run.
//
//	wtbench load --url URL [--method M] [--header 'K: V']... [--body-template T]
//	             [--connections 64] [--duration 15s]
//	wtbench baseline-redis --addr 127.0.0.1:18090 [--redis-url URL] [--key K]
//	wtbench baseline-ingest --addr 127.0.0.1:18091 [--redis-url URL] [--postgres-url URL]
//	wtbench clean-redis --prefix P [--redis-url URL]
//
// load prints one JSON object (requests/s, latency percentiles, status
// counts). "{{n}}" in the body template and in header values is replaced by
// a number unique to each request, and "{{run}}" by a value unique to the run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: wtbench <command> [flags]

commands:
  load              drive an HTTP endpoint and print throughput and latencies as JSON
  baseline-redis    serve GET / with one Redis GET per request
  baseline-ingest   serve POST / with one Redis SET NX and one Postgres INSERT per request
  clean-redis       delete every Redis key under a prefix (what a bench run leaves)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "wtbench:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "wtbench:", err)
		os.Exit(1)
	}
}

// usageError marks a bad command line.
type usageError struct{ error }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{errors.New("no command")}
	}
	switch args[0] {
	case "load":
		return runLoad(ctx, args[1:], stdout, stderr)
	case "baseline-redis":
		return runBaselineRedis(ctx, args[1:], stderr)
	case "baseline-ingest":
		return runBaselineIngest(ctx, args[1:], stderr)
	case "clean-redis":
		return runCleanRedis(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Errorf("unknown command %q", args[0])}
	}
}

// parseFlags parses a sub-command's flags; bad ones are a usageError.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	return nil
}
