package identity

import (
	"errors"

	"github.com/watchtower/authplane/platform/apperr"
)

// Errors a Store returns for expected outcomes. Any other error is either an
// *apperr.Error of kind unavailable (the database cannot be reached) or an
// internal fault.
var (
	ErrNotFound    = errors.New("identity: not found")
	ErrEmailTaken  = errors.New("identity: email taken")
	ErrOrgNotFound = errors.New("identity: organization not found")
)

// invalidCredentials is the one answer for an unknown email, a wrong
// password and a disabled user.
func invalidCredentials() error {
	return apperr.Unauthenticated("invalid_credentials", "the email or password is incorrect")
}
