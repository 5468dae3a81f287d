package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/watchtower/authplane/services/identity/internal/identity"
)

const (
	sqlCredentialByEmail = `
SELECT id, email, name, disabled, mfa_enabled, created_at, updated_at, password_hash
FROM users WHERE email = $1`

	sqlUserByID = `
SELECT id, email, name, disabled, mfa_enabled, created_at, updated_at
FROM users WHERE id = $1`

	sqlSetPasswordHash = `
UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1`

	// A membership whose org has no policy row falls back to the default
	// policy (MFA for ADMIN and RISK_LEAD) rather than to no MFA.
	sqlMemberships = `
SELECT m.org_id, o.name, m.role, m.joined_at,
       COALESCE(m.role = ANY (p.mfa_required_roles), m.role IN ('ADMIN', 'RISK_LEAD'))
FROM memberships m
JOIN organizations o ON o.id = m.org_id
LEFT JOIN org_security_policies p ON p.org_id = m.org_id
WHERE m.user_id = $1
ORDER BY m.joined_at, m.org_id`
)

// CredentialByEmail implements identity.Store.
func (s *Store) CredentialByEmail(ctx context.Context, email string) (identity.User, string, error) {
	var u identity.User
	var phc string
	err := s.pool.QueryRow(ctx, sqlCredentialByEmail, email).
		Scan(&u.ID, &u.Email, &u.Name, &u.Disabled, &u.MFAEnabled, &u.CreatedAt, &u.UpdatedAt, &phc)
	if errors.Is(err, pgx.ErrNoRows) {
		return identity.User{}, "", identity.ErrNotFound
	}
	if err != nil {
		return identity.User{}, "", fail("load credential", err)
	}
	return u, phc, nil
}

// User implements identity.Store.
func (s *Store) User(ctx context.Context, id string) (identity.User, error) {
	var u identity.User
	err := s.pool.QueryRow(ctx, sqlUserByID, id).
		Scan(&u.ID, &u.Email, &u.Name, &u.Disabled, &u.MFAEnabled, &u.CreatedAt, &u.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return identity.User{}, identity.ErrNotFound
	}
	if err != nil {
		return identity.User{}, fail("load user "+id, err)
	}
	return u, nil
}

// SetPasswordHash implements identity.Store.
func (s *Store) SetPasswordHash(ctx context.Context, userID, phc string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, sqlSetPasswordHash, userID, phc, at)
	if err != nil {
		return fail("set password hash of "+userID, err)
	}
	if tag.RowsAffected() == 0 {
		return identity.ErrNotFound
	}
	return nil
}

// Memberships implements identity.Store.
func (s *Store) Memberships(ctx context.Context, userID string) ([]identity.Membership, error) {
	rows, err := s.pool.Query(ctx, sqlMemberships, userID)
	if err != nil {
		return nil, fail("load memberships of "+userID, err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (identity.Membership, error) {
		var m identity.Membership
		var role string
		err := r.Scan(&m.OrgID, &m.OrgName, &role, &m.JoinedAt, &m.MFARequired)
		m.Role = identity.Role(role)
		return m, err
	})
	if err != nil {
		return nil, fail("load memberships of "+userID, err)
	}
	return ms, nil
}
