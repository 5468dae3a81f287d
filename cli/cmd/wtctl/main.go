// Command wtctl is the WatchTower administration CLI: it applies every
// service's database migrations, bootstraps an organization and its first
// administrator, and manages API keys. It reads the same WT_* settings as the
// services, prints JSON on standard output and reports errors on standard
// error with a non-zero exit status.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// exitUsage is the status for bad arguments or configuration; exitFailure for
// a command that ran and failed.
const (
	exitUsage   = 2
	exitFailure = 1
)

const usage = `usage: wtctl <command> [flags]

commands:
  migrate                 apply every service's database migrations (idempotent)
  bootstrap               create an organization and its first ADMIN
                          (--org NAME --email EMAIL [--name NAME] --password-stdin)
  api-key create          create an API key (--org ORG_ID --name NAME --environment live|test)

Run "wtctl <command> -h" for the flags of a command. Every flag can also be
set through its WT_* environment variable (flags win).
`

// usageError marks a mistake in the command line: it exits with exitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// streams are the standard streams a command uses, injected for tests.
type streams struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], streams{os.Stdin, os.Stdout, os.Stderr}, os.LookupEnv)
	stop()
	os.Exit(code)
}

// run executes one wtctl command line and returns the exit status.
func run(ctx context.Context, args []string, std streams, lookup func(string) (string, bool)) int {
	if len(args) == 0 {
		fmt.Fprint(std.stderr, usage)
		return exitUsage
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "migrate":
		err = runMigrate(ctx, rest, std, lookup)
	case "bootstrap":
		err = runBootstrap(ctx, rest, std, lookup)
	case "api-key":
		err = runAPIKey(ctx, rest, std, lookup)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(std.stdout, usage)
		return 0
	default:
		err = usagef("unknown command %q", cmd)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(std.stderr, "wtctl: %v\n", err)
		return exitUsage
	default:
		fmt.Fprintf(std.stderr, "wtctl: %v\n", err)
		return exitFailure
	}
}

// writeJSON prints v as one line of JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	return enc.Encode(v)
}
