package principal

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxUserAgent is the most bytes of a client's User-Agent a principal
// carries (identity's audit trail keeps as much).
const MaxUserAgent = 512

// UserAgent returns what a principal may carry of a client's User-Agent
// header: valid UTF-8 (invalid bytes become U+FFFD, which a protobuf string
// requires), without control characters, and cut at a character boundary to
// MaxUserAgent bytes, so that no header value can make the signed principal
// unmarshalable or too long to verify.
func UserAgent(header string) string {
	s := strings.ToValidUTF8(header, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if len(s) <= MaxUserAgent {
		return s
	}
	cut := MaxUserAgent
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
