package identity

import (
	"context"
	"time"
)

// Store persists the identity domain.
type Store interface {
	// CredentialByEmail returns the user with the normalised email and their
	// PHC password hash, or ErrNotFound.
	CredentialByEmail(ctx context.Context, email string) (User, string, error)
	// User returns the user, or ErrNotFound.
	User(ctx context.Context, id string) (User, error)
	// Memberships returns the user's memberships, oldest first.
	Memberships(ctx context.Context, userID string) ([]Membership, error)
	// SetPasswordHash replaces the user's password hash.
	SetPasswordHash(ctx context.Context, userID, phc string, at time.Time) error
	// Bootstrap stores, in one transaction, the organization, the user as its
	// ADMIN, the organization's default security policy and the event; it
	// returns ErrEmailTaken when the email belongs to another user.
	Bootstrap(ctx context.Context, b BootstrapRecord) error
	// InsertAuditEvent stores e, or returns ErrOrgNotFound.
	InsertAuditEvent(ctx context.Context, e AuditEvent) error
}

// BootstrapRecord is what Bootstrap stores.
type BootstrapRecord struct {
	Org          Organization
	User         User
	PasswordHash string
	Event        AuditEvent
}

// PasswordHasher makes and checks PHC password hashes (internal/argon2id).
type PasswordHasher interface {
	Hash(password string) (string, error)
	Verify(phc, password string) (ok, needsRehash bool, err error)
}
