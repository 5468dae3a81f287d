package principal

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
)

func TestUserAgent(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", "curl/8.5.0", "curl/8.5.0"},
		{"empty", "", ""},
		{"invalid UTF-8", "bad\xffagent", "bad\uFFFDagent"},
		{"control characters", "a\x00b\tc\x7fd", "abcd"},
		{"at the limit", strings.Repeat("a", MaxUserAgent), strings.Repeat("a", MaxUserAgent)},
		{"over the limit", strings.Repeat("a", 5000), strings.Repeat("a", MaxUserAgent)},
		{"cut at a character boundary", strings.Repeat("a", MaxUserAgent-1) + "é", strings.Repeat("a", MaxUserAgent-1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := UserAgent(tc.in)
			require.Equal(t, tc.want, got)
			require.True(t, utf8.ValidString(got))
			require.LessOrEqual(t, len(got), MaxUserAgent)
		})
	}
}

// Regression: a User-Agent with an invalid byte made Sign fail (500 on
// every routed request), and a long one made the wire form too long to
// verify (401 for valid callers). Through UserAgent both sign and verify.
func TestPrincipalWithAnyUserAgentSignsAndVerifies(t *testing.T) {
	kr, err := NewKeyring([]Key{{ID: "k", Secret: []byte(strings.Repeat("s", 32))}}, nil)
	require.NoError(t, err)
	for _, ua := range []string{"bad\xffagent", strings.Repeat("\xff", 3000), strings.Repeat("é", 4000)} {
		p := &authzv1.Principal{Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_USER, UserId: "usr_1", OrgId: "org_1",
			RequestId: "0123456789abcdef0123456789abcdef", ClientIp: "2001:db8::1", UserAgent: UserAgent(ua)}
		wire, err := kr.Sign(p)
		require.NoError(t, err)
		got, err := kr.Verify(wire, p.RequestId)
		require.NoError(t, err)
		require.Equal(t, p.GetUserAgent(), got.GetUserAgent())
	}
}
