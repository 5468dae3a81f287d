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
	sqlPutControls = `INSERT INTO org_settings (org_id, review_amount, block_amount, velocity_window_seconds, velocity_max_count)
VALUES ($1, $2::numeric, $3::numeric, $4, $5)
ON CONFLICT (org_id) DO UPDATE SET review_amount = EXCLUDED.review_amount, block_amount = EXCLUDED.block_amount,
velocity_window_seconds = EXCLUDED.velocity_window_seconds, velocity_max_count = EXCLUDED.velocity_max_count, updated_at = now()`
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

// PutControls stores the org's controls.
func (s *Settings) PutControls(ctx context.Context, orgID string, c txn.Controls, ev ingest.AuditEvent) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, sqlPutControls, orgID, string(c.ReviewAmount), string(c.BlockAmount), c.VelocityWindowSeconds, c.VelocityMaxCount)
		if err != nil {
			return fmt.Errorf("put controls: %w", err)
		}
		return insertAudit(ctx, tx, ev)
	})
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
