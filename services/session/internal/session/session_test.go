package session

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestInitialState(t *testing.T) {
	for _, tt := range []struct {
		name        string
		mfaEnabled  bool
		mfaRequired bool
		want        State
	}{
		{name: "no policy, no MFA", want: StateActive},
		{name: "no policy, MFA", mfaEnabled: true, want: StateActive},
		{name: "policy, MFA", mfaEnabled: true, mfaRequired: true, want: StateActive},
		{name: "policy, no MFA", mfaRequired: true, want: StateEnrollmentRequired},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := initialState(User{MFAEnabled: tt.mfaEnabled}, Membership{MFARequired: tt.mfaRequired})
			require.Equal(t, tt.want, got)
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{in: "ada@example.com", want: "ada@example.com"},
		{in: "  Ada@Example.COM\t", want: "ada@example.com"},
		{in: "", want: ""},
	} {
		t.Run(tt.in, func(t *testing.T) {
			require.Equal(t, tt.want, NormalizeEmail(tt.in))
		})
	}
}
