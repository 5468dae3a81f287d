package apikey

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGenerateParseRoundTrip(t *testing.T) {
	for _, env := range []string{EnvLive, EnvTest} {
		t.Run(env, func(t *testing.T) {
			g, err := Generate(env, rand.Reader)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(g.Secret, "wt_"+env+"_"))
			require.Len(t, g.Secret, secretLen)
			p, err := Parse(g.Secret)
			require.NoError(t, err)
			require.Equal(t, g, p)
			require.Len(t, p.Prefix, 16)
		})
	}
}

func TestGenerateRejectsUnknownEnvironment(t *testing.T) {
	_, err := Generate("prod", rand.Reader)
	require.Error(t, err)
}

func TestParse(t *testing.T) {
	good, err := Generate(EnvLive, bytes.NewReader(bytes.Repeat([]byte{7}, 32)))
	require.NoError(t, err)
	s := good.Secret
	flip := func(i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	for _, tt := range []struct {
		name  string
		in    string
		valid bool
	}{
		{"valid", s, true},
		{"empty", "", false},
		{"truncated", s[:len(s)-1], false},
		{"extended", s + "a", false},
		{"wrong environment in prefix", "wt_test_" + s[8:], false},
		{"unknown prefix", "wt_prod_" + s[8:], false},
		{"upper case", strings.ToUpper(s), false},
		{"tampered body", flip(20), false},
		{"tampered checksum", flip(len(s) - 1), false},
		{"bad alphabet", s[:10] + "1" + s[11:], false},
		{"whitespace", " " + s[1:], false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.in)
			if tt.valid {
				require.NoError(t, err)
				require.Equal(t, EnvLive, p.Environment)
				return
			}
			require.ErrorIs(t, err, ErrMalformed)
		})
	}
}

func TestHasher(t *testing.T) {
	_, err := NewHasher([]byte("short"))
	require.Error(t, err)
	h1, err := NewHasher(bytes.Repeat([]byte{1}, 32))
	require.NoError(t, err)
	h2, err := NewHasher(bytes.Repeat([]byte{2}, 32))
	require.NoError(t, err)
	require.Equal(t, h1.Hash("x"), h1.Hash("x"))
	require.NotEqual(t, h1.Hash("x"), h2.Hash("x"))
	require.NotEqual(t, h1.Hash("x"), h1.Hash("y"))
	require.Len(t, h1.Hash("x"), 64)
}

func FuzzParse(f *testing.F) {
	g, _ := Generate(EnvTest, bytes.NewReader(bytes.Repeat([]byte{9}, 32)))
	f.Add(g.Secret)
	f.Add("")
	f.Add("wt_live_")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		require.Equal(t, s, p.Secret)
		require.True(t, ValidEnvironment(p.Environment))
		require.True(t, strings.HasPrefix(s, p.Prefix))
	})
}
