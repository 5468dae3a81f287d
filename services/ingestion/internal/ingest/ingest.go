package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/platform/logging"
	"github.com/watchtower/authplane/services/ingestion/internal/txn"
)

// Caller is the API key an ingestion is made with.
type Caller struct {
	OrgID    string
	APIKeyID string
}

// Response is the HTTP answer of an ingestion.
type Response struct {
	Status     int
	Body       []byte
	Replayed   bool
	RetryAfter time.Duration
}

// IdempotencyRetention is how long a completed response is replayed.
const IdempotencyRetention = 24 * time.Hour

// processTimeout bounds the Postgres work of one claimed ingestion.
const processTimeout = 10 * time.Second

// MaxIdempotencyKey is the longest idempotency key accepted.
const MaxIdempotencyKey = 255

// CheckIdempotencyKey applies API.md's rules to the header value.
func CheckIdempotencyKey(key string, present bool) error {
	if !present {
		return apperr.Invalid("idempotency_key_required", "the idempotency-key header is required")
	}
	if key == "" || len(key) > MaxIdempotencyKey {
		return apperr.Invalid("idempotency_key_invalid", "the idempotency-key must be 1 to 255 printable ASCII characters")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return apperr.Invalid("idempotency_key_invalid", "the idempotency-key must be 1 to 255 printable ASCII characters")
		}
	}
	return nil
}

type acceptedBody struct {
	Transaction acceptedTx   `json:"transaction"`
	Decision    txn.Decision `json:"decision"`
}

type acceptedTx struct {
	ID         string `json:"id"`
	Reference  string `json:"reference"`
	ReceivedAt string `json:"receivedAt"`
}

// Ingest stores the transaction in body exactly once per (org, key).
func (s *Service) Ingest(ctx context.Context, c Caller, key string, body []byte) (*Response, error) {
	if c.OrgID == "" {
		return nil, apperr.Unauthenticated("invalid_api_key", "an API key is required")
	}
	if err := CheckIdempotencyKey(key, true); err != nil {
		return nil, err
	}
	st, err := s.orgSettings(ctx, c.OrgID)
	if err != nil {
		return nil, err
	}
	// The fingerprint ignores key order and whitespace; a body that is not
	// JSON is fingerprinted as raw bytes.
	fp, t, decodeErr := txn.Parse(body)
	if errors.Is(decodeErr, txn.ErrInvalidJSON) {
		decodeErr = apperr.Invalid("invalid_json", "the body is not a JSON object")
	}
	owner, err := s.newID("")
	if err != nil {
		return nil, err
	}
	args := BeginArgs{OrgID: c.OrgID, Key: key, Fingerprint: fp, Owner: owner, Lease: s.o.Lease,
		RatePerSecond: st.RatePerSecond, Burst: st.Burst, Claim: decodeErr == nil}
	if t != nil {
		args.SenderID, args.Member, args.Window = t.Sender.ID, t.Reference, st.Controls.VelocityWindow()
	}
	// One Redis round trip: rate limit, then the idempotency record (a bad
	// body is still rate-limited and still meets 422 for a reused key), then
	// the claim and the sender's velocity for a valid one.
	res, err := s.o.Idempotency.Begin(ctx, args)
	if err != nil {
		return nil, apperr.Unavailable(err)
	}
	switch res.Outcome {
	case Limited:
		return nil, apperr.RateLimited(res.RetryAfter)
	case Replay:
		s.noteUsage(ctx, c.APIKeyID)
		return &Response{Status: res.Status, Body: res.Body, Replayed: true}, nil
	case Reused:
		return nil, apperr.New(apperr.KindPrecondition, "idempotency_key_reused", "this idempotency-key was used with a different body")
	case InFlight:
		e := apperr.Conflict("idempotency_key_in_progress", "a request with this idempotency-key is in progress; retry later")
		e.RetryAfter = max(res.RetryAfter, time.Second)
		return nil, e
	}
	if decodeErr != nil {
		return nil, decodeErr
	}
	s.noteUsage(ctx, c.APIKeyID)

	// Once claimed, finish the work even if the caller goes away: a
	// half-done ingestion only costs the retry a lease.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), processTimeout)
	defer cancel()
	resp, err := s.process(pctx, c, args, st, t, body, res.VelocityCount)
	if err != nil {
		// Nothing was committed: drop the claim so that a retry proceeds.
		if rerr := s.o.Idempotency.Release(context.WithoutCancel(ctx), args); rerr != nil {
			logging.FromContext(ctx).Warn("release idempotency claim", "error", rerr.Error())
		}
		return nil, err
	}
	if ok, cerr := s.o.Idempotency.Complete(context.WithoutCancel(ctx), args, resp.Status, resp.Body); cerr != nil || !ok {
		// The row is committed, so the answer stands; a retry that finds no
		// record re-claims and meets the stored row (replayed from Postgres).
		logging.FromContext(ctx).Warn("complete idempotency record", "stored", ok, "error", errString(cerr))
	}
	return resp, nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// process decides and commits one claimed transaction.
func (s *Service) process(ctx context.Context, c Caller, args BeginArgs, st Settings, t *txn.Transaction, body []byte, count int) (*Response, error) {
	now := s.o.Now().UTC()
	id, err := s.newID("txn_")
	if err != nil {
		return nil, err
	}
	decision := txn.Decide(st.Controls, t.Amount, count)
	receivedAt := now.Truncate(time.Millisecond)
	out, err := json.Marshal(acceptedBody{
		Transaction: acceptedTx{ID: id, Reference: t.Reference, ReceivedAt: receivedAt.Format("2006-01-02T15:04:05.000Z07:00")},
		Decision:    decision,
	})
	if err != nil {
		return nil, err
	}
	row := &StoredTx{
		ID: id, OrgID: c.OrgID, APIKeyID: c.APIKeyID, Tx: t, Payload: body, Decision: decision,
		ReceivedAt: receivedAt, IdempotencyKey: args.Key, Fingerprint: args.Fingerprint, Response: out,
	}
	err = s.o.Txs.Insert(ctx, row)
	if errors.Is(err, ErrDuplicateReference) {
		prev, perr := s.o.Txs.ByReference(ctx, c.OrgID, t.Reference)
		if perr != nil {
			return nil, storeFailure(ctx, perr)
		}
		if prev.IdempotencyKey == args.Key && prev.Fingerprint == args.Fingerprint {
			// Our own earlier attempt committed but its record was lost
			// (lease lapsed, Redis failed after the commit): answer as it did.
			return &Response{Status: 201, Body: prev.Response, Replayed: true}, nil
		}
		return nil, apperr.Conflict("duplicate_transaction", "this reference was already ingested under another idempotency-key")
	}
	if err != nil {
		return nil, storeFailure(ctx, err)
	}
	return &Response{Status: 201, Body: out}, nil
}

// TransactionPage is one page of ListTransactions.
type TransactionPage struct {
	Transactions []StoredTx
	// NextAfterID is the id of the page's last transaction when more
	// follow: the next page starts after it.
	NextAfterID string
}

// ListTransactions returns the org's transactions, newest first.
// afterID ("" for the first page) is the last transaction of the previous
// page; an id that is not the org's gives an empty page.
func (s *Service) ListTransactions(ctx context.Context, orgID, afterID string, size int) (*TransactionPage, error) {
	if size <= 0 {
		size = 50
	}
	size = min(size, 200)
	rows, err := s.o.Txs.List(ctx, orgID, afterID, size+1)
	if err != nil {
		return nil, storeFailure(ctx, err)
	}
	p := &TransactionPage{Transactions: rows}
	if len(rows) > size {
		p.Transactions = rows[:size]
		p.NextAfterID = rows[size-1].ID
	}
	return p, nil
}
