package principal

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
)

var secretA = []byte("0123456789abcdef0123456789abcdef")
var secretB = []byte("fedcba9876543210fedcba9876543210")

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func mustKeyring(t testing.TB, now func() time.Time, keys ...Key) *Keyring {
	t.Helper()
	k, err := NewKeyring(keys, now)
	require.NoError(t, err)
	return k
}

func TestSignVerifyRoundTrip(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	k := mustKeyring(t, fixedClock(now), Key{ID: "k1", Secret: secretA})
	in := &authzv1.Principal{Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_USER, UserId: "usr_1", OrgId: "org_1", Role: "ADMIN", RequestId: "rid"}
	wire, err := k.Sign(in)
	require.NoError(t, err)
	out, err := k.Verify(wire, "rid")
	require.NoError(t, err)
	require.Equal(t, "usr_1", out.GetUserId())
	require.Equal(t, "org_1", out.GetOrgId())
	require.Equal(t, now.Add(DefaultTTL).UnixMilli(), out.GetExpiresAtUnixMs())
}

func TestVerifyRefuses(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	signer := mustKeyring(t, fixedClock(now), Key{ID: "k1", Secret: secretA})
	wire, err := signer.Sign(&authzv1.Principal{Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_SERVICE, RequestId: "rid"})
	require.NoError(t, err)
	cut := strings.LastIndexByte(wire, '.')

	for _, tt := range []struct {
		name     string
		verifier *Keyring
		wire     string
		rid      string
		want     error
	}{
		{"empty", signer, "", "rid", ErrMissing},
		{"no dots", signer, "abc", "rid", ErrInvalid},
		{"wrong version", signer, "v2" + wire[2:], "rid", ErrInvalid},
		{"unknown key id", mustKeyring(t, fixedClock(now), Key{ID: "k2", Secret: secretA}), wire, "rid", ErrInvalid},
		{"other secret", mustKeyring(t, fixedClock(now), Key{ID: "k1", Secret: secretB}), wire, "rid", ErrInvalid},
		{"signature cut", signer, wire[:cut+5], "rid", ErrInvalid},
		{"signature not base64", signer, wire[:cut+1] + "!!!!", "rid", ErrInvalid},
		{"oversized", signer, wire + strings.Repeat("A", maxWireLen), "rid", ErrInvalid},
		{"expired", mustKeyring(t, fixedClock(now.Add(DefaultTTL+time.Millisecond)), Key{ID: "k1", Secret: secretA}), wire, "rid", ErrExpired},
		{"issued in the future", mustKeyring(t, fixedClock(now.Add(-2*time.Second)), Key{ID: "k1", Secret: secretA}), wire, "rid", ErrExpired},
		{"another request", signer, wire, "other", ErrWrongRequest},
		{"no request id", signer, wire, "", ErrWrongRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.verifier.Verify(tt.wire, tt.rid)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestKeyRotation(t *testing.T) {
	old := mustKeyring(t, nil, Key{ID: "old", Secret: secretA})
	both := mustKeyring(t, nil, Key{ID: "new", Secret: secretB}, Key{ID: "old", Secret: secretA})
	wire, err := old.Sign(&authzv1.Principal{RequestId: "r"})
	require.NoError(t, err)
	_, err = both.Verify(wire, "r")
	require.NoError(t, err, "a principal signed by the previous key is accepted during rotation")
	wire, err = both.Sign(&authzv1.Principal{RequestId: "r"})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(wire, "v1.new."), "the first key signs")
}

func TestNewKeyringValidates(t *testing.T) {
	for _, tt := range []struct {
		name string
		keys []Key
	}{
		{"none", nil},
		{"short secret", []Key{{ID: "a", Secret: []byte("short")}}},
		{"empty id", []Key{{ID: "", Secret: secretA}}},
		{"dot in id", []Key{{ID: "a.b", Secret: secretA}}},
		{"duplicate id", []Key{{ID: "a", Secret: secretA}, {ID: "a", Secret: secretB}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewKeyring(tt.keys, nil)
			require.Error(t, err)
		})
	}
}

func TestParseKeys(t *testing.T) {
	keys, err := ParseKeys("a:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY, b:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=")
	require.NoError(t, err)
	require.Equal(t, []Key{{ID: "a", Secret: secretA}, {ID: "b", Secret: secretB}}, keys)
	_, err = ParseKeys("nocolon")
	require.Error(t, err)
	_, err = ParseKeys("a:***")
	require.Error(t, err)
}

// FuzzVerify feeds arbitrary metadata to Verify: it must never panic and
// never accept anything that the signer did not produce.
func FuzzVerify(f *testing.F) {
	k := mustKeyring(f, fixedClock(time.Unix(1_800_000_000, 0)), Key{ID: "k1", Secret: secretA})
	good, err := k.Sign(&authzv1.Principal{Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_USER, UserId: "u", RequestId: "rid"})
	require.NoError(f, err)
	f.Add(good, "rid")
	f.Add("v1.k1..", "rid")
	f.Add("v1.k1.AAAA.BBBB", "rid")
	f.Add("....", "")
	f.Fuzz(func(t *testing.T, wire, rid string) {
		p, err := k.Verify(wire, rid)
		if err == nil && (wire != good || rid != "rid" || p.GetUserId() != "u") {
			t.Fatalf("accepted a principal that was never signed: %q", wire)
		}
	})
}
