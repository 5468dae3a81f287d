package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/platform/logging"
)

// VerifyPassword checks an email and password and returns the account.
//
// Unknown emails are verified against the dummy hash and disabled users get
// the full verification too, so every outcome costs one hash; all three
// failures are the same invalid_credentials error. A password over
// MaxPasswordBytes is refused before any hashing. After a successful check
// against a hash with outdated parameters the password is rehashed and
// stored (best effort: a failure there does not fail the login).
func (s *Service) VerifyPassword(ctx context.Context, email, password string) (Account, error) {
	if err := CheckPasswordLength(password); err != nil {
		return Account{}, err
	}
	email, err := NormalizeEmail(email)
	if err != nil {
		return Account{}, err
	}
	user, phc, err := s.store.CredentialByEmail(ctx, email)
	found := err == nil
	switch {
	case errors.Is(err, ErrNotFound):
		phc = s.dummyHash
	case err != nil:
		return Account{}, err
	}

	release, err := s.acquireHashSlot(ctx)
	if err != nil {
		return Account{}, err
	}
	ok, needsRehash, err := s.hasher.Verify(phc, password)
	ok = ok && err == nil && found && !user.Disabled
	var newPHC string
	var rehashErr error
	if ok && needsRehash {
		newPHC, rehashErr = s.hasher.Hash(password)
	}
	release() // the slot covers hashing only, not the store calls around it
	if err != nil {
		return Account{}, fmt.Errorf("verify password of user %s: %w", user.ID, err)
	}
	if !ok {
		return Account{}, invalidCredentials()
	}
	if needsRehash {
		s.storeRehash(ctx, user.ID, newPHC, rehashErr)
	}

	ms, err := s.store.Memberships(ctx, user.ID)
	if err != nil {
		return Account{}, err
	}
	return Account{User: user, Memberships: ms}, nil
}

// storeRehash stores phc, a hash of the user's password under the current
// parameters (best effort: hashErr or a store failure is logged, not returned).
func (s *Service) storeRehash(ctx context.Context, userID, phc string, hashErr error) {
	log := logging.FromContext(ctx)
	err := hashErr
	if err == nil {
		err = s.store.SetPasswordHash(ctx, userID, phc, s.now())
	}
	if err != nil {
		log.Warn("password rehash failed", "user_id", userID, "error", err.Error())
		return
	}
	log.Info("password rehashed with current parameters", "user_id", userID)
}

// GetUser returns the user and their memberships.
func (s *Service) GetUser(ctx context.Context, id string) (Account, error) {
	if id == "" {
		return Account{}, apperr.Validation(apperr.FieldViolation{Field: "user_id", Reason: "required"})
	}
	u, err := s.store.User(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Account{}, apperr.NotFound("user not found")
	}
	if err != nil {
		return Account{}, err
	}
	ms, err := s.store.Memberships(ctx, id)
	if err != nil {
		return Account{}, err
	}
	return Account{User: u, Memberships: ms}, nil
}
