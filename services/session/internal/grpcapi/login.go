package grpcapi

import (
	"context"

	sessionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/session/v1"
	"github.com/watchtower/authplane/services/session/sessionkv"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// Login checks the credentials and returns the session, its token in the
// x-wt-set-session header; or, when the user has MFA, only mfaRequired and a
// pending-MFA token in x-wt-set-mfa.
func (s *Server) Login(ctx context.Context, req *sessionv1.LoginRequest) (*sessionv1.LoginResponse, error) {
	res, err := s.svc.Login(ctx, req.GetEmail(), req.GetPassword(), clientOf(caller(ctx)))
	if err != nil {
		return nil, err
	}
	o := res.Opened
	if res.MFARequired {
		if err := s.setCookieHeader(ctx, sessionkv.HeaderSetMFA, o.Token, o.Record.AbsoluteExp); err != nil {
			return nil, err
		}
		return &sessionv1.LoginResponse{MfaRequired: true}, nil
	}
	if err := s.setCookieHeader(ctx, sessionkv.HeaderSetSession, o.Token, o.Record.AbsoluteExp); err != nil {
		return nil, err
	}
	return &sessionv1.LoginResponse{Session: s.openedView(o)}, nil
}

// Logout ends the caller's session and asks the gateway to clear the cookie.
func (s *Server) Logout(ctx context.Context, _ *sessionv1.LogoutRequest) (*sessionv1.LogoutResponse, error) {
	p, err := userCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.Logout(ctx, p.GetUserId(), p.GetOrgId(), p.GetSessionId(), clientOf(p)); err != nil {
		return nil, err
	}
	if err := grpc.SetHeader(ctx, metadata.Pairs(sessionkv.HeaderClearSession, "1")); err != nil {
		return nil, err
	}
	return &sessionv1.LogoutResponse{}, nil
}
