package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/watchtower/authplane/platform/apperr"
)

// MaxNameChars bounds organization and user display names.
const MaxNameChars = 200

// AuditOrgBootstrapped is the event Bootstrap records.
const AuditOrgBootstrapped = "org.bootstrapped"

// BootstrapInput describes a new organization and its first admin.
type BootstrapInput struct {
	OrgName  string
	Email    string
	Name     string
	Password string
}

// BootstrapResult names what Bootstrap created.
type BootstrapResult struct {
	OrgID  string
	UserID string
}

// Bootstrap creates an organization, its first user as ADMIN, the default
// security policy and an org.bootstrapped audit event, all or nothing.
func (s *Service) Bootstrap(ctx context.Context, in BootstrapInput, actor Actor) (BootstrapResult, error) {
	if err := CheckPasswordLength(in.Password); err != nil {
		return BootstrapResult{}, err
	}
	orgName := strings.TrimSpace(in.OrgName)
	name := strings.TrimSpace(in.Name)
	var fields []apperr.FieldViolation
	if reason := checkName(orgName, true); reason != "" {
		fields = append(fields, apperr.FieldViolation{Field: "org_name", Reason: reason})
	}
	if reason := checkName(name, false); reason != "" {
		fields = append(fields, apperr.FieldViolation{Field: "name", Reason: reason})
	}
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		e, _ := apperr.As(err)
		fields = append(fields, e.Fields...)
	}
	if len(fields) > 0 {
		return BootstrapResult{}, apperr.Validation(fields...)
	}
	if err := CheckNewPassword(in.Password); err != nil {
		return BootstrapResult{}, err
	}

	orgID, err := newID(s.rand, prefixOrg)
	if err != nil {
		return BootstrapResult{}, err
	}
	userID, err := newID(s.rand, prefixUser)
	if err != nil {
		return BootstrapResult{}, err
	}
	eventID, err := newID(s.rand, prefixAudit)
	if err != nil {
		return BootstrapResult{}, err
	}
	phc, err := s.hash(ctx, in.Password)
	if err != nil {
		return BootstrapResult{}, err
	}
	now := s.now().UTC()
	actor = actor.sanitized()
	rec := BootstrapRecord{
		Org:          Organization{ID: orgID, Name: orgName, CreatedAt: now},
		User:         User{ID: userID, Email: email, Name: name, CreatedAt: now, UpdatedAt: now},
		PasswordHash: phc,
		Event: AuditEvent{
			ID: eventID, OrgID: orgID, Type: AuditOrgBootstrapped,
			ActorID: actor.ID, TargetID: orgID, IP: actor.IP, UserAgent: actor.UserAgent,
			At:   now,
			Data: map[string]string{"org_name": orgName, "admin_user_id": userID, "admin_email": email},
		},
	}
	err = s.store.Bootstrap(ctx, rec)
	if errors.Is(err, ErrEmailTaken) {
		return BootstrapResult{}, apperr.Conflict("email_taken", "a user with this email already exists")
	}
	if err != nil {
		return BootstrapResult{}, err
	}
	return BootstrapResult{OrgID: orgID, UserID: userID}, nil
}

// hash makes a PHC hash of password within a hashing slot.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	release, err := s.acquireHashSlot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	phc, err := s.hasher.Hash(password)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return phc, nil
}

// checkName returns a field violation reason for a display name, or "".
func checkName(s string, required bool) string {
	switch {
	case s == "" && required:
		return "required"
	case !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "invalid"
	case utf8.RuneCountInString(s) > MaxNameChars:
		return "too_long"
	}
	return ""
}
