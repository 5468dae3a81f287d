package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/watchtower/authplane/platform/pgdb"
	"github.com/watchtower/authplane/services/ingestion/internal/batch"
	"github.com/watchtower/authplane/services/ingestion/internal/ingest"
	"github.com/watchtower/authplane/services/ingestion/internal/txn"
)

// Transactions stores ingested transactions.
//
// With StartBatching, concurrent inserts are grouped: a worker takes the
// inserts waiting at that moment (up to the batch size) and sends them as
// one multi-row INSERT, one statement with one commit (one WAL flush and one
// executor start instead of one per row). A row whose reference exists is
// skipped by ON CONFLICT and answered ErrDuplicateReference; any other error
// rolls the whole batch back, and its rows are then inserted one by one, so
// a row's failure is only ever its own. Every caller gets its answer only
// after the commit.
type Transactions struct {
	pool    *pgxpool.Pool
	batcher *batch.Batcher[*insertReq] // nil: one transaction per insert
}

type insertReq struct {
	row  *ingest.StoredTx
	done chan error
}

// NewTransactions returns the transaction store (one transaction per
// insert until StartBatching).
func NewTransactions(pool *pgxpool.Pool) *Transactions { return &Transactions{pool: pool} }

// batchTimeout bounds one batch's Postgres work.
const batchTimeout = 10 * time.Second

// StartBatching starts workers that group inserts into batches of at most
// size rows, until ctx ends (inserts then go one by one). Call it once,
// before the store is used.
func (s *Transactions) StartBatching(ctx context.Context, workers, size int) {
	s.batcher = batch.Start(ctx, workers, size, s.runBatch)
}

func (s *Transactions) runBatch(reqs []*insertReq) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	rows := make([]*ingest.StoredTx, len(reqs))
	for i, r := range reqs {
		rows[i] = r.row
	}
	for i, err := range s.insertBatch(ctx, rows) {
		reqs[i].done <- err
	}
}

const (
	sqlInsertHead = `INSERT INTO transactions (id, org_id, api_key_id, reference, amount, currency, channel, transaction_type,
transaction_category, occurred_at, sender_id, receiver_id, payload, outcome, risk_score, reasons, idempotency_key,
fingerprint, response, received_at)
VALUES `
	sqlOnConflict = `ON CONFLICT ON CONSTRAINT transactions_org_reference_key DO NOTHING`
	sqlInsertTx   = sqlInsertHead + `($1, $2, $3, $4, $5::numeric, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15, $16, $17, $18, $19, $20)
` + sqlOnConflict
	txColumns = `seq, id, org_id, api_key_id, reference, amount::text, currency, channel, transaction_type, transaction_category,
occurred_at, sender_id, receiver_id, outcome, risk_score, reasons, idempotency_key, fingerprint, response, received_at`
	sqlByReference = `SELECT ` + txColumns + ` FROM transactions WHERE org_id = $1 AND reference = $2`
	sqlListTx      = `SELECT ` + txColumns + ` FROM transactions WHERE org_id = $1
AND ($2::text = '' OR seq < (SELECT seq FROM transactions WHERE org_id = $1 AND id = $2::text))
ORDER BY seq DESC LIMIT $3`
)

// Insert stores t; ErrDuplicateReference when the org has its reference.
// Once a batch worker has the row, Insert waits for the batch's outcome
// whatever happens to ctx: the caller must know whether the row committed.
func (s *Transactions) Insert(ctx context.Context, t *ingest.StoredTx) error {
	if s.batcher == nil {
		return s.insertOne(ctx, t)
	}
	r := &insertReq{row: t, done: make(chan error, 1)}
	taken, err := s.batcher.Submit(ctx, r)
	switch {
	case err != nil:
		return err
	case !taken:
		return s.insertOne(ctx, t)
	}
	return <-r.done
}

func insertArgs(t *ingest.StoredTx) []any {
	x := t.Tx
	return []any{t.ID, t.OrgID, t.APIKeyID, x.Reference, string(x.Amount), x.Currency, x.Channel,
		x.TransactionType, x.TransactionCategory, x.Timestamp, x.Sender.ID, x.Receiver.ID, string(t.Payload),
		t.Decision.Outcome, t.Decision.RiskScore, t.Decision.Reasons, t.IdempotencyKey, t.Fingerprint, t.Response, t.ReceivedAt}
}

func (s *Transactions) insertOne(ctx context.Context, t *ingest.StoredTx) error {
	tag, err := s.pool.Exec(ctx, sqlInsertTx, insertArgs(t)...)
	return insertOutcome(tag, err)
}

func insertOutcome(tag pgconn.CommandTag, err error) error {
	switch {
	case err == nil && tag.RowsAffected() == 0, pgdb.IsUniqueViolation(err, "transactions_org_reference_key"):
		return ingest.ErrDuplicateReference
	case err != nil:
		return fmt.Errorf("insert transaction: %w", err)
	}
	return nil
}

// insertBatch stores rows with one multi-row INSERT (one statement, one
// commit) and returns each row's outcome: a row whose id the INSERT does not
// return met an existing (org, reference), or an earlier row of the batch
// with the same one (rows are inserted in order). When the statement fails
// as a whole, rows are retried one by one, so a row's failure is only ever
// its own.
func (s *Transactions) insertBatch(ctx context.Context, rows []*ingest.StoredTx) []error {
	errs := make([]error, len(rows))
	if len(rows) == 1 {
		errs[0] = s.insertOne(ctx, rows[0])
		return errs
	}
	args := make([]any, 0, len(rows)*insertColumns)
	for _, t := range rows {
		args = append(args, insertArgs(t)...)
	}
	inserted := make(map[string]bool, len(rows))
	dbRows, err := s.pool.Query(ctx, multiInsertSQL(len(rows)), args...)
	if err == nil {
		var id string
		_, err = pgx.ForEachRow(dbRows, []any{&id}, func() error {
			inserted[id] = true
			return nil
		})
	}
	if err == nil {
		for i, t := range rows {
			if !inserted[t.ID] {
				errs[i] = ingest.ErrDuplicateReference
			}
		}
		return errs
	}
	for i, t := range rows {
		errs[i] = s.insertOne(ctx, t)
	}
	return errs
}

// insertColumns is the number of parameters of one row.
const insertColumns = 20

var multiInsert struct {
	sync.Mutex
	sql map[int]string
}

// multiInsertSQL is the INSERT of n rows; Postgres caches its plan per
// connection (pgx prepares each distinct text once).
func multiInsertSQL(n int) string {
	multiInsert.Lock()
	defer multiInsert.Unlock()
	if q, ok := multiInsert.sql[n]; ok {
		return q
	}
	var b strings.Builder
	b.WriteString(sqlInsertHead)
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := 1; c <= insertColumns; c++ {
			if c > 1 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", r*insertColumns+c)
			switch c {
			case 5:
				b.WriteString("::numeric")
			case 13:
				b.WriteString("::jsonb")
			}
		}
		b.WriteByte(')')
	}
	b.WriteString("\n" + sqlOnConflict + " RETURNING id")
	if multiInsert.sql == nil {
		multiInsert.sql = make(map[int]string)
	}
	multiInsert.sql[n] = b.String()
	return multiInsert.sql[n]
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

// List returns a page of the org's transactions, newest first, after the
// org's transaction afterID ("": from the newest). The cursor is a row id,
// not seq: seq counts every org's transactions, and a page token must not
// tell one org how many the others send.
func (s *Transactions) List(ctx context.Context, orgID, afterID string, limit int) ([]ingest.StoredTx, error) {
	rows, err := s.pool.Query(ctx, sqlListTx, orgID, afterID, limit)
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
