// Package grpcapi serves watchtower.authz.v1.AuthorizationService over the
// policy table.
package grpcapi

import (
	"context"

	"github.com/watchtower/authplane/platform/apperr"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	"github.com/watchtower/authplane/services/authz/internal/policy"
)

// maxBatch bounds BatchCheck.
const maxBatch = 256

// Server implements AuthorizationService.
type Server struct {
	authzv1.UnimplementedAuthorizationServiceServer
}

// NewServer returns the service.
func NewServer() *Server { return &Server{} }

func decide(role string, perm string) (bool, error) {
	r, err := policy.ParseRole(role)
	if err != nil {
		return false, apperr.Invalid("unknown_role", "role must be ADMIN, RISK_LEAD, ANALYST or VIEWER")
	}
	ok, err := policy.Allowed(r, policy.Permission(perm))
	if err != nil {
		return false, apperr.Invalid("unknown_permission", "unknown permission "+perm)
	}
	return ok, nil
}

// Check answers one decision.
func (s *Server) Check(_ context.Context, req *authzv1.CheckRequest) (*authzv1.CheckResponse, error) {
	ok, err := decide(req.GetRole(), req.GetPermission())
	if err != nil {
		return nil, err
	}
	return &authzv1.CheckResponse{Allowed: ok}, nil
}

// BatchCheck answers several decisions for one role, in order.
func (s *Server) BatchCheck(_ context.Context, req *authzv1.BatchCheckRequest) (*authzv1.BatchCheckResponse, error) {
	if len(req.GetPermissions()) > maxBatch {
		return nil, apperr.Validation(apperr.FieldViolation{Field: "permissions", Reason: "too_many"})
	}
	out := make([]bool, 0, len(req.GetPermissions()))
	for _, p := range req.GetPermissions() {
		ok, err := decide(req.GetRole(), p)
		if err != nil {
			return nil, err
		}
		out = append(out, ok)
	}
	return &authzv1.BatchCheckResponse{Allowed: out}, nil
}

// GetPolicy returns the whole table.
func (s *Server) GetPolicy(context.Context, *authzv1.GetPolicyRequest) (*authzv1.GetPolicyResponse, error) {
	resp := &authzv1.GetPolicyResponse{Version: policy.Version()}
	for _, r := range policy.Roles {
		row := &authzv1.RolePermissions{Role: string(r)}
		for _, p := range policy.Permissions(r) {
			row.Permissions = append(row.Permissions, string(p))
		}
		resp.Roles = append(resp.Roles, row)
	}
	for _, p := range policy.All() {
		resp.Permissions = append(resp.Permissions, string(p))
	}
	return resp, nil
}
