// Package grpcapi exposes the ingestion domain over gRPC: thin handlers and
// the proto <-> domain conversions.
package grpcapi

import (
	"context"
	"strings"

	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/platform/principal"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	ingestionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/ingestion/v1"
	"github.com/watchtower/authplane/services/ingestion/internal/ingest"
)

// Server implements ingestionv1.IngestionServiceServer.
type Server struct {
	ingestionv1.UnimplementedIngestionServiceServer
	svc *ingest.Service
}

// New returns the gRPC handlers over svc.
func New(svc *ingest.Service) *Server { return &Server{svc: svc} }

// orgOf returns the organization a call acts on: the signed principal's for
// users, the request's for services.
func orgOf(ctx context.Context, requested string) (string, error) {
	p, ok := principal.FromContext(ctx)
	if !ok {
		return "", apperr.Unauthenticated("unauthenticated", "authentication is required")
	}
	switch p.GetKind() {
	case authzv1.PrincipalKind_PRINCIPAL_KIND_USER:
		if p.GetOrgId() == "" {
			return "", apperr.Forbidden("forbidden", "no active organization")
		}
		return p.GetOrgId(), nil
	case authzv1.PrincipalKind_PRINCIPAL_KIND_SERVICE:
		requested = strings.TrimSpace(requested)
		if requested == "" {
			return "", apperr.Validation(apperr.FieldViolation{Field: "orgId", Reason: "required"})
		}
		if ingest.Unstorable(requested) {
			return "", apperr.Validation(apperr.FieldViolation{Field: "orgId", Reason: "invalid_character"})
		}
		return requested, nil
	}
	return "", apperr.Forbidden("forbidden", "this caller may not call this method")
}

// Ingest implements POST /api/v1/transactions (raw body from the gateway).
func (s *Server) Ingest(ctx context.Context, req *ingestionv1.IngestRequest) (*ingestionv1.IngestResponse, error) {
	p, ok := principal.FromContext(ctx)
	if !ok || p.GetKind() != authzv1.PrincipalKind_PRINCIPAL_KIND_API_KEY {
		return nil, apperr.Unauthenticated("api_key_required", "an API key is required")
	}
	res, err := s.svc.Ingest(ctx, ingest.Caller{OrgID: p.GetOrgId(), APIKeyID: p.GetApiKeyId()}, req.GetIdempotencyKey(), req.GetBody())
	if err != nil {
		return nil, err
	}
	return &ingestionv1.IngestResponse{
		HttpStatus:        int32(res.Status),
		Body:              res.Body,
		Replayed:          res.Replayed,
		RetryAfterSeconds: int32((res.RetryAfter.Milliseconds() + 999) / 1000),
	}, nil
}

// VerifyApiKey resolves a secret for the gateway.
func (s *Server) VerifyApiKey(ctx context.Context, req *ingestionv1.VerifyApiKeyRequest) (*ingestionv1.VerifyApiKeyResponse, error) {
	v, err := s.svc.VerifyKey(ctx, req.GetSecret())
	if err != nil {
		return nil, err
	}
	out := &ingestionv1.VerifyApiKeyResponse{
		ApiKeyId: v.KeyID, OrgId: v.OrgID, Environment: v.Environment,
		AllowedCidrs: v.AllowedCIDRs, OrgAllowedCidrs: v.OrgCIDRs,
	}
	if v.ValidUntil != nil {
		out.ValidUntilUnixMs = v.ValidUntil.UnixMilli()
	}
	return out, nil
}

// SetOrgAllowedCidrs replaces an org's allow-list.
func (s *Server) SetOrgAllowedCidrs(ctx context.Context, req *ingestionv1.SetOrgAllowedCidrsRequest) (*ingestionv1.SetOrgAllowedCidrsResponse, error) {
	org, err := orgOf(ctx, req.GetOrgId())
	if err != nil {
		return nil, err
	}
	if err := s.svc.SetOrgAllowedCIDRs(ctx, org, req.GetAllowedCidrs()); err != nil {
		return nil, err
	}
	return &ingestionv1.SetOrgAllowedCidrsResponse{}, nil
}
