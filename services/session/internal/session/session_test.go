package session

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/apperr"
)

func TestInitialState(t *testing.T) {
	for _, tt := range []struct {
		name        string
		mfaEnabled  bool
		mfaRequired bool
		enforce     bool
		want        State
	}{
		{name: "no policy, no MFA", enforce: true, want: StateActive},
		{name: "no policy, MFA", mfaEnabled: true, enforce: true, want: StateActive},
		{name: "policy, MFA", mfaEnabled: true, mfaRequired: true, enforce: true, want: StateActive},
		{name: "policy, no MFA", mfaRequired: true, enforce: true, want: StateEnrollmentRequired},
		{name: "policy, no MFA, enrolment not enforced", mfaRequired: true, want: StateActive},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := initialState(User{MFAEnabled: tt.mfaEnabled}, Membership{MFARequired: tt.mfaRequired}, tt.enforce)
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

func TestRequireCredentials(t *testing.T) {
	for _, tt := range []struct {
		name, email, password string
		fields                []string
	}{
		{name: "both", email: "a@b.c", password: "x"},
		{name: "no email", password: "x", fields: []string{"email"}},
		{name: "blank email", email: "  ", password: "x", fields: []string{"email"}},
		{name: "no password", email: "a@b.c", fields: []string{"password"}},
		{name: "neither", fields: []string{"email", "password"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := requireCredentials(tt.email, tt.password)
			if tt.fields == nil {
				require.NoError(t, err)
				return
			}
			e, ok := apperr.As(err)
			require.True(t, ok)
			require.Equal(t, "validation_failed", e.Reason)
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
			require.Equal(t, tt.fields, got)
		})
	}
}
