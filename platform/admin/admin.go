// Package admin serves a process's operational HTTP endpoints: /healthz
// (the process is up), /readyz (its dependencies answer; 503 otherwise) and
// Prometheus /metrics.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check is one readiness probe; it returns nil when the dependency answers.
type Check struct {
	Name string
	Fn   func(context.Context) error
}

// NewRegistry returns a Prometheus registry with the Go and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Handler returns the mux for /healthz, /readyz and /metrics.
func Handler(reg *prometheus.Registry, log *slog.Logger, checks ...Check) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ReadyHandler(r.Context(), w, log, checks)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}

// ReadyHandler runs the checks (2 s budget) and answers 200 or 503 with a
// per-dependency status; failures are logged, not shown.
func ReadyHandler(ctx context.Context, w http.ResponseWriter, log *slog.Logger, checks []Check) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	res := map[string]string{}
	ok := true
	for _, c := range checks {
		if err := c.Fn(ctx); err != nil {
			ok = false
			res[c.Name] = "unavailable"
			log.Warn("readiness check failed", "check", c.Name, "error", err.Error())
			continue
		}
		res[c.Name] = "ok"
	}
	w.Header().Set("Content-Type", "application/json")
	status := "ready"
	if !ok {
		status = "not_ready"
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "checks": res})
}

// Serve runs h on addr until ctx ends.
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	log.Info("admin listening", "addr", lis.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// WithPprof adds Go's profiling endpoints under /debug/pprof/ to next (the
// --pprof flag; off by default, since profiles reveal code paths and timing).
func WithPprof(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/", next)
	return mux
}
