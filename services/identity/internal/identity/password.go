package identity

import (
	"unicode/utf8"

	"github.com/watchtower/authplane/platform/apperr"
)

// MaxPasswordBytes bounds a password before any hashing, so a huge password
// cannot buy a huge amount of work.
const MaxPasswordBytes = 1024

// MinPasswordChars is the shortest new password accepted, in characters.
const MinPasswordChars = 12

// CheckPasswordLength refuses a password over MaxPasswordBytes with
// validation_failed on field "password", reason "too_long". Every RPC that
// takes a password calls it before hashing.
func CheckPasswordLength(password string) error {
	if len(password) > MaxPasswordBytes {
		return apperr.Validation(apperr.FieldViolation{Field: "password", Reason: "too_long"})
	}
	return nil
}

// CheckNewPassword applies the policy for a password being set: the length
// bound, then at least MinPasswordChars characters (weak_password).
func CheckNewPassword(password string) error {
	if err := CheckPasswordLength(password); err != nil {
		return err
	}
	if !utf8.ValidString(password) {
		return apperr.Validation(apperr.FieldViolation{Field: "password", Reason: "invalid"})
	}
	if utf8.RuneCountInString(password) < MinPasswordChars {
		return apperr.Invalid("weak_password", "the password must be at least 12 characters long")
	}
	return nil
}
