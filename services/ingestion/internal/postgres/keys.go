// Package postgres holds the ingestion service's Postgres stores (schema
// ingestion). Every query of tenant data filters by org id.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/watchtower/authplane/services/ingestion/internal/ingest"
)

// Keys stores API keys.
type Keys struct{ pool *pgxpool.Pool }

// NewKeys returns the API key store.
func NewKeys(pool *pgxpool.Pool) *Keys { return &Keys{pool: pool} }

const keyColumns = `id, org_id, name, environment, prefix, status, allowed_cidrs::text[], created_at, rotated_at, revoked_at, last_used_at`

const (
	sqlInsertKey = `INSERT INTO api_keys (id, org_id, name, environment, prefix, secret_hash, allowed_cidrs, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7::cidr[], $8)`
	sqlListKeys = `SELECT ` + keyColumns + ` FROM api_keys WHERE org_id = $1 ORDER BY created_at DESC, id`
	sqlGetKey   = `SELECT ` + keyColumns + ` FROM api_keys WHERE org_id = $1 AND id = $2`
	sqlRotate   = `UPDATE api_keys SET previous_secret_hash = CASE WHEN $5::timestamptz IS NULL THEN NULL ELSE secret_hash END,
previous_expires_at = $5, secret_hash = $3, prefix = $4, rotated_at = $6
WHERE org_id = $1 AND id = $2 AND status = 'active' RETURNING ` + keyColumns
	// The FROM self-join reads the status before this update.
	sqlRevoke = `UPDATE api_keys k SET status = 'revoked', revoked_at = COALESCE(k.revoked_at, $3),
previous_secret_hash = NULL, previous_expires_at = NULL
FROM (SELECT id, status FROM api_keys WHERE org_id = $1 AND id = $2 FOR UPDATE) before
WHERE k.id = before.id RETURNING before.status`
	sqlLookup = `SELECT k.id, k.org_id, k.environment, k.status, k.allowed_cidrs::text[],
COALESCE(s.allowed_cidrs::text[], '{}'), CASE WHEN k.secret_hash = $1 THEN NULL ELSE k.previous_expires_at END
FROM api_keys k LEFT JOIN org_settings s ON s.org_id = k.org_id
WHERE k.secret_hash = $1 OR (k.previous_secret_hash = $1 AND k.previous_expires_at > $2)
LIMIT 1`
	sqlTouch = `UPDATE api_keys SET last_used_at = GREATEST(COALESCE(last_used_at, '-infinity'), u.at)
FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at) WHERE api_keys.id = u.id`
)

func scanKey(row pgx.Row) (*ingest.APIKey, error) {
	k := &ingest.APIKey{}
	err := row.Scan(&k.ID, &k.OrgID, &k.Name, &k.Environment, &k.Prefix, &k.Status, &k.AllowedCIDRs, &k.CreatedAt, &k.RotatedAt, &k.RevokedAt, &k.LastUsedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ingest.ErrNotFound
	}
	return k, err
}

// CreateKey inserts k and its audit event.
func (s *Keys) CreateKey(ctx context.Context, k *ingest.APIKey, secretHash string, ev ingest.AuditEvent) error {
	cidrs := k.AllowedCIDRs
	if cidrs == nil {
		cidrs = []string{}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, sqlInsertKey, k.ID, k.OrgID, k.Name, k.Environment, k.Prefix, secretHash, cidrs, k.CreatedAt)
		if err != nil {
			return fmt.Errorf("insert api key: %w", err)
		}
		return insertAudit(ctx, tx, ev)
	})
}

// ListKeys lists the org's keys, newest first.
func (s *Keys) ListKeys(ctx context.Context, orgID string) ([]ingest.APIKey, error) {
	rows, err := s.pool.Query(ctx, sqlListKeys, orgID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var out []ingest.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *k)
	}
	return out, rows.Err()
}

// GetKey returns one of the org's keys.
func (s *Keys) GetKey(ctx context.Context, orgID, id string) (*ingest.APIKey, error) {
	return scanKey(s.pool.QueryRow(ctx, sqlGetKey, orgID, id))
}

// RotateKey replaces the secret of an active key and writes its audit event.
func (s *Keys) RotateKey(ctx context.Context, orgID, id, newHash, newPrefix string, graceUntil *time.Time, now time.Time, ev ingest.AuditEvent) (*ingest.APIKey, error) {
	var k *ingest.APIKey
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if k, err = scanKey(tx.QueryRow(ctx, sqlRotate, orgID, id, newHash, newPrefix, graceUntil, now)); err != nil {
			return err
		}
		return insertAudit(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// RevokeKey revokes a key (idempotent); the audit event is written when the
// key was active, so a repeated revocation records nothing.
func (s *Keys) RevokeKey(ctx context.Context, orgID, id string, now time.Time, ev ingest.AuditEvent) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var was string
		err := tx.QueryRow(ctx, sqlRevoke, orgID, id, now).Scan(&was)
		if errors.Is(err, pgx.ErrNoRows) {
			return ingest.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("revoke api key: %w", err)
		}
		if was != ingest.StatusActive {
			return nil
		}
		return insertAudit(ctx, tx, ev)
	})
}

// LookupKey finds a key by the hash of its current or in-grace secret.
func (s *Keys) LookupKey(ctx context.Context, secretHash string, now time.Time) (*ingest.VerifiedKey, error) {
	v := &ingest.VerifiedKey{}
	err := s.pool.QueryRow(ctx, sqlLookup, secretHash, now).Scan(&v.KeyID, &v.OrgID, &v.Environment, &v.Status, &v.AllowedCIDRs, &v.OrgCIDRs, &v.ValidUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ingest.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("lookup api key: %w", err)
	}
	return v, nil
}

// TouchKeys raises last_used_at in one statement.
func (s *Keys) TouchKeys(ctx context.Context, used map[string]time.Time) error {
	ids := make([]string, 0, len(used))
	ats := make([]time.Time, 0, len(used))
	for id, at := range used {
		ids = append(ids, id)
		ats = append(ats, at)
	}
	if _, err := s.pool.Exec(ctx, sqlTouch, ids, ats); err != nil {
		return fmt.Errorf("touch api keys: %w", err)
	}
	return nil
}
