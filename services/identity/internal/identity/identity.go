// Package identity holds the identity service's domain: organizations, users,
// memberships and the audit trail, the rules for emails and passwords, the
// store it needs and the use cases (verify a password, read a user,
// bootstrap an organization, record an audit event).
//
// It never imports generated proto types; internal/grpcapi converts.
package identity

import (
	"time"
)

// Role is a member's role in an organization, as spelled on the wire.
type Role string

// The four roles.
const (
	RoleAdmin    Role = "ADMIN"
	RoleRiskLead Role = "RISK_LEAD"
	RoleAnalyst  Role = "ANALYST"
	RoleViewer   Role = "VIEWER"
)

// Roles lists every role, most privileged first.
var Roles = []Role{RoleAdmin, RoleRiskLead, RoleAnalyst, RoleViewer}

// ParseRole returns the role spelled s exactly, or false.
func ParseRole(s string) (Role, bool) {
	for _, r := range Roles {
		if string(r) == s {
			return r, true
		}
	}
	return "", false
}

// Organization is a tenant.
type Organization struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// User is an operator account; it never carries its password hash.
type User struct {
	ID         string
	Email      string
	Name       string
	Disabled   bool
	MFAEnabled bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Membership is a user's role in one organization, with whether that org's
// security policy requires MFA for the role.
type Membership struct {
	OrgID       string
	OrgName     string
	Role        Role
	JoinedAt    time.Time
	MFARequired bool
}

// Account is a user with their memberships, oldest first.
type Account struct {
	User        User
	Memberships []Membership
}

// AuditEvent is one entry of an organization's audit trail.
type AuditEvent struct {
	ID        string
	OrgID     string
	Type      string
	ActorID   string
	TargetID  string
	IP        string
	UserAgent string
	At        time.Time
	Data      map[string]string
}

// Actor is who asks for a change, for the audit trail.
type Actor struct {
	// ID is a user id, or "service:<name>" for a WatchTower service.
	ID        string
	IP        string
	UserAgent string
}
