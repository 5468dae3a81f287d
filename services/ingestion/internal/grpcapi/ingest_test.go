package grpcapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/apperr"
	ingestionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/ingestion/v1"
	"github.com/watchtower/authplane/services/ingestion/internal/ingest"
	"github.com/watchtower/authplane/services/ingestion/internal/txn"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func body(ref string, amount string) string {
	return fmt.Sprintf(`{"reference":%q,"amount":%s,"currency":"NGN","channel":"MOBILE","transactionType":"DEBIT",
"transactionCategory":"TRANSFER","timestamp":"2026-12-01T10:00:00.000Z","sender":{"id":"C-1","name":"Ada"},
"receiver":{"id":"C-2","name":"Bo"},"narration":"rent"}`, ref, amount)
}

// reasonOf returns the gRPC code, ErrorInfo reason, Retry-After seconds and
// field violations of err.
func reasonOf(t testing.TB, err error) (codes.Code, string, string, []string) {
	t.Helper()
	require.Error(t, err)
	st, ok := status.FromError(err)
	require.True(t, ok)
	var reason, retry string
	var fields []string
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			reason = d.GetReason()
			retry = d.GetMetadata()[apperr.MetaRetryAfter]
		case *errdetails.BadRequest:
			for _, f := range d.GetFieldViolations() {
				fields = append(fields, f.GetField()+":"+f.GetDescription())
			}
		}
	}
	return st.Code(), reason, retry, fields
}

type accepted struct {
	Transaction struct {
		ID, Reference, ReceivedAt string
	} `json:"transaction"`
	Decision txn.Decision `json:"decision"`
}

func decodeAccepted(t testing.TB, res *ingestionv1.IngestResponse) accepted {
	t.Helper()
	require.Equal(t, int32(201), res.GetHttpStatus())
	var a accepted
	require.NoError(t, json.Unmarshal(res.GetBody(), &a))
	return a
}

func TestAccepted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	res, err := e.ingest("org-a", "k-1", body("TXN-1", "25000.50"))
	require.NoError(t, err)
	require.False(t, res.GetReplayed())
	a := decodeAccepted(t, res)
	require.True(t, strings.HasPrefix(a.Transaction.ID, "txn_"))
	require.Equal(t, "TXN-1", a.Transaction.Reference)
	_, perr := time.Parse(time.RFC3339, a.Transaction.ReceivedAt)
	require.NoError(t, perr)
	require.Equal(t, txn.Decision{Outcome: "ALLOW", RiskScore: 0, Reasons: []string{}}, a.Decision)
	var amount string
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT amount::text FROM transactions WHERE id = $1`, a.Transaction.ID).Scan(&amount))
	require.Equal(t, "25000.5", amount)
}

func TestAmountStoredExactly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for i, amount := range []string{`123456789012.34`, `"9999999999999.99"`, `0.01`, `1.5e3`} {
		_, err := e.ingest("org-a", fmt.Sprint("k-", i), strings.Replace(body(fmt.Sprint("R-", i), amount), `"NGN"`, `"USD"`, 1))
		require.NoError(t, err)
	}
	rows, err := e.pool.Query(context.Background(), `SELECT amount::text FROM transactions ORDER BY seq`)
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		got = append(got, s)
	}
	require.Equal(t, []string{"123456789012.34", "9999999999999.99", "0.01", "1500"}, got)
}

func TestSameIdempotencyKeySameBodyAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	first, err := e.ingest("org-a", "k-1", body("TXN-1", "100"))
	require.NoError(t, err)
	// Key order and whitespace do not change the fingerprint.
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(body("TXN-1", "100")), &m))
	reordered, _ := json.MarshalIndent(m, "", "   ")
	for _, b := range []string{body("TXN-1", "100"), string(reordered)} {
		again, err := e.ingest("org-a", "k-1", b)
		require.NoError(t, err)
		require.True(t, again.GetReplayed())
		require.Equal(t, first.GetHttpStatus(), again.GetHttpStatus())
		require.Equal(t, first.GetBody(), again.GetBody(), "byte for byte")
	}
	require.Equal(t, 1, e.rows("org-a"))
}

func TestSameIdempotencyKeyDifferentBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	_, err := e.ingest("org-a", "k-1", body("TXN-1", "100"))
	require.NoError(t, err)
	_, err = e.ingest("org-a", "k-1", body("TXN-1", "101"))
	code, reason, _, _ := reasonOf(t, err)
	require.Equal(t, codes.FailedPrecondition, code)
	require.Equal(t, "idempotency_key_reused", reason)
	require.Equal(t, 1, e.rows("org-a"))
}

func TestSameIdempotencyKeyWhileFirstInFlight(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{lease: 30 * time.Second})
	b := body("TXN-1", "100")
	fp, _ := txn.Fingerprint([]byte(b))
	// Another owner holds the claim (its request is being processed).
	res, err := e.idem.Begin(context.Background(), ingest.BeginArgs{OrgID: "org-a", Key: "k-1", Fingerprint: fp, Owner: "other",
		Lease: 30 * time.Second, RatePerSecond: 1000, Burst: 2000, Claim: true})
	require.NoError(t, err)
	require.Equal(t, ingest.Claimed, res.Outcome)

	_, err = e.ingest("org-a", "k-1", b)
	code, reason, retry, _ := reasonOf(t, err)
	require.Equal(t, codes.AlreadyExists, code)
	require.Equal(t, "idempotency_key_in_progress", reason)
	require.Equal(t, "30", retry)

	// A different body is 422, checked before the in-flight 409.
	_, err = e.ingest("org-a", "k-1", body("TXN-1", "999"))
	_, reason, _, _ = reasonOf(t, err)
	require.Equal(t, "idempotency_key_reused", reason)
	require.Equal(t, 0, e.rows("org-a"))
}

func TestIdempotencyKeyEmptyOrInvalid(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for _, k := range []string{"", strings.Repeat("k", 256), "tab\there", "é"} {
		_, err := e.ingest("org-a", k, body("TXN-1", "100"))
		code, reason, _, _ := reasonOf(t, err)
		require.Equal(t, codes.InvalidArgument, code)
		require.Equal(t, "idempotency_key_invalid", reason, k)
	}
	_, err := e.ingest("org-a", strings.Repeat("k", 255), body("TXN-1", "100"))
	require.NoError(t, err)
}

func TestReferenceAlreadyIngestedUnderAnotherKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	_, err := e.ingest("org-a", "k-1", body("TXN-1", "100"))
	require.NoError(t, err)
	_, err = e.ingest("org-a", "k-2", body("TXN-1", "100"))
	code, reason, _, _ := reasonOf(t, err)
	require.Equal(t, codes.AlreadyExists, code)
	require.Equal(t, "duplicate_transaction", reason)
	// The failed attempt left no record: the same key may be used again.
	_, err = e.ingest("org-a", "k-2", body("TXN-2", "100"))
	require.NoError(t, err)
	require.Equal(t, 2, e.rows("org-a"))
}

func TestValidationFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	_, err := e.ingest("org-a", "k-1", `{"reference":"R","amount":0,"currency":"NGN","channel":"MOBILE","transactionType":"DEBIT",
"transactionCategory":"TRANSFER","timestamp":"2026-12-01T10:00:00Z","sender":{"name":"x"},"receiver":{"id":"C-2"},"extra":1}`)
	code, reason, _, fields := reasonOf(t, err)
	require.Equal(t, codes.InvalidArgument, code)
	require.Equal(t, "validation_failed", reason)
	require.Equal(t, []string{"extra:unknown_field", "amount:must_be_positive", "sender.id:required"}, fields)

	_, err = e.ingest("org-a", "k-1", `{"reference":`)
	_, reason, _, _ = reasonOf(t, err)
	require.Equal(t, "invalid_json", reason)
	// A fixed body may reuse the key: no record was left.
	_, err = e.ingest("org-a", "k-1", body("R", "1"))
	require.NoError(t, err)
}

func TestOverTheOrgsIngestionRate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	require.NoError(t, e.settings.PutRate(context.Background(), "org-a", 1, 3))
	for i := range 3 {
		_, err := e.ingest("org-a", fmt.Sprint("k-", i), body(fmt.Sprint("R-", i), "1"))
		require.NoError(t, err)
	}
	_, err := e.ingest("org-a", "k-9", body("R-9", "1"))
	code, reason, retry, _ := reasonOf(t, err)
	require.Equal(t, codes.ResourceExhausted, code)
	require.Equal(t, "rate_limited", reason)
	require.Equal(t, "1", retry)
	// Another org has its own budget.
	_, err = e.ingest("org-b", "k-9", body("R-9", "1"))
	require.NoError(t, err)
}

func TestConcurrentSameKey50Goroutines(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := body("TXN-C", "100")
	var (
		wg                         sync.WaitGroup
		mu                         sync.Mutex
		fresh, replays, inProgress int
		bodies                     = map[string]bool{}
	)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.ingest("org-a", "same-key", b)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				code, reason, _, _ := reasonOf(t, err)
				if code == codes.AlreadyExists && reason == "idempotency_key_in_progress" {
					inProgress++
					return
				}
				t.Errorf("unexpected error %v", err)
				return
			}
			require.Equal(t, int32(201), res.GetHttpStatus())
			bodies[string(res.GetBody())] = true
			if res.GetReplayed() {
				replays++
			} else {
				fresh++
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 1, fresh)
	require.Equal(t, 50, fresh+replays+inProgress)
	require.Len(t, bodies, 1, "every 201 carries the same body")
	require.Equal(t, 1, e.rows("org-a"))
}

func TestSameKeyTwoOrgs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	a, err := e.ingest("org-a", "shared", body("TXN-1", "100"))
	require.NoError(t, err)
	b, err := e.ingest("org-b", "shared", body("TXN-1", "100"))
	require.NoError(t, err)
	require.False(t, b.GetReplayed())
	require.NotEqual(t, decodeAccepted(t, a).Transaction.ID, decodeAccepted(t, b).Transaction.ID)
	require.Equal(t, 1, e.rows("org-a"))
	require.Equal(t, 1, e.rows("org-b"))
}

func TestFailureBeforeCommitReleasesTheClaim(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.txs.fail.Store(true)
	_, err := e.ingest("org-a", "k-1", body("TXN-1", "100"))
	code, reason, _, _ := reasonOf(t, err)
	require.Equal(t, codes.Unavailable, code)
	require.Equal(t, "unavailable", reason)
	e.txs.fail.Store(false)
	res, err := e.ingest("org-a", "k-1", body("TXN-1", "100"))
	require.NoError(t, err)
	require.False(t, res.GetReplayed())
	require.Equal(t, 1, e.rows("org-a"))
}

func TestCrashBetweenClaimAndCommit(t *testing.T) {
	t.Parallel()
	// The owner took the claim and died (no release): the retry is refused
	// with 409 for at most the lease, then succeeds, and the row exists once.
	lease := 700 * time.Millisecond
	e := newEnv(t, envOptions{lease: lease})
	b := body("TXN-1", "100")
	fp, _ := txn.Fingerprint([]byte(b))
	res, err := e.idem.Begin(context.Background(), ingest.BeginArgs{OrgID: "org-a", Key: "k-1", Fingerprint: fp, Owner: "dead",
		Lease: lease, RatePerSecond: 1000, Burst: 2000, Claim: true})
	require.NoError(t, err)
	require.Equal(t, ingest.Claimed, res.Outcome)
	crashed := time.Now()

	_, err = e.ingest("org-a", "k-1", b)
	_, reason, retry, _ := reasonOf(t, err)
	require.Equal(t, "idempotency_key_in_progress", reason)
	require.Equal(t, "1", retry)

	deadline := time.Now().Add(5 * time.Second)
	var ok *ingestionv1.IngestResponse
	for time.Now().Before(deadline) {
		ok, err = e.ingest("org-a", "k-1", b)
		if err == nil {
			break
		}
		_, reason, _, _ := reasonOf(t, err)
		require.Equal(t, "idempotency_key_in_progress", reason)
	}
	require.NoError(t, err)
	require.Less(t, time.Since(crashed), lease+2*time.Second)
	require.Equal(t, int32(201), ok.GetHttpStatus())
	require.Equal(t, 1, e.rows("org-a"))
}

func TestCommittedButRecordLostReplaysFromPostgres(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := body("TXN-1", "100")
	first, err := e.ingest("org-a", "k-1", b)
	require.NoError(t, err)
	require.NoError(t, e.rdb.Del(context.Background(), e.prefix+"{org:org-a}:idem:"+digestForTest("k-1")).Err())
	again, err := e.ingest("org-a", "k-1", b)
	require.NoError(t, err)
	require.True(t, again.GetReplayed())
	require.Equal(t, first.GetBody(), again.GetBody())
	require.Equal(t, 1, e.rows("org-a"))
}

func TestRedisUnreachable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{deadRedis: true})
	_, err := e.ingest("org-a", "k-1", body("TXN-1", "100"))
	code, reason, _, _ := reasonOf(t, err)
	require.Equal(t, codes.Unavailable, code)
	require.Equal(t, "unavailable", reason)
	require.Equal(t, 0, e.rows("org-a"))
}

func TestDecisionFromControls(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx := e.user("org-a")
	got, err := e.client.GetControls(ctx, &ingestionv1.GetControlsRequest{})
	require.NoError(t, err)
	require.Equal(t, &ingestionv1.Controls{ReviewAmount: 1000000, BlockAmount: 10000000, VelocityWindowSeconds: 600, VelocityMaxCount: 20},
		got.GetControls())
	review, block, maxCount := 500.5, 1000.0, int32(2)
	_, err = e.client.UpdateControls(e.user("org-a"), &ingestionv1.UpdateControlsRequest{ReviewAmount: &review, BlockAmount: &block, VelocityMaxCount: &maxCount})
	require.NoError(t, err)

	for i, tt := range []struct {
		amount, sender, outcome string
		reasons                 []string
	}{
		{"500.49", "S-1", "ALLOW", []string{}},
		{"500.5", "S-2", "REVIEW", []string{"review_amount"}},
		{"1000", "S-3", "BLOCK", []string{"review_amount", "block_amount"}},
		{"1", "S-1", "ALLOW", []string{}},
		{"1", "S-1", "REVIEW", []string{"velocity"}},
	} {
		b := strings.Replace(body(fmt.Sprint("R-", i), tt.amount), `"C-1"`, fmt.Sprintf("%q", tt.sender), 1)
		res, err := e.ingest("org-a", fmt.Sprint("k-", i), b)
		require.NoError(t, err)
		a := decodeAccepted(t, res)
		require.Equal(t, tt.outcome, a.Decision.Outcome, "case %d", i)
		require.Equal(t, tt.reasons, a.Decision.Reasons, "case %d", i)
	}

	bad := 2000.0
	_, err = e.client.UpdateControls(e.user("org-a"), &ingestionv1.UpdateControlsRequest{ReviewAmount: &bad})
	_, reason, _, fields := reasonOf(t, err)
	require.Equal(t, "validation_failed", reason)
	require.Equal(t, []string{"blockAmount:below_review_amount"}, fields)
	// Another org still has the defaults.
	got, err = e.client.GetControls(e.user("org-b"), &ingestionv1.GetControlsRequest{})
	require.NoError(t, err)
	require.Equal(t, float64(1000000), got.GetControls().GetReviewAmount())
}

func TestListTransactionsPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for i := range 5 {
		_, err := e.ingest("org-a", fmt.Sprint("k-", i), body(fmt.Sprint("R-", i), "10.25"))
		require.NoError(t, err)
	}
	_, err := e.ingest("org-b", "k-x", body("R-x", "1"))
	require.NoError(t, err)
	var refs []string
	token := ""
	for {
		page, err := e.client.ListTransactions(e.user("org-a"), &ingestionv1.ListTransactionsRequest{PageSize: 2, PageToken: token})
		require.NoError(t, err)
		for _, tx := range page.GetTransactions() {
			refs = append(refs, tx.GetReference())
			require.Equal(t, "10.25", tx.GetAmount())
			require.Equal(t, "ALLOW", tx.GetDecision().GetOutcome())
		}
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	require.Equal(t, []string{"R-4", "R-3", "R-2", "R-1", "R-0"}, refs)
	_, err = e.client.ListTransactions(e.user("org-a"), &ingestionv1.ListTransactionsRequest{PageToken: "garbage"})
	_, reason, _, _ := reasonOf(t, err)
	require.Equal(t, "invalid_page_token", reason)
}

func TestIngestRefusesOtherAudiences(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	_, err := e.client.Ingest(e.user("org-a"), &ingestionv1.IngestRequest{IdempotencyKey: "k", Body: []byte(body("R", "1"))})
	code, _, _, _ := reasonOf(t, err)
	require.Equal(t, codes.PermissionDenied, code)
	_, err = e.client.Ingest(context.Background(), &ingestionv1.IngestRequest{IdempotencyKey: "k", Body: []byte(body("R", "1"))})
	code, _, _, _ = reasonOf(t, err)
	require.Equal(t, codes.Unauthenticated, code)
}
