package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/watchtower/authplane/platform/pgdb"
	"github.com/watchtower/authplane/services/ingestion/internal/ingest"
	"github.com/watchtower/authplane/services/ingestion/internal/txn"
)

// Transactions stores ingested transactions.
type Transactions struct{ pool *pgxpool.Pool }

// NewTransactions returns the transaction store.
func NewTransactions(pool *pgxpool.Pool) *Transactions { return &Transactions{pool: pool} }

const (
	sqlInsertTx = `INSERT INTO transactions (id, org_id, api_key_id, reference, amount, currency, channel, transaction_type,
transaction_category, occurred_at, sender_id, receiver_id, payload, outcome, risk_score, reasons, idempotency_key,
fingerprint, response, received_at)
VALUES ($1, $2, $3, $4, $5::numeric, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15, $16, $17, $18, $19, $20)`
	txColumns = `seq, id, org_id, api_key_id, reference, amount::text, currency, channel, transaction_type, transaction_category,
occurred_at, sender_id, receiver_id, outcome, risk_score, reasons, idempotency_key, fingerprint, response, received_at`
	sqlByReference = `SELECT ` + txColumns + ` FROM transactions WHERE org_id = $1 AND reference = $2`
	sqlListTx      = `SELECT ` + txColumns + ` FROM transactions WHERE org_id = $1 AND ($2 = 0 OR seq < $2) ORDER BY seq DESC LIMIT $3`
)

// Insert stores t.
func (s *Transactions) Insert(ctx context.Context, t *ingest.StoredTx) error {
	x := t.Tx
	_, err := s.pool.Exec(ctx, sqlInsertTx, t.ID, t.OrgID, t.APIKeyID, x.Reference, string(x.Amount), x.Currency, x.Channel,
		x.TransactionType, x.TransactionCategory, x.Timestamp, x.Sender.ID, x.Receiver.ID, string(t.Payload),
		t.Decision.Outcome, t.Decision.RiskScore, t.Decision.Reasons, t.IdempotencyKey, t.Fingerprint, t.Response, t.ReceivedAt)
	if pgdb.IsUniqueViolation(err, "transactions_org_reference_key") {
		return ingest.ErrDuplicateReference
	}
	if err != nil {
		return fmt.Errorf("insert transaction: %w", err)
	}
	return nil
}

func scanTx(row pgx.Row) (*ingest.StoredTx, error) {
	t := &ingest.StoredTx{Tx: &txn.Transaction{}}
	var amount string
	var score int16
	err := row.Scan(&t.Seq, &t.ID, &t.OrgID, &t.APIKeyID, &t.Tx.Reference, &amount, &t.Tx.Currency, &t.Tx.Channel,
		&t.Tx.TransactionType, &t.Tx.TransactionCategory, &t.Tx.Timestamp, &t.Tx.Sender.ID, &t.Tx.Receiver.ID,
		&t.Decision.Outcome, &score, &t.Decision.Reasons, &t.IdempotencyKey, &t.Fingerprint, &t.Response, &t.ReceivedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ingest.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	t.Tx.Amount = txn.Decimal(amount)
	t.Decision.RiskScore = int(score)
	return t, nil
}

// ByReference returns the org's transaction with reference.
func (s *Transactions) ByReference(ctx context.Context, orgID, reference string) (*ingest.StoredTx, error) {
	return scanTx(s.pool.QueryRow(ctx, sqlByReference, orgID, reference))
}

// List returns a page of the org's transactions, newest first.
func (s *Transactions) List(ctx context.Context, orgID string, before int64, limit int) ([]ingest.StoredTx, error) {
	rows, err := s.pool.Query(ctx, sqlListTx, orgID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list transactions: %w", err)
	}
	defer rows.Close()
	var out []ingest.StoredTx
	for rows.Next() {
		t, err := scanTx(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}
