package currentsession

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	sessionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/session/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Marshaler renders the Session view — the body of the console's most
// frequent call — with a hand-written encoder that produces what protojson
// produces for it (lowerCamelCase names, default values emitted, RFC 3339
// times), at a fraction of the cost; every other message goes to the
// wrapped marshaler. TestAppendSessionMatchesProtojson keeps the two equal.
type Marshaler struct {
	runtime.Marshaler
}

// Marshal encodes v.
func (m Marshaler) Marshal(v any) ([]byte, error) {
	if s, ok := v.(*sessionv1.Session); ok && s != nil {
		return AppendSession(make([]byte, 0, 1024), s), nil
	}
	return m.Marshaler.Marshal(v)
}

// AppendSession appends the JSON of s to b.
func AppendSession(b []byte, s *sessionv1.Session) []byte {
	b = append(b, `{"user":`...)
	if u := s.GetUser(); u != nil {
		b = append(b, `{"id":`...)
		b = appendString(b, u.GetId())
		b = append(b, `,"email":`...)
		b = appendString(b, u.GetEmail())
		b = append(b, `,"name":`...)
		b = appendString(b, u.GetName())
		b = append(b, '}')
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"org":`...)
	if o := s.GetOrg(); o != nil {
		b = append(b, `{"id":`...)
		b = appendString(b, o.GetId())
		b = append(b, `,"name":`...)
		b = appendString(b, o.GetName())
		b = append(b, '}')
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"role":`...)
	b = appendString(b, s.GetRole())
	b = append(b, `,"orgs":[`...)
	for i, m := range s.GetOrgs() {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendString(b, m.GetId())
		b = append(b, `,"name":`...)
		b = appendString(b, m.GetName())
		b = append(b, `,"role":`...)
		b = appendString(b, m.GetRole())
		b = append(b, '}')
	}
	b = append(b, `],"mfaEnabled":`...)
	b = strconv.AppendBool(b, s.GetMfaEnabled())
	b = append(b, `,"mfaVerified":`...)
	b = strconv.AppendBool(b, s.GetMfaVerified())
	b = append(b, `,"permissions":[`...)
	for i, p := range s.GetPermissions() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, p)
	}
	b = append(b, `],"csrfToken":`...)
	b = appendString(b, s.GetCsrfToken())
	b = append(b, `,"expiresAt":`...)
	b = appendTime(b, s.GetExpiresAt())
	b = append(b, `,"idleExpiresAt":`...)
	b = appendTime(b, s.GetIdleExpiresAt())
	return append(b, '}')
}

// appendTime writes a Timestamp as protojson does: UTC, RFC 3339, with 0,
// 3, 6 or 9 fractional digits; null when unset.
func appendTime(b []byte, ts *timestamppb.Timestamp) []byte {
	if ts == nil {
		return append(b, "null"...)
	}
	t := time.Unix(ts.GetSeconds(), int64(ts.GetNanos())).UTC()
	layout := "2006-01-02T15:04:05"
	switch n := ts.GetNanos(); {
	case n == 0:
	case n%1_000_000 == 0:
		layout += ".000"
	case n%1_000 == 0:
		layout += ".000000"
	default:
		layout += ".000000000"
	}
	b = append(b, '"')
	b = t.AppendFormat(b, layout)
	return append(b, `Z"`...)
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string, escaping as protojson does:
// quote, backslash and control characters; invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		b = utf8.AppendRune(b, r)
		i += size
	}
	return append(b, '"')
}
