// Package session holds the rules of console sessions: who may sign in, how
// long a session lives, what state it starts in, and what revocation means.
// It knows nothing of gRPC or Redis: it talks to its store, to identity and to
// the policy through the interfaces below.
package session

import (
	"strings"
	"time"

	"github.com/watchtower/authplane/platform/apperr"
)

// PendingMFALifetime bounds a session that has passed the password step and
// owes the second factor (API.md: wt_mfa lives at most 5 minutes).
const PendingMFALifetime = 5 * time.Minute

// AuthLevel is how strongly the user proved who they are.
type AuthLevel int

// The auth levels.
const (
	AuthLevelUnspecified AuthLevel = iota
	AuthLevelPassword
	AuthLevelMFA
)

// State is what a session may do.
type State int

// The session states.
const (
	StateUnspecified State = iota
	// StateActive is a full session.
	StateActive
	// StateMFAPending is good for the MFA step only.
	StateMFAPending
	// StateEnrollmentRequired may only enrol MFA, read itself and log out.
	StateEnrollmentRequired
)

// User is the signed-in operator.
type User struct {
	ID         string
	Email      string
	Name       string
	Disabled   bool
	MFAEnabled bool
}

// Membership is the user's role in one organization.
type Membership struct {
	OrgID   string
	OrgName string
	Role    string
	// MFARequired is the organization's policy for this role.
	MFARequired bool
}

// Record is what the store keeps for one session. The token is not part of it.
type Record struct {
	ID          string
	User        User
	Org         Membership
	Orgs        []Membership
	AuthLevel   AuthLevel
	State       State
	CSRFToken   string
	CreatedAt   time.Time
	AbsoluteExp time.Time
	IdleTimeout time.Duration
	IP          string
	UserAgent   string
}

// Live is a record with its last-seen time.
type Live struct {
	Record
	LastSeen time.Time
}

// Summary is one entry of a user's session listing.
type Summary struct {
	ID        string
	CreatedAt time.Time
	LastSeen  time.Time
	IP        string
	UserAgent string
	Current   bool
}

// Client is who is calling, as the gateway determined it.
type Client struct {
	IP        string
	UserAgent string
}

// initialState is the state of a freshly authenticated session: limited to
// MFA enrolment when the organization requires MFA for the role and the user
// has none, and enrolment is enforced.
func initialState(u User, m Membership, enforce bool) State {
	if enforce && m.MFARequired && !u.MFAEnabled {
		return StateEnrollmentRequired
	}
	return StateActive
}

// requireCredentials refuses a sign-in that lacks an email or a password
// before any throttle or identity work: it is a malformed request, not a
// failed guess.
func requireCredentials(email, password string) error {
	var fields []apperr.FieldViolation
	if strings.TrimSpace(email) == "" {
		fields = append(fields, apperr.FieldViolation{Field: "email", Reason: "required"})
	}
	if password == "" {
		fields = append(fields, apperr.FieldViolation{Field: "password", Reason: "required"})
	}
	if len(fields) > 0 {
		return apperr.Validation(fields...)
	}
	return nil
}
