package ingest

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/platform/logging"
	"github.com/watchtower/authplane/services/ingestion/apikey"
)

// MaxGracePeriod bounds a rotation's grace period.
const MaxGracePeriod = 7 * 24 * time.Hour

// keyIDPrefix and keyIDHexLen give the shape of every API key id (newID).
const (
	keyIDPrefix = "key_"
	keyIDHexLen = 32
)

// wellFormedKeyID reports whether id has the shape of an API key id, so a
// malformed one (U+0000 included) is answered without a store look-up.
func wellFormedKeyID(id string) bool {
	hexPart, ok := strings.CutPrefix(id, keyIDPrefix)
	if !ok || len(hexPart) != keyIDHexLen {
		return false
	}
	for i := 0; i < len(hexPart); i++ {
		if c := hexPart[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Unstorable reports whether s holds a character a client-supplied name
// may not carry: invalid UTF-8, U+0000 or another control character
// (Postgres refuses U+0000 in text).
func Unstorable(s string) bool {
	return !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl)
}

func keyRevoked() *apperr.Error {
	return apperr.New(apperr.KindPrecondition, "api_key_revoked", "a revoked key cannot be rotated")
}

func noSuchKey() *apperr.Error { return apperr.NotFound("no such API key") }

func invalidKey() *apperr.Error {
	return apperr.Unauthenticated("invalid_api_key", "the API key is not valid")
}

// NormalizeCIDRs parses each CIDR (a bare address counts as /32 or /128)
// and returns them in canonical form (host bits cleared), each once, in
// order; field names the input for errors.
func NormalizeCIDRs(field string, in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, c := range in {
		c = strings.TrimSpace(c)
		var p netip.Prefix
		var err error
		if strings.Contains(c, "/") {
			p, err = netip.ParsePrefix(c)
		} else {
			var a netip.Addr
			a, err = netip.ParseAddr(c)
			if err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			return nil, apperr.Validation(apperr.FieldViolation{Field: field, Reason: "invalid"})
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			// Client addresses are compared unmapped: an IPv4-mapped
			// prefix would never match.
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if m := p.Masked().String(); !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	if len(out) > 100 {
		return nil, apperr.Validation(apperr.FieldViolation{Field: field, Reason: "too_many"})
	}
	return out, nil
}

// CreateKey creates a key and returns it with its secret.
func (s *Service) CreateKey(ctx context.Context, orgID, name, env string, cidrs []string) (*APIKey, string, error) {
	var fields []apperr.FieldViolation
	name = strings.TrimSpace(name)
	if name == "" {
		fields = append(fields, apperr.FieldViolation{Field: "name", Reason: "required"})
	} else if utf8.RuneCountInString(name) > 100 {
		fields = append(fields, apperr.FieldViolation{Field: "name", Reason: "too_long"})
	} else if Unstorable(name) {
		fields = append(fields, apperr.FieldViolation{Field: "name", Reason: "invalid_character"})
	}
	if !apikey.ValidEnvironment(env) {
		fields = append(fields, apperr.FieldViolation{Field: "environment", Reason: "invalid"})
	}
	norm, err := NormalizeCIDRs("allowedCidrs", cidrs)
	if e, ok := apperr.As(err); ok {
		fields = append(fields, e.Fields...)
	}
	if len(fields) > 0 {
		return nil, "", apperr.Validation(fields...)
	}
	secret, err := apikey.Generate(env, s.o.Random)
	if err != nil {
		return nil, "", err
	}
	id, err := s.newID(keyIDPrefix)
	if err != nil {
		return nil, "", err
	}
	k := &APIKey{ID: id, OrgID: orgID, Name: name, Environment: env, Prefix: secret.Prefix, Status: StatusActive,
		AllowedCIDRs: norm, CreatedAt: s.o.Now().UTC().Truncate(time.Microsecond)}
	data := cidrData(norm)
	data["name"], data["environment"], data["prefix"] = name, env, secret.Prefix
	ev := auditEvent(ctx, orgID, AuditAPIKeyCreated, id, data)
	if err := s.o.Keys.CreateKey(ctx, k, s.o.Hasher.Hash(secret.Secret), ev); err != nil {
		return nil, "", storeFailure(ctx, err)
	}
	s.audited()
	logging.FromContext(ctx).Info("api key created", "target_api_key_id", id, "target_org_id", orgID, "environment", env)
	return k, secret.Secret, nil
}

// ListKeys lists the org's keys.
func (s *Service) ListKeys(ctx context.Context, orgID string) ([]APIKey, error) {
	keys, err := s.o.Keys.ListKeys(ctx, orgID)
	if err != nil {
		return nil, storeFailure(ctx, err)
	}
	return keys, nil
}

// RotateKey issues a new secret; the old one works for grace.
func (s *Service) RotateKey(ctx context.Context, orgID, id string, grace time.Duration) (*APIKey, string, error) {
	if !wellFormedKeyID(id) {
		return nil, "", noSuchKey()
	}
	if grace < 0 || grace > MaxGracePeriod {
		return nil, "", apperr.Validation(apperr.FieldViolation{Field: "gracePeriodSeconds", Reason: "out_of_range"})
	}
	k, err := s.o.Keys.GetKey(ctx, orgID, id)
	if errors.Is(err, ErrNotFound) {
		return nil, "", noSuchKey()
	}
	if err != nil {
		return nil, "", storeFailure(ctx, err)
	}
	if k.Status == StatusRevoked {
		return nil, "", keyRevoked()
	}
	secret, err := apikey.Generate(k.Environment, s.o.Random)
	if err != nil {
		return nil, "", err
	}
	now := s.o.Now().UTC()
	var until *time.Time
	if grace > 0 {
		u := now.Add(grace)
		until = &u
	}
	ev := auditEvent(ctx, orgID, AuditAPIKeyRotated, id, map[string]string{
		"prefix": secret.Prefix, "gracePeriodSeconds": strconv.Itoa(int(grace.Seconds()))})
	k, err = s.o.Keys.RotateKey(ctx, orgID, id, s.o.Hasher.Hash(secret.Secret), secret.Prefix, until, now, ev)
	if errors.Is(err, ErrNotFound) {
		// Revoked since the look-up above (the rotation touches active
		// keys only), or deleted.
		if cur, gerr := s.o.Keys.GetKey(ctx, orgID, id); gerr == nil && cur.Status == StatusRevoked {
			return nil, "", keyRevoked()
		}
		return nil, "", noSuchKey()
	}
	if err != nil {
		return nil, "", storeFailure(ctx, err)
	}
	s.audited()
	s.publish(ctx, id)
	logging.FromContext(ctx).Info("api key rotated", "target_api_key_id", id, "target_org_id", orgID, "grace_seconds", int(grace.Seconds()))
	return k, secret.Secret, nil
}

// RevokeKey revokes a key at once.
func (s *Service) RevokeKey(ctx context.Context, orgID, id string) error {
	if !wellFormedKeyID(id) {
		return noSuchKey()
	}
	err := s.o.Keys.RevokeKey(ctx, orgID, id, s.o.Now().UTC(), auditEvent(ctx, orgID, AuditAPIKeyRevoked, id, nil))
	if errors.Is(err, ErrNotFound) {
		return noSuchKey()
	}
	if err != nil {
		return storeFailure(ctx, err)
	}
	s.audited()
	s.publish(ctx, id)
	logging.FromContext(ctx).Info("api key revoked", "target_api_key_id", id, "target_org_id", orgID)
	return nil
}

// publish tells every gateway to drop cached verifications. A failure is
// logged, not returned: the change is committed, gateways drop their whole
// cache whenever their subscription breaks, and cache entries live at most
// a few seconds.
func (s *Service) publish(ctx context.Context, keyID string) {
	if s.o.Events == nil {
		return
	}
	if err := s.o.Events.Publish(context.WithoutCancel(ctx), keyID); err != nil {
		logging.FromContext(ctx).Error("publish api key invalidation", "api_key_id", keyID, "error", err.Error())
	}
}

// VerifyKey resolves a secret. A malformed secret is refused before any
// store look-up.
func (s *Service) VerifyKey(ctx context.Context, secret string) (*VerifiedKey, error) {
	if _, err := apikey.Parse(secret); err != nil {
		return nil, invalidKey()
	}
	now := s.o.Now()
	v, err := s.o.Keys.LookupKey(ctx, s.o.Hasher.Hash(secret), now)
	if errors.Is(err, ErrNotFound) {
		return nil, invalidKey()
	}
	if err != nil {
		return nil, storeFailure(ctx, err)
	}
	if v.Status != StatusActive {
		return nil, invalidKey()
	}
	return v, nil
}

// SetOrgAllowedCIDRs replaces the org-wide allow-list.
func (s *Service) SetOrgAllowedCIDRs(ctx context.Context, orgID string, cidrs []string) error {
	norm, err := NormalizeCIDRs("allowedCidrs", cidrs)
	if err != nil {
		return err
	}
	ev := auditEvent(ctx, orgID, AuditAllowedCIDRsUpdated, orgID, cidrData(norm))
	if err := s.o.Settings.PutAllowedCIDRs(ctx, orgID, norm, ev); err != nil {
		return storeFailure(ctx, err)
	}
	s.audited()
	s.forgetSettings(orgID)
	s.publish(ctx, "org:"+orgID)
	return nil
}
