package main

import (
	"errors"
	"flag"
	"log/slog"

	"github.com/watchtower/authplane/platform/config"
	"github.com/watchtower/authplane/platform/logging"
	"github.com/watchtower/authplane/platform/principal"
)

// Default addresses and URLs, the same as the services'.
const (
	defaultPostgresURL   = "postgres://postgres@127.0.0.1:5432/watchtower?sslmode=disable"
	defaultIdentityAddr  = "127.0.0.1:9101"
	defaultIngestionAddr = "127.0.0.1:9103"
)

// command is one wtctl sub-command's settings: its own flags plus the
// shared WT_* ones it asks for.
type command struct {
	set      *config.Set
	logLevel string
}

func newCommand(name string, std streams, lookup func(string) (string, bool)) *command {
	c := &command{set: config.NewSet("wtctl "+name, lookup)}
	c.set.FlagSet().SetOutput(std.stderr)
	c.set.String(&c.logLevel, "log-level", "warn", "log level on standard error: debug, info, warn, error")
	return c
}

// parse parses args; a bad command line is a usageError.
func (c *command) parse(args []string) error {
	if err := c.set.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}

// logger returns the stderr logger and prints the effective configuration
// (secrets masked) at info level.
func (c *command) logger(std streams) *slog.Logger {
	l := logging.New(std.stderr, "wtctl", c.logLevel)
	c.set.Log(l)
	return l
}

// keyring parses the --principal-keys setting the signed calls need.
func keyring(spec string) (*principal.Keyring, error) {
	if spec == "" {
		return nil, usagef("--principal-keys (WT_PRINCIPAL_KEYS) is required: the services' \"kid:base64secret\" signing key")
	}
	keys, err := principal.ParseKeys(spec)
	if err != nil {
		return nil, usageError{err}
	}
	kr, err := principal.NewKeyring(keys, nil)
	if err != nil {
		return nil, usageError{err}
	}
	return kr, nil
}
