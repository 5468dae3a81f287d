// Package server assembles the gateway: the common middleware, cookie
// authentication, grpc-gateway's mux over the backend services (every call
// decided and signed by the guard), the in-process "who am I" route, the raw
// ingestion route, health endpoints and the OpenAPI document.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/watchtower/authplane/gateway/internal/authn"
	"github.com/watchtower/authplane/gateway/internal/config"
	"github.com/watchtower/authplane/gateway/internal/cookies"
	"github.com/watchtower/authplane/gateway/internal/currentsession"
	"github.com/watchtower/authplane/gateway/internal/edge"
	"github.com/watchtower/authplane/gateway/internal/guard"
	"github.com/watchtower/authplane/gateway/internal/openapi"
	"github.com/watchtower/authplane/gateway/internal/policysnap"
	"github.com/watchtower/authplane/platform/access"
	"github.com/watchtower/authplane/platform/admin"
	"github.com/watchtower/authplane/platform/principal"
	ingestionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/ingestion/v1"
	sessionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/session/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
)

// IngestPath is the raw ingestion route; it never looks at cookies.
const IngestPath = "/api/v1/transactions"

// Options are the gateway's parts, built by main (or a test).
type Options struct {
	Config   config.Config
	Logger   *slog.Logger
	Keys     *principal.Keyring
	Sessions authn.Resolver
	Policy   *policysnap.Snapshot
	Registry prometheus.Registerer
	// Ingest, when set, serves POST /api/v1/transactions.
	Ingest http.Handler
	// Ready are the readiness checks of /readyz.
	Ready []admin.Check
}

// Gateway is the assembled HTTP handler and its backend connections.
type Gateway struct {
	http.Handler
	Guard *guard.Guard
	conns []*grpc.ClientConn
}

// Close releases the backend connections.
func (g *Gateway) Close() {
	for _, c := range g.conns {
		_ = c.Close()
	}
}

// New builds the gateway.
func New(ctx context.Context, o Options) (*Gateway, error) {
	g := &Gateway{}
	rules := access.BuildTableForPackages("watchtower.")
	g.Guard = guard.New(rules, o.Policy, o.Keys, o.Config.PublicBaseURL)
	cw := cookies.Writer{Secure: !o.Config.CookieInsecure}

	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, currentsession.Marshaler{Marshaler: &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{EmitDefaultValues: true},
			UnmarshalOptions: protojson.UnmarshalOptions{},
		}}),
		// No inbound header reaches a service: identity travels only in the
		// signed principal the guard attaches.
		runtime.WithIncomingHeaderMatcher(func(string) (string, bool) { return "", false }),
		runtime.WithOutgoingHeaderMatcher(func(string) (string, bool) { return "", false }),
		runtime.WithOutgoingTrailerMatcher(func(string) (string, bool) { return "", false }),
		runtime.WithMetadata(func(context.Context, *http.Request) metadata.MD { return nil }),
		runtime.WithForwardResponseOption(cw.ForwardResponse),
		runtime.WithErrorHandler(edge.ErrorHandler(o.Logger)),
		runtime.WithRoutingErrorHandler(edge.RoutingErrorHandler),
		runtime.WithDisableHTTPMethodOverride(),
		runtime.WithDisablePathLengthFallback(),
	)

	dial := func(addr string) (*grpc.ClientConn, error) {
		cc, err := grpc.NewClient(addr,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithChainUnaryInterceptor(g.Guard.UnaryClientInterceptor()))
		if err == nil {
			g.conns = append(g.conns, cc)
		}
		return cc, err
	}
	sessionConn, err := dial(o.Config.SessionAddr)
	if err != nil {
		return nil, err
	}
	if err := sessionv1.RegisterSessionServiceHandlerClient(ctx, mux, sessionv1.NewSessionServiceClient(sessionConn)); err != nil {
		return nil, err
	}
	if err := sessionv1.RegisterCurrentSessionServiceHandlerServer(ctx, mux, currentsession.New(g.Guard, o.Policy)); err != nil {
		return nil, err
	}
	ingestionConn, err := dial(o.Config.IngestionAddr)
	if err != nil {
		return nil, err
	}
	if err := ingestionv1.RegisterIngestionServiceHandlerClient(ctx, mux, ingestionv1.NewIngestionServiceClient(ingestionConn)); err != nil {
		return nil, err
	}

	must := func(err error) {
		if err != nil {
			panic(err) // only on a malformed static pattern
		}
	}
	must(mux.HandlePath(http.MethodGet, "/healthz", func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	must(mux.HandlePath(http.MethodGet, "/readyz", func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
		admin.ReadyHandler(r.Context(), w, o.Logger, o.Ready)
	}))
	must(mux.HandlePath(http.MethodGet, "/api/v1/openapi.json", func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapi.Document)
	}))
	if o.Ingest != nil {
		must(mux.HandlePath(http.MethodPost, IngestPath, func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
			o.Ingest.ServeHTTP(w, r)
		}))
	}

	m := newMetrics(o.Registry)
	var h http.Handler = mux
	h = authn.Middleware(o.Sessions, o.Logger, noCookieRoute)(h)
	h = edge.Middleware(edge.Options{
		Logger:         o.Logger,
		TrustedProxies: o.Config.TrustedPrefixes,
		MaxBodyBytes:   int64(o.Config.MaxBodyBytes),
		// The ingestion handler applies the body rules itself, after the
		// API key, in the order API.md's ingestion table gives.
		RawBodyPaths: []string{IngestPath},
		Observe:      m.observe,
	})(h)
	g.Handler = h
	return g, nil
}

// noCookieRoute selects the routes that never look at a session cookie: the
// API-key ingestion route and the operational endpoints.
func noCookieRoute(r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz", "/readyz", "/api/v1/openapi.json":
		return true
	case IngestPath:
		return r.Method == http.MethodPost
	}
	return false
}

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "watchtower_gateway_http_requests_total",
			Help: "HTTP requests served, by method and status.",
		}, []string{"method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "watchtower_gateway_http_request_duration_seconds",
			Help:    "HTTP request latency, by method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"method"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration)
	}
	return m
}

func (m *metrics) observe(r *http.Request, status int, d time.Duration) {
	m.requests.WithLabelValues(r.Method, statusText(status)).Inc()
	m.duration.WithLabelValues(r.Method).Observe(d.Seconds())
}

func statusText(code int) string {
	const digits = "0123456789"
	if code < 100 || code > 999 {
		return "other"
	}
	return string([]byte{digits[code/100], digits[code/10%10], digits[code%10]})
}
