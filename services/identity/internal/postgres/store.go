// Package postgres is the identity store on Postgres (schema identity).
// Queries are named constants, one file per aggregate.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/services/identity/internal/identity"
)

// Store implements identity.Store on a pool whose search_path is the
// identity schema (pgdb.Open).
type Store struct {
	pool *pgxpool.Pool
}

var _ identity.Store = (*Store)(nil)

// New returns a store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Ping reports whether the database answers (the readiness check).
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// fail wraps a database error for the caller: an error Postgres reported is
// an internal fault; a cancelled or expired context stays what it is; any
// other (connection refused, reset, pool closed) means the database is
// unavailable and the call must fail closed.
func fail(op string, err error) error {
	err = fmt.Errorf("%s: %w", op, err)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	default:
		return apperr.Unavailable(err)
	}
}
