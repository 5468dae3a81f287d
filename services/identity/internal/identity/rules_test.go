package identity

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/apperr"
)

func requireViolation(t *testing.T, err error, field, reason string) {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "want *apperr.Error, got %v", err)
	require.Equal(t, apperr.KindInvalid, e.Kind)
	require.Equal(t, "validation_failed", e.Reason)
	require.Equal(t, []apperr.FieldViolation{{Field: field, Reason: reason}}, e.Fields)
}

func TestNormalizeEmail(t *testing.T) {
	for _, tt := range []struct {
		name, in, want, reason string
	}{
		{name: "already normal", in: "alice@example.com", want: "alice@example.com"},
		{name: "upper case", in: "Alice@Example.COM", want: "alice@example.com"},
		{name: "surrounding spaces", in: "  alice@example.com \t\n", want: "alice@example.com"},
		{name: "NFD becomes NFC", in: "jose\u0301@example.com", want: "jos\u00e9@example.com"},
		{name: "NFC stays", in: "jos\u00e9@example.com", want: "jos\u00e9@example.com"},
		{name: "upper NFD", in: "JOSE\u0301@EXAMPLE.COM", want: "jos\u00e9@example.com"},
		{name: "kelvin sign folds", in: "\u212Aim@example.com", want: "kim@example.com"},
		{name: "sharp s folds", in: "STRASSE@example.de", want: "strasse@example.de"},
		{name: "plus kept", in: "a+tag@example.com", want: "a+tag@example.com"},
		{name: "empty", in: "", reason: "required"},
		{name: "only spaces", in: "   ", reason: "required"},
		{name: "no at", in: "alice.example.com", reason: "invalid"},
		{name: "two ats", in: "a@b@example.com", reason: "invalid"},
		{name: "empty local", in: "@example.com", reason: "invalid"},
		{name: "empty domain", in: "alice@", reason: "invalid"},
		{name: "inner space", in: "al ice@example.com", reason: "invalid"},
		{name: "control char", in: "alice\x00@example.com", reason: "invalid"},
		{name: "254 bytes ok", in: strings.Repeat("a", 242) + "@example.com", want: strings.Repeat("a", 242) + "@example.com"},
		{name: "255 bytes", in: strings.Repeat("a", 243) + "@example.com", reason: "too_long"},
		{name: "huge", in: strings.Repeat("a", 10000) + "@example.com", reason: "too_long"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeEmail(tt.in)
			if tt.reason != "" {
				requireViolation(t, err, "email", tt.reason)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestNormalizeEmailIsIdempotent(t *testing.T) {
	for _, in := range []string{"Alice@Example.COM", "jose\u0301@example.com", "\u212Aim@x.io", "Stra\u00dfe@x.de"} {
		once, err := NormalizeEmail(in)
		require.NoError(t, err)
		twice, err := NormalizeEmail(once)
		require.NoError(t, err)
		require.Equal(t, once, twice, in)
	}
}

func TestCheckNewPassword(t *testing.T) {
	for _, tt := range []struct {
		name     string
		password string
		reason   string // apperr reason; "" means accepted
		field    string // field reason for validation_failed
	}{
		{name: "12 ascii", password: "abcdefghijkl"},
		{name: "12 multibyte characters", password: strings.Repeat("é", 12)},
		{name: "11 characters", password: "abcdefghijk", reason: "weak_password"},
		{name: "11 multibyte characters in 22 bytes", password: strings.Repeat("é", 11), reason: "weak_password"},
		{name: "empty", password: "", reason: "weak_password"},
		{name: "1024 bytes", password: strings.Repeat("a", 1024)},
		{name: "1025 bytes", password: strings.Repeat("a", 1025), reason: "validation_failed", field: "too_long"},
		{name: "600 characters in 1200 bytes", password: strings.Repeat("é", 600), reason: "validation_failed", field: "too_long"},
		{name: "invalid utf-8", password: "abcdefghijkl\xff", reason: "validation_failed", field: "invalid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckNewPassword(tt.password)
			switch {
			case tt.reason == "":
				require.NoError(t, err)
			case tt.field != "":
				requireViolation(t, err, "password", tt.field)
			default:
				require.True(t, apperr.Is(err, tt.reason), "got %v", err)
				e, _ := apperr.As(err)
				require.Equal(t, apperr.KindInvalid, e.Kind)
			}
		})
	}
}

func TestCheckPasswordLength(t *testing.T) {
	require.NoError(t, CheckPasswordLength(""))
	require.NoError(t, CheckPasswordLength(strings.Repeat("x", MaxPasswordBytes)))
	requireViolation(t, CheckPasswordLength(strings.Repeat("x", 10*1024)), "password", "too_long")
}

func TestParseRole(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"ADMIN", true}, {"RISK_LEAD", true}, {"ANALYST", true}, {"VIEWER", true},
		{"admin", false}, {"OWNER", false}, {"", false}, {" ADMIN", false},
	} {
		t.Run(tt.in, func(t *testing.T) {
			r, ok := ParseRole(tt.in)
			require.Equal(t, tt.ok, ok)
			if ok {
				require.Equal(t, tt.in, string(r))
			}
		})
	}
}

func TestNewID(t *testing.T) {
	id, err := newID(bytes.NewReader(make([]byte, 16)), prefixUser)
	require.NoError(t, err)
	require.Equal(t, "usr_aaaaaaaaaaaaaaaaaaaaaaaaaa", id)
	_, err = newID(bytes.NewReader(make([]byte, 3)), prefixUser)
	require.Error(t, err)
	a, err := newID(rand.Reader, prefixOrg)
	require.NoError(t, err)
	b, err := newID(rand.Reader, prefixOrg)
	require.NoError(t, err)
	require.NotEqual(t, a, b)
	require.Regexp(t, `^org_[a-z2-7]{26}$`, a)
}

func TestTruncateUTF8(t *testing.T) {
	require.Equal(t, "abc", truncateUTF8("abc", 5))
	require.Equal(t, "ab", truncateUTF8("abé", 3))
	require.Equal(t, "abé", truncateUTF8("abéd", 4))
}
