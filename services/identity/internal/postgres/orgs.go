package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/watchtower/authplane/platform/pgdb"
	"github.com/watchtower/authplane/services/identity/internal/identity"
)

const (
	sqlInsertOrg = `
INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)`

	sqlInsertUser = `
INSERT INTO users (id, email, name, password_hash, disabled, mfa_enabled, created_at, updated_at)
VALUES ($1, $2, $3, $4, false, false, $5, $5)`

	sqlInsertMembership = `
INSERT INTO memberships (org_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)`

	// The policy's values are the column defaults: one source for them.
	sqlInsertDefaultPolicy = `
INSERT INTO org_security_policies (org_id) VALUES ($1)`

	constraintUsersEmail = "users_email_key"
)

// Bootstrap implements identity.Store.
func (s *Store) Bootstrap(ctx context.Context, b identity.BootstrapRecord) error {
	err := pgdb.InTx(ctx, s.pool, pgx.ReadCommitted, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, sqlInsertOrg, b.Org.ID, b.Org.Name, b.Org.CreatedAt); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, sqlInsertUser, b.User.ID, b.User.Email, b.User.Name, b.PasswordHash, b.User.CreatedAt); err != nil {
			if pgdb.IsUniqueViolation(err, constraintUsersEmail) {
				return identity.ErrEmailTaken
			}
			return err
		}
		if _, err := tx.Exec(ctx, sqlInsertMembership, b.Org.ID, b.User.ID, string(identity.RoleAdmin), b.Org.CreatedAt); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, sqlInsertDefaultPolicy, b.Org.ID); err != nil {
			return err
		}
		return insertAuditEvent(ctx, tx, b.Event)
	})
	if errors.Is(err, identity.ErrEmailTaken) {
		return err
	}
	if err != nil {
		return fail("bootstrap org", err)
	}
	return nil
}
