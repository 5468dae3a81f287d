// Package currentsession serves watchtower.session.v1.CurrentSessionService
// inside the gateway. The authn middleware has already resolved the session
// for this request (one Redis round trip), so answering "who am I" here
// avoids a gRPC hop on the console's most frequent call.
package currentsession

import (
	"context"

	"github.com/watchtower/authplane/gateway/internal/authn"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	sessionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/session/v1"
	"github.com/watchtower/authplane/services/session/sessionkv"
)

// method is the RPC this server answers, for the guard.
const method = sessionv1.CurrentSessionService_GetCurrentSession_FullMethodName

// Decider is the guard's decision function.
type Decider interface {
	Decide(ctx context.Context, fullMethod string) (*authzv1.Principal, error)
}

// Permissions lists a role's permissions (policysnap.Snapshot).
type Permissions interface {
	Permissions(role string) []string
}

// Server implements CurrentSessionService in process.
type Server struct {
	sessionv1.UnimplementedCurrentSessionServiceServer
	guard Decider
	perms Permissions
}

// New returns the server.
func New(guard Decider, perms Permissions) *Server {
	return &Server{guard: guard, perms: perms}
}

// GetCurrentSession returns the caller's session view.
func (s *Server) GetCurrentSession(ctx context.Context, _ *sessionv1.GetCurrentSessionRequest) (*sessionv1.GetCurrentSessionResponse, error) {
	if _, err := s.guard.Decide(ctx, method); err != nil {
		return nil, err
	}
	c := authn.FromContext(ctx)
	rec := c.Session
	var perms []string
	if rec.GetState() == authzv1.SessionState_SESSION_STATE_ACTIVE {
		perms = s.perms.Permissions(rec.GetRole())
	}
	return &sessionv1.GetCurrentSessionResponse{Session: sessionkv.View(rec, c.LastSeen, perms)}, nil
}
