// Package config binds a service's settings to command-line flags and WT_*
// environment variables (a flag given on the command line wins over the
// environment, which wins over the default), and prints the effective
// configuration with secrets masked.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Set is a group of settings bound to one FlagSet.
type Set struct {
	fs      *flag.FlagSet
	env     map[string]string // flag name -> env name
	secrets map[string]bool
	lookup  func(string) (string, bool)
	errs    []error
}

// NewSet returns a Set for the program name. lookup may be nil for os.LookupEnv.
func NewSet(name string, lookup func(string) (string, bool)) *Set {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return &Set{fs: fs, env: map[string]string{}, secrets: map[string]bool{}, lookup: lookup}
}

// FlagSet exposes the underlying flags (for usage output).
func (s *Set) FlagSet() *flag.FlagSet { return s.fs }

func envName(flagName string) string {
	return "WT_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (s *Set) envDefault(name string) (string, bool) {
	env := envName(name)
	s.env[name] = env
	return s.lookup(env)
}

// String binds a string setting.
func (s *Set) String(p *string, name, def, usage string) {
	if v, ok := s.envDefault(name); ok {
		def = v
	}
	s.fs.StringVar(p, name, def, usage+" (env "+envName(name)+")")
}

// Secret binds a string setting that is masked when printed.
func (s *Set) Secret(p *string, name, def, usage string) {
	s.secrets[name] = true
	s.String(p, name, def, usage)
}

// Int binds an int setting.
func (s *Set) Int(p *int, name string, def int, usage string) {
	if v, ok := s.envDefault(name); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s=%q: not an integer", envName(name), v))
		} else {
			def = n
		}
	}
	s.fs.IntVar(p, name, def, usage+" (env "+envName(name)+")")
}

// Bool binds a bool setting.
func (s *Set) Bool(p *bool, name string, def bool, usage string) {
	if v, ok := s.envDefault(name); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s=%q: not a boolean", envName(name), v))
		} else {
			def = b
		}
	}
	s.fs.BoolVar(p, name, def, usage+" (env "+envName(name)+")")
}

// Duration binds a duration setting ("30m", "12h").
func (s *Set) Duration(p *time.Duration, name string, def time.Duration, usage string) {
	if v, ok := s.envDefault(name); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s=%q: not a duration", envName(name), v))
		} else {
			def = d
		}
	}
	s.fs.DurationVar(p, name, def, usage+" (env "+envName(name)+")")
}

// Parse parses args (without the program name) and reports every bad value.
func (s *Set) Parse(args []string) error {
	if err := s.fs.Parse(args); err != nil {
		return err
	}
	if s.fs.NArg() > 0 {
		s.errs = append(s.errs, fmt.Errorf("unexpected arguments: %q", s.fs.Args()))
	}
	return errors.Join(s.errs...)
}

// Log prints the effective configuration, secrets masked, as one log line.
func (s *Set) Log(l *slog.Logger) {
	var names []string
	s.fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	attrs := make([]any, 0, len(names))
	for _, n := range names {
		v := s.fs.Lookup(n).Value.String()
		if s.secrets[n] {
			v = Mask(v)
		} else if strings.Contains(v, "://") {
			v = MaskURL(v)
		}
		attrs = append(attrs, slog.String(n, v))
	}
	l.Info("effective configuration", slog.Group("config", attrs...))
}

// Mask hides a secret, keeping only whether it is set.
func Mask(v string) string {
	if v == "" {
		return ""
	}
	return "***"
}

// MaskURL hides the password of a URL's user info.
func MaskURL(v string) string {
	scheme, rest, ok := strings.Cut(v, "://")
	if !ok {
		return v
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return v
	}
	user := rest[:at]
	if name, _, hasPw := strings.Cut(user, ":"); hasPw {
		user = name + ":***"
	}
	return scheme + "://" + user + rest[at:]
}
