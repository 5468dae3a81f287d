package identity

import (
	"strings"
	"unicode"

	"github.com/watchtower/authplane/platform/apperr"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// MaxEmailBytes is the longest normalised email accepted (RFC 5321 path limit
// less the angle brackets).
const MaxEmailBytes = 254

// NormalizeEmail returns the one spelling under which an email is stored and
// looked up: surrounding spaces trimmed, Unicode NFC, case-folded. It refuses
// an empty address, one over MaxEmailBytes, one without exactly one '@' with
// text on both sides, and one with spaces or control characters inside, with
// a validation_failed error on field "email".
func NormalizeEmail(raw string) (string, error) {
	// Bound the work before normalising: folding never shrinks text 4x.
	if len(raw) > 4*MaxEmailBytes {
		return "", emailError("too_long")
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", emailError("required")
	}
	// A new Caser per call: Casers are stateful and not safe to share.
	s = norm.NFC.String(cases.Fold().String(norm.NFC.String(s)))
	if len(s) > MaxEmailBytes {
		return "", emailError("too_long")
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return "", emailError("invalid")
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar {
			return "", emailError("invalid")
		}
	}
	return s, nil
}

func emailError(reason string) error {
	return apperr.Validation(apperr.FieldViolation{Field: "email", Reason: reason})
}
