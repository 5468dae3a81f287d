package currentsession

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sessionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/session/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestAppendSessionMatchesProtojson compares the fast encoder with protojson
// (EmitDefaultValues, as the gateway's marshaler is configured) value by value.
func TestAppendSessionMatchesProtojson(t *testing.T) {
	at := func(sec int64, nanos int32) *timestamppb.Timestamp {
		return &timestamppb.Timestamp{Seconds: sec, Nanos: nanos}
	}
	full := &sessionv1.Session{
		User:          &sessionv1.SessionUser{Id: "usr_1", Email: "jürgen@zürich.test", Name: "J \"Q\" \\ <b>&\n\t\x01\u2028"},
		Org:           &sessionv1.SessionOrg{Id: "org_1", Name: "Acme"},
		Role:          "ADMIN",
		Orgs:          []*sessionv1.OrgMembership{{Id: "org_1", Name: "Acme", Role: "ADMIN"}, {Id: "org_2", Name: "Beta", Role: "VIEWER"}},
		MfaEnabled:    true,
		MfaVerified:   false,
		Permissions:   []string{"alerts:read", "members:write"},
		CsrfToken:     "tok-_123",
		ExpiresAt:     at(1_800_000_000, 0),
		IdleExpiresAt: at(1_800_000_000, 123_000_000),
	}
	for _, tt := range []struct {
		name string
		s    *sessionv1.Session
	}{
		{"full", full},
		{"empty", &sessionv1.Session{}},
		{"micro and nano fractions", &sessionv1.Session{ExpiresAt: at(1, 123_456_000), IdleExpiresAt: at(2, 1)}},
		{"invalid UTF-8 in a string", &sessionv1.Session{Role: "a\xffb"}},
		{"real clock", &sessionv1.Session{ExpiresAt: timestamppb.New(time.Now()), IdleExpiresAt: timestamppb.New(time.Now().Add(time.Minute))}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want, err := protojson.MarshalOptions{EmitDefaultValues: true}.Marshal(tt.s)
			if tt.name == "invalid UTF-8 in a string" {
				require.Error(t, err, "protojson refuses invalid UTF-8; the fast path replaces it")
				require.JSONEq(t, `{"user":null,"org":null,"role":"a\ufffdb","orgs":[],"mfaEnabled":false,"mfaVerified":false,"permissions":[],"csrfToken":"","expiresAt":null,"idleExpiresAt":null}`, string(AppendSession(nil, tt.s)))
				return
			}
			require.NoError(t, err)
			var w, g map[string]any
			require.NoError(t, json.Unmarshal(want, &w))
			got := AppendSession(nil, tt.s)
			require.NoError(t, json.Unmarshal(got, &g), "%s", got)
			// protojson omits unset message fields; the fast path writes null.
			for k, v := range g {
				if _, ok := w[k]; !ok && v == nil {
					delete(g, k)
				}
			}
			require.Equal(t, w, g)
		})
	}
}

func BenchmarkSessionJSON(b *testing.B) {
	s := &sessionv1.Session{
		User: &sessionv1.SessionUser{Id: "usr_1", Email: "ada@acme.test", Name: "Ada"}, Org: &sessionv1.SessionOrg{Id: "org_1", Name: "Acme"},
		Role: "ADMIN", Orgs: []*sessionv1.OrgMembership{{Id: "org_1", Name: "Acme", Role: "ADMIN"}},
		Permissions: []string{"alerts:read", "alerts:write", "api_keys:read", "api_keys:write", "members:read", "members:write"},
		CsrfToken:   "abc", ExpiresAt: timestamppb.Now(), IdleExpiresAt: timestamppb.Now(),
	}
	b.Run("protojson", func(b *testing.B) {
		for b.Loop() {
			_, _ = protojson.MarshalOptions{EmitDefaultValues: true}.Marshal(s)
		}
	})
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			_ = AppendSession(make([]byte, 0, 1024), s)
		}
	})
}
