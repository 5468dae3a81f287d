// Package grpcapi serves watchtower.identity.v1.IdentityService: thin
// handlers that convert proto messages to domain calls and back. Access
// rules and error mapping live in the shared grpcserver interceptor.
package grpcapi

import (
	"context"
	"time"

	"github.com/watchtower/authplane/platform/principal"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	identityv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/identity/v1"
	"github.com/watchtower/authplane/services/identity/internal/identity"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Server implements identityv1.IdentityServiceServer.
type Server struct {
	identityv1.UnimplementedIdentityServiceServer
	svc *identity.Service
}

// NewServer returns the handlers for svc.
func NewServer(svc *identity.Service) *Server { return &Server{svc: svc} }

// VerifyPassword implements identityv1.IdentityServiceServer.
func (s *Server) VerifyPassword(ctx context.Context, req *identityv1.VerifyPasswordRequest) (*identityv1.VerifyPasswordResponse, error) {
	acc, err := s.svc.VerifyPassword(ctx, req.GetEmail(), req.GetPassword())
	if err != nil {
		return nil, err
	}
	return &identityv1.VerifyPasswordResponse{User: toUser(acc.User), Memberships: toMemberships(acc.Memberships)}, nil
}

// GetUser implements identityv1.IdentityServiceServer.
func (s *Server) GetUser(ctx context.Context, req *identityv1.GetUserRequest) (*identityv1.GetUserResponse, error) {
	acc, err := s.svc.GetUser(ctx, req.GetUserId())
	if err != nil {
		return nil, err
	}
	return &identityv1.GetUserResponse{User: toUser(acc.User), Memberships: toMemberships(acc.Memberships)}, nil
}

// Bootstrap implements identityv1.IdentityServiceServer.
func (s *Server) Bootstrap(ctx context.Context, req *identityv1.BootstrapRequest) (*identityv1.BootstrapResponse, error) {
	res, err := s.svc.Bootstrap(ctx, identity.BootstrapInput{
		OrgName:  req.GetOrgName(),
		Email:    req.GetEmail(),
		Name:     req.GetName(),
		Password: req.GetPassword(),
	}, actorOf(ctx))
	if err != nil {
		return nil, err
	}
	return &identityv1.BootstrapResponse{OrgId: res.OrgID, UserId: res.UserID}, nil
}

// RecordAuditEvent implements identityv1.IdentityServiceServer.
func (s *Server) RecordAuditEvent(ctx context.Context, req *identityv1.RecordAuditEventRequest) (*identityv1.RecordAuditEventResponse, error) {
	e, err := s.svc.RecordAuditEvent(ctx, identity.AuditEvent{
		OrgID:     req.GetOrgId(),
		Type:      req.GetType(),
		ActorID:   req.GetActorId(),
		TargetID:  req.GetTargetId(),
		IP:        req.GetIp(),
		UserAgent: req.GetUserAgent(),
		Data:      req.GetData(),
		At:        occurredAt(req),
	})
	if err != nil {
		return nil, err
	}
	return &identityv1.RecordAuditEventResponse{Id: e.ID, At: timestamppb.New(e.At)}, nil
}

// occurredAt is the request's time of the event, or zero (now).
func occurredAt(req *identityv1.RecordAuditEventRequest) time.Time {
	if ts := req.GetOccurredAt(); ts != nil && ts.IsValid() {
		return ts.AsTime()
	}
	return time.Time{}
}

// actorOf names the verified caller for the audit trail.
func actorOf(ctx context.Context) identity.Actor {
	p, ok := principal.FromContext(ctx)
	if !ok {
		return identity.Actor{}
	}
	a := identity.Actor{IP: p.GetClientIp(), UserAgent: p.GetUserAgent()}
	switch p.GetKind() {
	case authzv1.PrincipalKind_PRINCIPAL_KIND_SERVICE:
		a.ID = "service:" + p.GetService()
	case authzv1.PrincipalKind_PRINCIPAL_KIND_USER:
		a.ID = p.GetUserId()
	case authzv1.PrincipalKind_PRINCIPAL_KIND_API_KEY:
		a.ID = p.GetApiKeyId()
	}
	return a
}

func toUser(u identity.User) *identityv1.User {
	return &identityv1.User{
		Id:         u.ID,
		Email:      u.Email,
		Name:       u.Name,
		Disabled:   u.Disabled,
		MfaEnabled: u.MFAEnabled,
		CreatedAt:  timestamppb.New(u.CreatedAt),
	}
}

func toMemberships(ms []identity.Membership) []*identityv1.Membership {
	out := make([]*identityv1.Membership, 0, len(ms))
	for _, m := range ms {
		out = append(out, &identityv1.Membership{
			OrgId:       m.OrgID,
			OrgName:     m.OrgName,
			Role:        string(m.Role),
			JoinedAt:    timestamppb.New(m.JoinedAt),
			MfaRequired: m.MFARequired,
		})
	}
	return out
}
