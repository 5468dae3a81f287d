package sessionkv

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseToken(t *testing.T) {
	valid, want, err := NewToken(bytes.NewReader(bytes.Repeat([]byte{0xab}, 32)))
	require.NoError(t, err)
	require.Len(t, valid, TokenLen)

	for _, tt := range []struct {
		name  string
		token string
		ok    bool
	}{
		{name: "fresh token", token: valid, ok: true},
		{name: "all zero bytes", token: strings.Repeat("A", 43), ok: true},
		{name: "empty", token: ""},
		{name: "one short", token: valid[:42]},
		{name: "one long", token: valid + "A"},
		{name: "padded", token: valid[:42] + "="},
		{name: "standard alphabet plus", token: "+" + valid[1:]},
		{name: "standard alphabet slash", token: "/" + valid[1:]},
		{name: "non-canonical trailing bits", token: strings.Repeat("A", 42) + "B"},
		{name: "newline inside", token: valid[:20] + "\n" + valid[21:]},
		{name: "space", token: valid[:42] + " "},
		{name: "non-ASCII", token: valid[:41] + "é"},
		{name: "NUL", token: valid[:42] + "\x00"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseToken(tt.token)
			if !tt.ok {
				require.ErrorIs(t, err, ErrMalformedToken)
				require.Equal(t, Token{}, got)
				return
			}
			require.NoError(t, err)
			require.Len(t, got.ID, 32)
			require.Len(t, got.Hash, 64)
			require.True(t, strings.HasPrefix(got.Hash, got.ID), "the id is the hash's first 16 bytes")
		})
	}

	got, err := ParseToken(valid)
	require.NoError(t, err)
	require.Equal(t, want, got, "NewToken and ParseToken agree")
}

func TestNewTokenIsRandom(t *testing.T) {
	a, _, err := NewToken(bytes.NewReader(bytes.Repeat([]byte{1}, 32)))
	require.NoError(t, err)
	b, _, err := NewToken(bytes.NewReader(bytes.Repeat([]byte{2}, 32)))
	require.NoError(t, err)
	require.NotEqual(t, a, b)

	_, _, err = NewToken(bytes.NewReader([]byte{1, 2, 3}))
	require.Error(t, err, "a short random source is an error, not a weak token")
}

func FuzzParseToken(f *testing.F) {
	f.Add(strings.Repeat("A", 43))
	f.Add("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA")
	f.Add("")
	f.Add(strings.Repeat("=", 43))
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseToken(s)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformedToken)
			return
		}
		require.Len(t, s, TokenLen)
		raw, err := base64.RawURLEncoding.DecodeString(s)
		require.NoError(t, err)
		require.Len(t, raw, TokenBytes)
		require.Equal(t, s, base64.RawURLEncoding.EncodeToString(raw), "only the canonical form is accepted")
		require.Len(t, tok.ID, 32)
		require.Len(t, tok.Hash, 64)
	})
}
