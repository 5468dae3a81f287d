package ingest

import (
	"context"
	"errors"
	"strings"

	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/platform/logging"
)

// sqlStater is what a Postgres driver error reports (pgconn.PgError); the
// domain names the method rather than the driver.
type sqlStater interface{ SQLState() string }

// storeFailure classifies a store error. A data exception (SQLSTATE class
// 22: a value the database refuses, such as 22021 or 22P05) is a bug in
// the validation in front of the store, not an outage: retrying cannot
// help, so it is an internal error, logged in full, never 503. Anything
// else fails closed as unavailable.
func storeFailure(ctx context.Context, err error) *apperr.Error {
	var st sqlStater
	if errors.As(err, &st) && strings.HasPrefix(st.SQLState(), "22") {
		logging.FromContext(ctx).Error("store refused a value that passed validation",
			"sqlstate", st.SQLState(), "error", err.Error())
		return &apperr.Error{Kind: apperr.KindInternal, Reason: "internal", Message: "internal error", Err: err}
	}
	return apperr.Unavailable(err)
}
