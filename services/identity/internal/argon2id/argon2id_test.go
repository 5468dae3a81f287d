package argon2id_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/services/identity/internal/argon2id"
)

// known is a hash of "correct horse battery staple" made with DefaultParams
// and the salt "0123456789abcdef", checked in so that a change of encoding
// or of the key derivation is caught.
const knownPassword = "correct horse battery staple"

func newHasher(t testing.TB, p argon2id.Params) *argon2id.Hasher {
	t.Helper()
	h, err := argon2id.New(p, nil)
	require.NoError(t, err)
	return h
}

func TestHashFormat(t *testing.T) {
	h, err := argon2id.New(argon2id.DefaultParams, bytes.NewReader([]byte("0123456789abcdef")))
	require.NoError(t, err)
	phc, err := h.Hash(knownPassword)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(phc, "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$"), phc)
	d, err := argon2id.Parse(phc)
	require.NoError(t, err)
	require.Len(t, d.Salt, 16)
	require.Len(t, d.Key, 32)
	require.Equal(t, argon2id.DefaultParams, d.Params)
}

func TestHashUsesFreshSalt(t *testing.T) {
	h := newHasher(t, argon2id.DefaultParams)
	a, err := h.Hash(knownPassword)
	require.NoError(t, err)
	b, err := h.Hash(knownPassword)
	require.NoError(t, err)
	require.NotEqual(t, a, b)
}

func TestVerify(t *testing.T) {
	h := newHasher(t, argon2id.DefaultParams)
	stronger := newHasher(t, argon2id.Params{MemoryKiB: 19456, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32})
	current, err := h.Hash(knownPassword)
	require.NoError(t, err)
	old, err := stronger.Hash(knownPassword)
	require.NoError(t, err)
	unicode, err := h.Hash("pässwörd ünïcode ✓")
	require.NoError(t, err)

	for _, tt := range []struct {
		name           string
		phc, password  string
		wantOK, rehash bool
		wantErrMalform bool
	}{
		{name: "match", phc: current, password: knownPassword, wantOK: true},
		{name: "wrong password", phc: current, password: knownPassword + "!"},
		{name: "empty password", phc: current, password: ""},
		{name: "case matters", phc: current, password: strings.ToUpper(knownPassword)},
		{name: "unicode match", phc: unicode, password: "pässwörd ünïcode ✓", wantOK: true},
		{name: "other params match and need rehash", phc: old, password: knownPassword, wantOK: true, rehash: true},
		{name: "other params wrong password, no rehash", phc: old, password: "nope"},
		{name: "malformed hash", phc: "$argon2i$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZg", password: knownPassword, wantErrMalform: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(tt.phc, tt.password)
			if tt.wantErrMalform {
				require.ErrorIs(t, err, argon2id.ErrMalformed)
				require.False(t, ok)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.rehash, rehash)
		})
	}
}

func TestVerifyTamperedKey(t *testing.T) {
	h := newHasher(t, argon2id.DefaultParams)
	phc, err := h.Hash(knownPassword)
	require.NoError(t, err)
	d, err := argon2id.Parse(phc)
	require.NoError(t, err)
	d.Key[len(d.Key)-1] ^= 1
	ok, _, err := h.Verify(argon2id.Encode(d.Params, d.Salt, d.Key), knownPassword)
	require.NoError(t, err)
	require.False(t, ok)
}

func TestParseStrict(t *testing.T) {
	const salt = "MDEyMzQ1Njc4OWFiY2RlZg"                     // 16 bytes
	const key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY" // 32 bytes
	for _, tt := range []struct {
		name string
		phc  string
		ok   bool
	}{
		{name: "canonical", phc: "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key, ok: true},
		{name: "empty", phc: ""},
		{name: "argon2i", phc: "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{name: "argon2d", phc: "$argon2d$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{name: "version 16", phc: "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key},
		{name: "missing version", phc: "$argon2id$m=19456,t=2,p=1$" + salt + "$" + key},
		{name: "reordered params", phc: "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key},
		{name: "extra param", phc: "$argon2id$v=19$m=19456,t=2,p=1,keyid=x$" + salt + "$" + key},
		{name: "leading zero", phc: "$argon2id$v=19$m=019456,t=2,p=1$" + salt + "$" + key},
		{name: "sign", phc: "$argon2id$v=19$m=+19456,t=2,p=1$" + salt + "$" + key},
		{name: "zero time", phc: "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key},
		{name: "zero threads", phc: "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key},
		{name: "memory too large", phc: "$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + key},
		{name: "memory below 8 per lane", phc: "$argon2id$v=19$m=15,t=2,p=2$" + salt + "$" + key},
		{name: "padded salt", phc: "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key},
		{name: "url alphabet", phc: "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + strings.ReplaceAll(key, "j", "-")},
		{name: "non-canonical trailing bits", phc: "$argon2id$v=19$m=19456,t=2,p=1$" + salt[:len(salt)-1] + "h$" + key},
		{name: "short salt", phc: "$argon2id$v=19$m=19456,t=2,p=1$MDEy$" + key},
		{name: "short key", phc: "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$MDEyMzQ1Njc"},
		{name: "missing key", phc: "$argon2id$v=19$m=19456,t=2,p=1$" + salt},
		{name: "trailing dollar", phc: "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$"},
		{name: "no leading dollar", phc: "argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{name: "newline in salt", phc: "$argon2id$v=19$m=19456,t=2,p=1$" + salt[:4] + "\n" + salt[4:] + "$" + key},
		{name: "space", phc: " $argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := argon2id.Parse(tt.phc)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.True(t, errors.Is(err, argon2id.ErrMalformed), err)
		})
	}
}

func TestParamsValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    argon2id.Params
		ok   bool
	}{
		{name: "default", p: argon2id.DefaultParams, ok: true},
		{name: "stronger", p: argon2id.Params{MemoryKiB: 65536, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32}, ok: true},
		{name: "too little memory", p: argon2id.Params{MemoryKiB: 19455, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{name: "one pass", p: argon2id.Params{MemoryKiB: 19456, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{name: "no threads", p: argon2id.Params{MemoryKiB: 19456, Time: 2, Threads: 0, SaltLen: 16, KeyLen: 32}},
		{name: "short salt", p: argon2id.Params{MemoryKiB: 19456, Time: 2, Threads: 1, SaltLen: 8, KeyLen: 32}},
		{name: "short key", p: argon2id.Params{MemoryKiB: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 16}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := argon2id.New(tt.p, nil)
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}

// FuzzParse checks that Parse never panics and that whatever it accepts
// re-encodes to exactly the input (there is one spelling of each hash).
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, phc string) {
		d, err := argon2id.Parse(phc)
		if err != nil {
			return
		}
		require.Equal(t, phc, argon2id.Encode(d.Params, d.Salt, d.Key))
	})
}

// BenchmarkVerifyPassword is the cost of one login's password check with
// the default parameters.
func BenchmarkVerifyPassword(b *testing.B) {
	h := newHasher(b, argon2id.DefaultParams)
	phc, err := h.Hash(knownPassword)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		ok, _, err := h.Verify(phc, knownPassword)
		if err != nil || !ok {
			b.Fatal("verify failed")
		}
	}
}
