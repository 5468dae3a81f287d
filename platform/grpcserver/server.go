package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/watchtower/authplane/platform/principal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
)

// Options configures New.
type Options struct {
	Logger   *slog.Logger
	Keyring  *principal.Keyring
	Registry prometheus.Registerer
}

// StreamWorkers is the number of long-lived goroutines that serve calls.
// Without them every call starts a goroutine whose stack then grows (and is
// copied) on the way through the interceptors, the handler and its client
// libraries; a worker keeps its grown stack. A call that finds every worker
// busy still gets a goroutine of its own, so this is not a concurrency cap.
const StreamWorkers = 128

// Server is a gRPC server with health and reflection registered.
type Server struct {
	*grpc.Server
	Health *health.Server
	log    *slog.Logger
}

// New returns a server whose every non-infrastructure call must carry a valid
// signed principal allowed by the method's access rule.
func New(o Options) *Server {
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	ic := &interceptor{log: o.Logger, keys: o.Keyring, metrics: newMetrics(reg)}
	s := grpc.NewServer(
		grpc.ChainUnaryInterceptor(ic.unary),
		grpc.ChainStreamInterceptor(ic.stream),
		grpc.MaxRecvMsgSize(4<<20),
		grpc.NumStreamWorkers(StreamWorkers),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(s, hs)
	reflection.Register(s)
	return &Server{Server: s, Health: hs, log: o.Logger}
}

// Serve listens on addr until ctx ends, then stops gracefully (bounded).
func (s *Server) Serve(ctx context.Context, addr string) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen grpc %s: %w", addr, err)
	}
	return s.ServeListener(ctx, lis)
}

// ServeListener serves on lis until ctx ends.
func (s *Server) ServeListener(ctx context.Context, lis net.Listener) error {
	s.Health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.log.Info("grpc listening", "addr", lis.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- s.Server.Serve(lis) }()
	select {
	case err := <-errc:
		if errors.Is(err, grpc.ErrServerStopped) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	s.Health.Shutdown()
	done := make(chan struct{})
	go func() { s.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.Stop()
	}
	return nil
}
