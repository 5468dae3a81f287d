// Package policy is WatchTower's role -> permission table: the one source of
// what each organization role may do in the console. The authz service
// serves it; the gateway keeps a snapshot of it for its hot path.
package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
)

// Role is an organization role, by its wire name.
type Role string

// The roles, most privileged first.
const (
	Admin    Role = "ADMIN"
	RiskLead Role = "RISK_LEAD"
	Analyst  Role = "ANALYST"
	Viewer   Role = "VIEWER"
)

// Roles lists every role, most privileged first.
var Roles = []Role{Admin, RiskLead, Analyst, Viewer}

// Permission is "<area>:<action>".
type Permission string

// Areas are the console areas permissions are granted over.
var Areas = []string{
	"dashboard", "alerts", "cases", "rules", "reports", "notifications",
	"settings", "members", "api_keys", "audit", "transactions", "controls",
}

// Actions are what a permission allows within an area.
var Actions = []string{"read", "write"}

// ErrUnknownRole and ErrUnknownPermission report inputs outside the table.
var (
	ErrUnknownRole       = errors.New("unknown role")
	ErrUnknownPermission = errors.New("unknown permission")
)

// grants is the table. Every cell is explicit so that a change to it is a
// visible one-line diff (and breaks the matrix test until it is updated).
var grants = map[Role][]Permission{
	Admin: {
		"dashboard:read",
		"alerts:read", "alerts:write",
		"cases:read", "cases:write",
		"rules:read", "rules:write",
		"reports:read", "reports:write",
		"notifications:read", "notifications:write",
		"settings:read", "settings:write",
		"members:read", "members:write",
		"api_keys:read", "api_keys:write",
		"audit:read",
		"transactions:read",
		"controls:read", "controls:write",
	},
	RiskLead: {
		"dashboard:read",
		"alerts:read", "alerts:write",
		"cases:read", "cases:write",
		"rules:read", "rules:write",
		"reports:read", "reports:write",
		"notifications:read", "notifications:write",
		"members:read",
		"audit:read",
		"transactions:read",
		"controls:read", "controls:write",
	},
	Analyst: {
		"dashboard:read",
		"alerts:read", "alerts:write",
		"cases:read", "cases:write",
		"rules:read",
		"reports:read",
		"notifications:read", "notifications:write",
		"transactions:read",
		"controls:read",
	},
	Viewer: {
		"dashboard:read",
		"alerts:read",
		"cases:read",
		"rules:read",
		"reports:read",
		"notifications:read",
		"transactions:read",
		"controls:read",
	},
}

// All lists every permission the policy knows (areas x actions), sorted.
func All() []Permission {
	var out []Permission
	for _, a := range Areas {
		for _, act := range Actions {
			out = append(out, Permission(a+":"+act))
		}
	}
	slices.Sort(out)
	return out
}

// Known reports whether p names an area and action of the policy.
func Known(p Permission) bool {
	area, act, ok := strings.Cut(string(p), ":")
	return ok && slices.Contains(Areas, area) && slices.Contains(Actions, act)
}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if _, ok := grants[r]; !ok {
		return "", ErrUnknownRole
	}
	return r, nil
}

// Allowed reports whether role holds permission.
func Allowed(role Role, p Permission) (bool, error) {
	perms, ok := grants[role]
	if !ok {
		return false, ErrUnknownRole
	}
	if !Known(p) {
		return false, ErrUnknownPermission
	}
	return slices.Contains(perms, p), nil
}

// Permissions returns role's permissions, sorted.
func Permissions(role Role) []Permission {
	out := slices.Clone(grants[role])
	slices.Sort(out)
	return out
}

// Version is a digest of the table, so a cached copy can tell it is current.
func Version() string {
	h := sha256.New()
	for _, r := range Roles {
		h.Write([]byte(r))
		for _, p := range Permissions(r) {
			h.Write([]byte{0})
			h.Write([]byte(p))
		}
		h.Write([]byte{1})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}
