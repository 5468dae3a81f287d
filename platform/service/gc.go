package service

import (
	"log/slog"
	"runtime/debug"
	"strings"
)

// DefaultGCPercent is the garbage collector's target when GOGC is not set.
// These processes keep a live heap of a few MiB and allocate on every
// request, so Go's default of 100 collects dozens of times a second under
// load; at 400 the collector runs a quarter as often for a few MiB more.
// GOGC in the environment wins, and GOMEMLIMIT still bounds the heap.
const DefaultGCPercent = 400

// TuneGC applies DefaultGCPercent unless GOGC is set, and logs the target.
func TuneGC(getenv func(string) string, log *slog.Logger) {
	if v := strings.TrimSpace(getenv("GOGC")); v != "" {
		log.Info("garbage collector target", "gogc", v, "from", "GOGC")
		return
	}
	debug.SetGCPercent(DefaultGCPercent)
	log.Info("garbage collector target", "gogc", DefaultGCPercent, "from", "default")
}
