package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/watchtower/authplane/services/ingestion/internal/ingest"
)

const (
	// clock_timestamp, not now(): now() is when the transaction began, and
	// a change that waited for a row lock must be dated after the one it
	// waited for.
	sqlInsertAudit = `INSERT INTO audit_outbox (org_id, type, actor_id, target_id, ip, user_agent, data, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, clock_timestamp())`
	// SKIP LOCKED: replicas relaying at once take different events.
	sqlClaimAudit = `SELECT id, org_id, type, actor_id, target_id, ip, user_agent, data, created_at FROM audit_outbox
ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`
	sqlDeleteAudit = `DELETE FROM audit_outbox WHERE id = ANY($1::bigint[])`
	sqlRetryAudit  = `UPDATE audit_outbox SET attempts = attempts + 1 WHERE id = $1`
)

// insertAudit writes ev to the outbox inside tx.
func insertAudit(ctx context.Context, tx pgx.Tx, ev ingest.AuditEvent) error {
	data := ev.Data
	if data == nil {
		data = map[string]string{}
	}
	if _, err := tx.Exec(ctx, sqlInsertAudit, ev.OrgID, ev.Type, ev.ActorID, ev.TargetID, ev.IP, ev.UserAgent, data); err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	return nil
}

// Outbox is the audit outbox as the relay sees it.
type Outbox struct{ pool *pgxpool.Pool }

// NewOutbox returns the outbox.
func NewOutbox(pool *pgxpool.Pool) *Outbox { return &Outbox{pool: pool} }

// Drain hands up to limit of the oldest events, in order, to send, inside
// one transaction that holds them (other replicas skip them). An event is
// deleted when send returns nil; when send returns an error, that event
// and every later one stay for the next round. Delivery is at least once: an
// event sent just before the commit fails is sent again. Drain returns how
// many events it deleted.
func (o *Outbox) Drain(ctx context.Context, limit int, send func(ingest.AuditEvent) error) (int, error) {
	deleted := 0
	err := pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, sqlClaimAudit, limit)
		if err != nil {
			return fmt.Errorf("claim audit events: %w", err)
		}
		type claimed struct {
			id int64
			ev ingest.AuditEvent
		}
		var evs []claimed
		for rows.Next() {
			var c claimed
			if err := rows.Scan(&c.id, &c.ev.OrgID, &c.ev.Type, &c.ev.ActorID, &c.ev.TargetID, &c.ev.IP, &c.ev.UserAgent, &c.ev.Data, &c.ev.At); err != nil {
				rows.Close()
				return fmt.Errorf("read audit event: %w", err)
			}
			evs = append(evs, c)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read audit events: %w", err)
		}
		var done []int64
		for _, c := range evs {
			if err := send(c.ev); err != nil {
				if _, uerr := tx.Exec(ctx, sqlRetryAudit, c.id); uerr != nil {
					return fmt.Errorf("note audit attempt: %w", uerr)
				}
				break
			}
			done = append(done, c.id)
		}
		if len(done) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, sqlDeleteAudit, done); err != nil {
			return fmt.Errorf("delete delivered audit events: %w", err)
		}
		deleted = len(done)
		return nil
	})
	return deleted, err
}
