package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/watchtower/authplane/services/ingestion/internal/ingest"
	"github.com/watchtower/authplane/services/ingestion/internal/txn"
)

// Settings stores per-organization settings.
type Settings struct{ pool *pgxpool.Pool }

// NewSettings returns the settings store.
func NewSettings(pool *pgxpool.Pool) *Settings { return &Settings{pool: pool} }

const (
	sqlGetSettings = `SELECT allowed_cidrs::text[], review_amount::text, block_amount::text, velocity_window_seconds,
velocity_max_count, rate_per_second, rate_burst FROM org_settings WHERE org_id = $1`
	sqlEnsureSettings = `INSERT INTO org_settings (org_id) VALUES ($1) ON CONFLICT (org_id) DO NOTHING`
	sqlLockControls   = `SELECT review_amount::text, block_amount::text, velocity_window_seconds, velocity_max_count
FROM org_settings WHERE org_id = $1 FOR UPDATE`
	sqlPutControls = `UPDATE org_settings SET review_amount = $2::numeric, block_amount = $3::numeric,
velocity_window_seconds = $4, velocity_max_count = $5, updated_at = now() WHERE org_id = $1`
	sqlPutCIDRs = `INSERT INTO org_settings (org_id, allowed_cidrs) VALUES ($1, $2::cidr[])
ON CONFLICT (org_id) DO UPDATE SET allowed_cidrs = EXCLUDED.allowed_cidrs, updated_at = now()`
	sqlPutRate = `INSERT INTO org_settings (org_id, rate_per_second, rate_burst) VALUES ($1, $2, $3)
ON CONFLICT (org_id) DO UPDATE SET rate_per_second = EXCLUDED.rate_per_second, rate_burst = EXCLUDED.rate_burst, updated_at = now()`
)

// GetSettings returns the org's settings or the defaults.
func (s *Settings) GetSettings(ctx context.Context, orgID string) (ingest.Settings, error) {
	st := ingest.DefaultSettings()
	var review, block string
	err := s.pool.QueryRow(ctx, sqlGetSettings, orgID).Scan(&st.AllowedCIDRs, &review, &block,
		&st.Controls.VelocityWindowSeconds, &st.Controls.VelocityMaxCount, &st.RatePerSecond, &st.Burst)
	if errors.Is(err, pgx.ErrNoRows) {
		return ingest.DefaultSettings(), nil
	}
	if err != nil {
		return st, fmt.Errorf("get org settings: %w", err)
	}
	var ok bool
	if st.Controls.ReviewAmount, ok = txn.ParseAmount(review); !ok {
		return st, fmt.Errorf("org settings: bad review_amount %q", review)
	}
	if st.Controls.BlockAmount, ok = txn.ParseAmount(block); !ok {
		return st, fmt.Errorf("org settings: bad block_amount %q", block)
	}
	return st, nil
}

// UpdateControls reads the org's controls under a row lock (the row is
// created with the defaults first), applies apply, and writes the result
// and its audit event in the same transaction.
func (s *Settings) UpdateControls(ctx context.Context, orgID string, apply func(txn.Controls) (txn.Controls, *ingest.AuditEvent, error)) (txn.Controls, error) {
	var out txn.Controls
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, sqlEnsureSettings, orgID); err != nil {
			return fmt.Errorf("ensure org settings: %w", err)
		}
		var review, block string
		var cur txn.Controls
		if err := tx.QueryRow(ctx, sqlLockControls, orgID).Scan(&review, &block, &cur.VelocityWindowSeconds, &cur.VelocityMaxCount); err != nil {
			return fmt.Errorf("lock controls: %w", err)
		}
		var ok bool
		if cur.ReviewAmount, ok = txn.ParseAmount(review); !ok {
			return fmt.Errorf("org settings: bad review_amount %q", review)
		}
		if cur.BlockAmount, ok = txn.ParseAmount(block); !ok {
			return fmt.Errorf("org settings: bad block_amount %q", block)
		}
		next, ev, err := apply(cur)
		if err != nil {
			return err
		}
		out = next
		if ev == nil {
			return nil
		}
		_, err = tx.Exec(ctx, sqlPutControls, orgID, string(next.ReviewAmount), string(next.BlockAmount), next.VelocityWindowSeconds, next.VelocityMaxCount)
		if err != nil {
			return fmt.Errorf("put controls: %w", err)
		}
		return insertAudit(ctx, tx, *ev)
	})
	return out, err
}

// PutAllowedCIDRs stores the org's allow-list and its audit event.
func (s *Settings) PutAllowedCIDRs(ctx context.Context, orgID string, cidrs []string, ev ingest.AuditEvent) error {
	if cidrs == nil {
		cidrs = []string{}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, sqlPutCIDRs, orgID, cidrs); err != nil {
			return fmt.Errorf("put allowed cidrs: %w", err)
		}
		return insertAudit(ctx, tx, ev)
	})
}

// PutRate stores the org's ingestion rate limit (operators and tests).
func (s *Settings) PutRate(ctx context.Context, orgID string, perSecond, burst int) error {
	if _, err := s.pool.Exec(ctx, sqlPutRate, orgID, perSecond, burst); err != nil {
		return fmt.Errorf("put rate: %w", err)
	}
	return nil
}
