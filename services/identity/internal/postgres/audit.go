package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/watchtower/authplane/services/identity/internal/identity"
)

const sqlInsertAuditEvent = `
INSERT INTO audit_events (id, org_id, type, actor_id, target_id, ip, user_agent, at, data)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// InsertAuditEvent implements identity.Store.
func (s *Store) InsertAuditEvent(ctx context.Context, e identity.AuditEvent) error {
	err := insertAuditEvent(ctx, s.pool, e)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" { // foreign_key_violation: no such org
		return identity.ErrOrgNotFound
	}
	if err != nil {
		return fail("insert audit event", err)
	}
	return nil
}

func insertAuditEvent(ctx context.Context, db execer, e identity.AuditEvent) error {
	data := e.Data
	if data == nil {
		data = map[string]string{}
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode audit data: %w", err)
	}
	_, err = db.Exec(ctx, sqlInsertAuditEvent, e.ID, e.OrgID, e.Type, e.ActorID, e.TargetID, e.IP, e.UserAgent, e.At, raw)
	return err
}
