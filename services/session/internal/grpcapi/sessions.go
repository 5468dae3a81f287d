package grpcapi

import (
	"context"

	sessionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/session/v1"
	"github.com/watchtower/authplane/services/session/internal/recordpb"
	"github.com/watchtower/authplane/services/session/internal/session"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Create opens a session for a user the calling service authenticated.
func (s *Server) Create(ctx context.Context, req *sessionv1.CreateRequest) (*sessionv1.CreateResponse, error) {
	o, err := s.svc.Create(ctx, session.CreateParams{
		UserID:    req.GetUserId(),
		OrgID:     req.GetOrgId(),
		AuthLevel: recordpb.AuthLevelFromProto(req.GetAuthLevel()),
		State:     recordpb.StateFromProto(req.GetState()),
		Client:    session.Client{IP: req.GetIp(), UserAgent: req.GetUserAgent()},
	})
	if err != nil {
		return nil, err
	}
	return &sessionv1.CreateResponse{Token: o.Token, Session: s.openedView(o)}, nil
}

// Validate resolves a token to its stored session.
func (s *Server) Validate(ctx context.Context, req *sessionv1.ValidateRequest) (*sessionv1.ValidateResponse, error) {
	l, err := s.svc.Validate(ctx, req.GetToken())
	if err != nil {
		return nil, err
	}
	return &sessionv1.ValidateResponse{Record: recordpb.ToProto(l.Record), LastSeenAt: timestamppb.New(l.LastSeen)}, nil
}

// Revoke ends one session of a user.
func (s *Server) Revoke(ctx context.Context, req *sessionv1.RevokeRequest) (*sessionv1.RevokeResponse, error) {
	if err := s.svc.Revoke(ctx, req.GetUserId(), req.GetSessionId()); err != nil {
		return nil, err
	}
	return &sessionv1.RevokeResponse{}, nil
}

// RevokeAllForUser ends every session of a user but the one named.
func (s *Server) RevokeAllForUser(ctx context.Context, req *sessionv1.RevokeAllForUserRequest) (*sessionv1.RevokeAllForUserResponse, error) {
	n, err := s.svc.RevokeAll(ctx, req.GetUserId(), req.GetExceptSessionId())
	if err != nil {
		return nil, err
	}
	return &sessionv1.RevokeAllForUserResponse{Revoked: int32(n)}, nil
}

// List returns a user's live sessions.
func (s *Server) List(ctx context.Context, req *sessionv1.ListRequest) (*sessionv1.ListResponse, error) {
	ss, err := s.svc.List(ctx, req.GetUserId(), "")
	if err != nil {
		return nil, err
	}
	return &sessionv1.ListResponse{Sessions: summariesToProto(ss)}, nil
}

// ListMySessions lists the caller's sessions, marking the current one.
func (s *Server) ListMySessions(ctx context.Context, _ *sessionv1.ListMySessionsRequest) (*sessionv1.ListMySessionsResponse, error) {
	p, err := userCaller(ctx)
	if err != nil {
		return nil, err
	}
	ss, err := s.svc.List(ctx, p.GetUserId(), p.GetSessionId())
	if err != nil {
		return nil, err
	}
	return &sessionv1.ListMySessionsResponse{Sessions: summariesToProto(ss)}, nil
}

// RevokeMySession ends one of the caller's sessions; NOT_FOUND for any id
// that is not theirs.
func (s *Server) RevokeMySession(ctx context.Context, req *sessionv1.RevokeMySessionRequest) (*sessionv1.RevokeMySessionResponse, error) {
	p, err := userCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.Revoke(ctx, p.GetUserId(), req.GetId()); err != nil {
		return nil, err
	}
	return &sessionv1.RevokeMySessionResponse{}, nil
}

// RevokeMyOtherSessions ends every session of the caller but the current one.
func (s *Server) RevokeMyOtherSessions(ctx context.Context, _ *sessionv1.RevokeMyOtherSessionsRequest) (*sessionv1.RevokeMyOtherSessionsResponse, error) {
	p, err := userCaller(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.svc.RevokeAll(ctx, p.GetUserId(), p.GetSessionId()); err != nil {
		return nil, err
	}
	return &sessionv1.RevokeMyOtherSessionsResponse{}, nil
}

// GetCurrentSession returns the caller's session view.
func (s *Server) GetCurrentSession(ctx context.Context, _ *sessionv1.GetCurrentSessionRequest) (*sessionv1.GetCurrentSessionResponse, error) {
	p, err := userCaller(ctx)
	if err != nil {
		return nil, err
	}
	l, err := s.svc.Current(ctx, p.GetUserId(), p.GetSessionId())
	if err != nil {
		return nil, err
	}
	perms, err := s.svc.Permissions(ctx, l.Record)
	if err != nil {
		return nil, err
	}
	return &sessionv1.GetCurrentSessionResponse{Session: s.view(l, perms)}, nil
}
