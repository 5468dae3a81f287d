// Command wtsim is the traffic simulator for WatchTower's ingestion API
// (POST /api/v1/transactions).
//
//	wtsim scenarios --base URL --api-key KEY
//	wtsim load --base URL --api-key KEY --rate N --duration D --concurrency C --dup-ratio R --seed S
//
// scenarios runs the rollout checks (normal ALLOW, controlled REVIEW and
// BLOCK, a duplicate retry, a missing field, an invalid key), prints a table
// and exits 1 on any failure. load sends seeded, realistic transactions with
// deterministic idempotency keys, retries timeouts, 5xx, 409 in-progress and
// 429 like a real integration, prints throughput, latency percentiles and
// status counts, then verifies exactly-once storage (see verify.go) and exits
// 1 when a transaction was lost or duplicated.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, `usage:
  wtsim scenarios --base URL --api-key KEY [--review-amount N] [--block-amount N]
  wtsim load --base URL --api-key KEY [--rate N] [--duration D] [--concurrency C] [--dup-ratio R] [--seed S]`)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cmd, rest := args[0], args[1:]
	fs := flag.NewFlagSet("wtsim "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c clientConfig
	fs.StringVar(&c.Base, "base", envOr("WT_SIM_BASE", "http://127.0.0.1:8080"), "gateway base URL (env WT_SIM_BASE)")
	fs.StringVar(&c.APIKey, "api-key", os.Getenv("WT_SIM_API_KEY"), "organization API key (env WT_SIM_API_KEY)")
	fs.DurationVar(&c.Timeout, "timeout", 5*time.Second, "per-request timeout")
	switch cmd {
	case "scenarios":
		var s scenarioConfig
		fs.StringVar(&s.ReviewAmount, "review-amount", "1000000", "the org's review threshold (API.md default)")
		fs.StringVar(&s.BlockAmount, "block-amount", "10000000", "the org's block threshold (API.md default)")
		if err := parse(fs, rest, c); err != nil {
			return 2
		}
		s.Client = c
		ok, err := runScenarios(ctx, s, stdout)
		if err != nil {
			fmt.Fprintln(stderr, "wtsim:", err)
			return 1
		}
		if !ok {
			return 1
		}
		return 0
	case "load":
		l := loadConfig{}
		fs.Float64Var(&l.Rate, "rate", 100, "target requests per second (0: as fast as the workers go)")
		fs.DurationVar(&l.Duration, "duration", 30*time.Second, "how long to send")
		fs.IntVar(&l.Concurrency, "concurrency", 8, "concurrent clients")
		fs.Float64Var(&l.DupRatio, "dup-ratio", 0.1, "share of sends that repeat an earlier transaction with its idempotency-key (0-1)")
		fs.Uint64Var(&l.Seed, "seed", 0, "seed of the transactions and their idempotency keys (same seed, same traffic; 0: a fresh one, printed)")
		fs.IntVar(&l.MaxAttempts, "max-attempts", 8, "attempts per send before giving up (timeouts, 5xx, 409 in progress, 429)")
		if err := parse(fs, rest, c); err != nil {
			return 2
		}
		if l.Concurrency < 1 || l.Rate < 0 || l.DupRatio < 0 || l.DupRatio > 1 || l.Duration <= 0 || l.MaxAttempts < 1 {
			fmt.Fprintln(stderr, "wtsim: --concurrency >= 1, --rate >= 0, --dup-ratio in [0,1], --duration > 0 and --max-attempts >= 1 are required")
			return 2
		}
		if l.Seed == 0 {
			// A fresh seed by default: a second run against the same org
			// must send new transactions, not replays of the first run's.
			l.Seed = rand.Uint64N(1<<53-1) + 1
		}
		l.Client = c
		rep, err := runLoad(ctx, l, stdout)
		if err != nil {
			fmt.Fprintln(stderr, "wtsim:", err)
			return 1
		}
		if !rep.ok() {
			return 1
		}
		return 0
	case "-h", "--help", "help":
		usage(stdout)
		return 0
	}
	usage(stderr)
	return 2
}

func parse(fs *flag.FlagSet, args []string, c clientConfig) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "wtsim: unexpected arguments %q\n", fs.Args())
		return errors.New("bad arguments")
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
