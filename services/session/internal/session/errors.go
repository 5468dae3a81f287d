package session

import (
	"errors"

	"github.com/watchtower/authplane/platform/apperr"
)

// ErrNotFound is returned by stores for a session that does not exist, has
// expired, or is not the named user's.
var ErrNotFound = errors.New("session: not found")

func invalidCredentials() *apperr.Error {
	return apperr.Unauthenticated("invalid_credentials", "the email or password is wrong")
}

func unauthenticated() *apperr.Error {
	return apperr.Unauthenticated("unauthenticated", "no valid session")
}

func notFound() *apperr.Error {
	return apperr.NotFound("no such session")
}

// asNotFound turns a store's ErrNotFound into the API's not_found.
func asNotFound(err error) error {
	if errors.Is(err, ErrNotFound) {
		return notFound()
	}
	return err
}
