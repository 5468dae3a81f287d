// Package grpcapi serves watchtower.session.v1.SessionService and
// CurrentSessionService: thin handlers that read the verified principal,
// call the session domain and convert to and from proto.
package grpcapi

import (
	"context"
	"strconv"
	"time"

	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/platform/principal"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	sessionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/session/v1"
	"github.com/watchtower/authplane/services/session/internal/recordpb"
	"github.com/watchtower/authplane/services/session/internal/session"
	"github.com/watchtower/authplane/services/session/sessionkv"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Server implements both session gRPC services.
type Server struct {
	sessionv1.UnimplementedSessionServiceServer
	sessionv1.UnimplementedCurrentSessionServiceServer
	svc *session.Service
	now func() time.Time
}

// NewServer returns a Server over svc. now may be nil for time.Now.
func NewServer(svc *session.Service, now func() time.Time) *Server {
	if now == nil {
		now = time.Now
	}
	return &Server{svc: svc, now: now}
}

// Register adds both services to s.
func (s *Server) Register(g grpc.ServiceRegistrar) {
	sessionv1.RegisterSessionServiceServer(g, s)
	sessionv1.RegisterCurrentSessionServiceServer(g, s)
}

// caller returns the verified principal; the interceptor guarantees one on
// every method served here.
func caller(ctx context.Context) *authzv1.Principal {
	p, _ := principal.FromContext(ctx)
	return p
}

func clientOf(p *authzv1.Principal) session.Client {
	return session.Client{IP: p.GetClientIp(), UserAgent: p.GetUserAgent()}
}

// userCaller returns the calling user's id and session id, or
// unauthenticated when the principal is not a user session.
func userCaller(ctx context.Context) (*authzv1.Principal, error) {
	p := caller(ctx)
	if p.GetKind() != authzv1.PrincipalKind_PRINCIPAL_KIND_USER || p.GetUserId() == "" || p.GetSessionId() == "" {
		return nil, apperr.Unauthenticated("unauthenticated", "a user session is required")
	}
	return p, nil
}

// setCookieHeader asks the gateway to set a cookie (see sessionkv's header
// names) that lives until the session's absolute expiry.
func (s *Server) setCookieHeader(ctx context.Context, name, token string, abs time.Time) error {
	maxAge := int64(abs.Sub(s.now()) / time.Second)
	return grpc.SetHeader(ctx, metadata.Pairs(name, token, sessionkv.HeaderCookieMaxAge, strconv.FormatInt(maxAge, 10)))
}

func (s *Server) view(l session.Live, perms []string) *sessionv1.Session {
	return sessionkv.View(recordpb.ToProto(l.Record), l.LastSeen, perms)
}

func (s *Server) openedView(o session.Opened) *sessionv1.Session {
	return s.view(session.Live{Record: o.Record, LastSeen: o.Record.CreatedAt}, o.Permissions)
}

func summariesToProto(ss []session.Summary) []*sessionv1.SessionSummary {
	out := make([]*sessionv1.SessionSummary, 0, len(ss))
	for _, x := range ss {
		out = append(out, &sessionv1.SessionSummary{
			Id: x.ID, CreatedAt: timestamppb.New(x.CreatedAt), LastSeenAt: timestamppb.New(x.LastSeen),
			Ip: x.IP, UserAgent: x.UserAgent, Current: x.Current,
		})
	}
	return out
}
