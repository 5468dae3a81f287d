package session

import (
	"context"
	"time"
)

// Store keeps sessions. Implementations return ErrNotFound for a session
// that does not exist (or not for that user) and an *apperr.Error of kind
// Unavailable when the backing store fails.
type Store interface {
	// Create stores rec under a fresh token and returns the token.
	Create(ctx context.Context, rec Record) (token string, id string, err error)
	// Validate resolves a token, sliding its idle expiry.
	Validate(ctx context.Context, token string) (Live, error)
	// Get reads a session by id without sliding it.
	Get(ctx context.Context, id string) (Live, error)
	// Revoke deletes the session id when it belongs to userID.
	Revoke(ctx context.Context, userID, id string) error
	// RevokeAll deletes every session of userID but except (may be empty) and
	// returns how many it ended.
	RevokeAll(ctx context.Context, userID, except string) (int, error)
	// List returns the live sessions of userID, newest first.
	List(ctx context.Context, userID string) ([]Live, error)
}

// Throttle counts failed sign-ins per account and per client IP.
type Throttle interface {
	// Check returns an *apperr.Error of kind RateLimited when either bucket
	// is exhausted.
	Check(ctx context.Context, email, ip string) error
	// Fail records a failed attempt.
	Fail(ctx context.Context, email, ip string) error
	// Reset clears the account bucket after a success.
	Reset(ctx context.Context, email string) error
}

// Identity is the identity service as sessions need it.
type Identity interface {
	// VerifyPassword returns the user and their memberships (oldest first),
	// or the identity service's error unchanged (invalid_credentials,
	// validation_failed, ...).
	VerifyPassword(ctx context.Context, email, password string) (User, []Membership, error)
	// GetUser returns a user and their memberships (oldest first).
	GetUser(ctx context.Context, userID string) (User, []Membership, error)
}

// Permissions answers which permissions a role holds.
type Permissions interface {
	ForRole(ctx context.Context, role string) ([]string, error)
}

// Auditor records security events. Failures are logged, never fatal.
type Auditor interface {
	Record(ctx context.Context, e AuditEvent)
}

// AuditEvent is one security event.
type AuditEvent struct {
	Type      string
	OrgID     string
	ActorID   string
	TargetID  string
	IP        string
	UserAgent string
	At        time.Time
	Data      map[string]string
}
