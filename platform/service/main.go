package service

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/watchtower/authplane/platform/config"
	"github.com/watchtower/authplane/platform/logging"
)

// ErrBadConfig marks a run error caused by the configuration (exit 2).
var ErrBadConfig = errors.New("bad configuration")

// Main is the whole main function of a service: it loads the configuration
// (exit 0 for -h, exit 2 with the reason when it is bad), logs it with
// secrets masked, and runs until SIGINT or SIGTERM (exit 1 when run fails,
// 2 when the failure wraps ErrBadConfig).
func Main[C any](name string, load func(args []string) (C, *config.Set, error), logLevel func(C) string,
	run func(ctx context.Context, cfg C, log *slog.Logger) error) {
	cfg, set, err := load(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: bad configuration: %v\n", name, err)
		os.Exit(2)
	}
	// One log line per call: batch them into few writes.
	out := logging.NewBufferedWriter(os.Stderr, 100*time.Millisecond)
	log := logging.New(out, name, logLevel(cfg))
	set.Log(log)
	TuneGC(os.Getenv, log)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err = run(ctx, cfg, log)
	stop()
	if err != nil {
		log.Error(name+" stopped", "error", err.Error())
	}
	_ = out.Close()
	if err == nil {
		return
	}
	if errors.Is(err, ErrBadConfig) {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(2)
	}
	os.Exit(1)
}
