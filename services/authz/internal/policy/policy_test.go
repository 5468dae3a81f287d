package policy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMatrix states the whole role x permission matrix explicitly. Any change
// to the policy must change this table too, so it shows in review.
func TestMatrix(t *testing.T) {
	// Columns: ADMIN RISK_LEAD ANALYST VIEWER.
	matrix := map[Permission]string{
		"dashboard:read":      "XXXX",
		"dashboard:write":     "....",
		"alerts:read":         "XXXX",
		"alerts:write":        "XXX.",
		"cases:read":          "XXXX",
		"cases:write":         "XXX.",
		"rules:read":          "XXXX",
		"rules:write":         "XX..",
		"reports:read":        "XXXX",
		"reports:write":       "XX..",
		"notifications:read":  "XXXX",
		"notifications:write": "XXX.",
		"settings:read":       "X...",
		"settings:write":      "X...",
		"members:read":        "XX..",
		"members:write":       "X...",
		"api_keys:read":       "X...",
		"api_keys:write":      "X...",
		"audit:read":          "XX..",
		"audit:write":         "....",
		"transactions:read":   "XXXX",
		"transactions:write":  "....",
		"controls:read":       "XXXX",
		"controls:write":      "XX..",
	}
	require.Len(t, matrix, len(All()), "the matrix must list every permission")
	for _, p := range All() {
		row, ok := matrix[p]
		require.True(t, ok, "permission %s missing from the matrix", p)
		for i, role := range Roles {
			t.Run(string(role)+"/"+string(p), func(t *testing.T) {
				got, err := Allowed(role, p)
				require.NoError(t, err)
				require.Equal(t, row[i] == 'X', got)
			})
		}
	}
}

func TestAllowedRejectsUnknown(t *testing.T) {
	for _, tt := range []struct {
		name string
		role Role
		perm Permission
		want error
	}{
		{"unknown role", "OWNER", "alerts:read", ErrUnknownRole},
		{"lower-case role", "admin", "alerts:read", ErrUnknownRole},
		{"unknown area", Admin, "billing:read", ErrUnknownPermission},
		{"unknown action", Admin, "alerts:delete", ErrUnknownPermission},
		{"no separator", Admin, "alerts", ErrUnknownPermission},
		{"empty", Admin, "", ErrUnknownPermission},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Allowed(tt.role, tt.perm)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestGrantsOnlyKnownPermissions(t *testing.T) {
	for role, perms := range grants {
		for _, p := range perms {
			require.True(t, Known(p), "%s grants unknown %s", role, p)
			require.Equal(t, strings.ToLower(string(p)), string(p))
		}
	}
}

func TestRolesAreOrderedByPrivilege(t *testing.T) {
	for i := 1; i < len(Roles); i++ {
		hi, lo := Permissions(Roles[i-1]), Permissions(Roles[i])
		require.Subset(t, hi, lo, "%s must hold every permission of %s", Roles[i-1], Roles[i])
	}
}

func TestVersionIsStable(t *testing.T) {
	require.Equal(t, Version(), Version())
	require.Len(t, Version(), 16)
}
