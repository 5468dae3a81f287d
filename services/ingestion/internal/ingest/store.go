// Package ingest is the ingestion service's domain: organization API keys,
// baseline controls, and the exactly-once ingestion of transactions. It
// talks to Postgres and Redis only through the interfaces below.
package ingest

import (
	"context"
	"errors"
	"time"

	"github.com/watchtower/authplane/services/ingestion/internal/txn"
)

// ErrNotFound is returned by stores for a missing (or other org's) object.
var ErrNotFound = errors.New("ingest: not found")

// ErrDuplicateReference is returned by TxStore.Insert when the org already
// has a transaction with that reference.
var ErrDuplicateReference = errors.New("ingest: duplicate reference")

// APIKey is an organization API key (never its secret).
type APIKey struct {
	ID           string
	OrgID        string
	Name         string
	Environment  string
	Prefix       string
	Status       string
	AllowedCIDRs []string
	CreatedAt    time.Time
	RotatedAt    *time.Time
	RevokedAt    *time.Time
	LastUsedAt   *time.Time
}

// Key statuses.
const (
	StatusActive  = "active"
	StatusRevoked = "revoked"
)

// VerifiedKey is what a secret resolves to.
type VerifiedKey struct {
	KeyID        string
	OrgID        string
	Environment  string
	Status       string
	AllowedCIDRs []string
	OrgCIDRs     []string
	// ValidUntil is set when the secret matched is a rotated-out one in its grace period.
	ValidUntil *time.Time
}

// KeyStore persists API keys.
type KeyStore interface {
	// CreateKey, RotateKey and RevokeKey write ev in the same transaction as
	// the change (RevokeKey only when the key was active).
	CreateKey(ctx context.Context, k *APIKey, secretHash string, ev AuditEvent) error
	ListKeys(ctx context.Context, orgID string) ([]APIKey, error)
	GetKey(ctx context.Context, orgID, id string) (*APIKey, error)
	// RotateKey replaces the secret hash; the old one stays valid until
	// graceUntil when it is non-nil.
	RotateKey(ctx context.Context, orgID, id, newHash, newPrefix string, graceUntil *time.Time, now time.Time, ev AuditEvent) (*APIKey, error)
	RevokeKey(ctx context.Context, orgID, id string, now time.Time, ev AuditEvent) error
	// LookupKey finds the key whose current secret, or unexpired previous
	// secret, hashes to secretHash; ErrNotFound otherwise.
	LookupKey(ctx context.Context, secretHash string, now time.Time) (*VerifiedKey, error)
	// TouchKeys raises last_used_at of each key to the given time.
	TouchKeys(ctx context.Context, used map[string]time.Time) error
}

// Settings are an organization's ingestion settings.
type Settings struct {
	Controls      txn.Controls
	AllowedCIDRs  []string
	RatePerSecond int
	Burst         int
}

// DefaultSettings are a new organization's settings.
func DefaultSettings() Settings {
	return Settings{Controls: txn.DefaultControls(), RatePerSecond: 1000, Burst: 2000}
}

// SettingsStore persists per-organization settings.
type SettingsStore interface {
	// GetSettings returns the org's settings, or DefaultSettings.
	GetSettings(ctx context.Context, orgID string) (Settings, error)
	// UpdateControls reads the org's controls under a lock and hands them to
	// apply; an error from apply is returned as it is and changes nothing,
	// a nil event leaves the row as it was, otherwise the controls apply
	// returns are written with the event in the same transaction.
	UpdateControls(ctx context.Context, orgID string, apply func(txn.Controls) (txn.Controls, *AuditEvent, error)) (txn.Controls, error)
	// PutAllowedCIDRs writes ev in the same transaction.
	PutAllowedCIDRs(ctx context.Context, orgID string, cidrs []string, ev AuditEvent) error
}

// StoredTx is one ingested transaction.
type StoredTx struct {
	Seq            int64
	ID             string
	OrgID          string
	APIKeyID       string
	Tx             *txn.Transaction
	Payload        []byte
	Decision       txn.Decision
	ReceivedAt     time.Time
	IdempotencyKey string
	Fingerprint    string
	Response       []byte
}

// TxStore persists transactions.
type TxStore interface {
	// Insert stores t; ErrDuplicateReference when (org, reference) exists.
	Insert(ctx context.Context, t *StoredTx) error
	// ByReference returns the org's transaction with that reference.
	ByReference(ctx context.Context, orgID, reference string) (*StoredTx, error)
	// List returns up to limit transactions, newest first, that come after
	// the org's transaction afterID ("": from the newest; an id the org
	// does not have: none).
	List(ctx context.Context, orgID, afterID string, limit int) ([]StoredTx, error)
}

// BeginOutcome is what Idempotency.Begin found.
type BeginOutcome int

// The outcomes of Begin.
const (
	// Claimed: the caller owns the key until Complete, Release or the lease ends.
	Claimed BeginOutcome = iota
	// Replay: a completed response with the same fingerprint exists.
	Replay
	// Reused: the key is held (in flight or completed) for another body.
	Reused
	// InFlight: the same body is being processed under another owner.
	InFlight
	// Limited: the org is over its ingestion rate.
	Limited
	// Absent: nothing is stored under the key (check-only Begin).
	Absent
)

// BeginArgs are the inputs of Begin.
type BeginArgs struct {
	OrgID, Key, Fingerprint, Owner string
	Lease                          time.Duration
	RatePerSecond, Burst           int
	// Claim takes the key when it is free; without it Begin only checks
	// (for a body that will be refused).
	Claim bool
	// SenderID, Member and Window count the sender's velocity on a claim:
	// Member (the reference) is added to the sender's window.
	SenderID, Member string
	Window           time.Duration
}

// BeginResult is the result of Begin.
type BeginResult struct {
	Outcome    BeginOutcome
	Status     int
	Body       []byte
	RetryAfter time.Duration
	// VelocityCount is the sender's transactions in the window, this one
	// included (on Claimed).
	VelocityCount int
}

// Idempotency is the Redis side of an ingestion: the org's rate limit, the
// idempotency record and the sender's velocity, checked and claimed in one
// atomic step.
type Idempotency interface {
	Begin(ctx context.Context, a BeginArgs) (BeginResult, error)
	// Complete stores the response for the retention period if the claim is
	// still the owner's (or has lapsed unclaimed); it reports whether it did.
	Complete(ctx context.Context, a BeginArgs, status int, body []byte) (bool, error)
	// Release drops the owner's claim.
	Release(ctx context.Context, a BeginArgs) error
}

// KeyEvents tells gateways that a key changed so their caches drop it.
type KeyEvents interface {
	Publish(ctx context.Context, keyID string) error
}

// UsageLog buffers API key last-use times between flushes to Postgres.
type UsageLog interface {
	Note(ctx context.Context, keyID string, at time.Time) error
	// Take removes and returns every buffered note.
	Take(ctx context.Context) (map[string]time.Time, error)
}
