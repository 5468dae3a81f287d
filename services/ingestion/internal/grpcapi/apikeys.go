package grpcapi

import (
	"net/http"

	"context"
	"github.com/watchtower/authplane/platform/restmeta"
	"time"

	ingestionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/ingestion/v1"
	"github.com/watchtower/authplane/services/ingestion/internal/ingest"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func ts(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return timestamppb.New(*t)
}

func keyToProto(k *ingest.APIKey) *ingestionv1.ApiKey {
	cidrs := k.AllowedCIDRs
	if cidrs == nil {
		cidrs = []string{}
	}
	return &ingestionv1.ApiKey{
		Id: k.ID, Name: k.Name, Environment: k.Environment, Prefix: k.Prefix, Status: k.Status,
		CreatedAt: timestamppb.New(k.CreatedAt), RotatedAt: ts(k.RotatedAt), LastUsedAt: ts(k.LastUsedAt),
		RevokedAt: ts(k.RevokedAt), AllowedCidrs: cidrs,
	}
}

// CreateApiKey creates a key.
func (s *Server) CreateApiKey(ctx context.Context, req *ingestionv1.CreateApiKeyRequest) (*ingestionv1.CreateApiKeyResponse, error) {
	org, err := orgOf(ctx, req.GetOrgId())
	if err != nil {
		return nil, err
	}
	k, secret, err := s.svc.CreateKey(ctx, org, req.GetName(), req.GetEnvironment(), req.GetAllowedCidrs())
	if err != nil {
		return nil, err
	}
	_ = restmeta.SetStatus(ctx, http.StatusCreated) // best effort: a gRPC caller has no use for it
	return &ingestionv1.CreateApiKeyResponse{ApiKey: keyToProto(k), Secret: secret}, nil
}

// ListApiKeys lists the org's keys.
func (s *Server) ListApiKeys(ctx context.Context, req *ingestionv1.ListApiKeysRequest) (*ingestionv1.ListApiKeysResponse, error) {
	org, err := orgOf(ctx, req.GetOrgId())
	if err != nil {
		return nil, err
	}
	keys, err := s.svc.ListKeys(ctx, org)
	if err != nil {
		return nil, err
	}
	out := &ingestionv1.ListApiKeysResponse{ApiKeys: make([]*ingestionv1.ApiKey, 0, len(keys))}
	for i := range keys {
		out.ApiKeys = append(out.ApiKeys, keyToProto(&keys[i]))
	}
	return out, nil
}

// RotateApiKey rotates a key's secret.
func (s *Server) RotateApiKey(ctx context.Context, req *ingestionv1.RotateApiKeyRequest) (*ingestionv1.RotateApiKeyResponse, error) {
	org, err := orgOf(ctx, req.GetOrgId())
	if err != nil {
		return nil, err
	}
	k, secret, err := s.svc.RotateKey(ctx, org, req.GetId(), time.Duration(req.GetGracePeriodSeconds())*time.Second)
	if err != nil {
		return nil, err
	}
	return &ingestionv1.RotateApiKeyResponse{ApiKey: keyToProto(k), Secret: secret}, nil
}

// RevokeApiKey revokes a key.
func (s *Server) RevokeApiKey(ctx context.Context, req *ingestionv1.RevokeApiKeyRequest) (*ingestionv1.RevokeApiKeyResponse, error) {
	org, err := orgOf(ctx, req.GetOrgId())
	if err != nil {
		return nil, err
	}
	if err := s.svc.RevokeKey(ctx, org, req.GetId()); err != nil {
		return nil, err
	}
	return &ingestionv1.RevokeApiKeyResponse{}, nil
}
