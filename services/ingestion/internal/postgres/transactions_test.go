package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/testenv"
	"github.com/watchtower/authplane/services/ingestion/internal/ingest"
	"github.com/watchtower/authplane/services/ingestion/internal/txn"
	"github.com/watchtower/authplane/services/ingestion/migrations"
)

func newPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	return testenv.PostgresPool(t, migrations.Schema, migrations.FS, 16)
}

func row(org, id, ref, amount string) *ingest.StoredTx {
	return &ingest.StoredTx{
		ID: id, OrgID: org, APIKeyID: "key_1", Payload: []byte(`{}`),
		Tx: &txn.Transaction{Reference: ref, Amount: txn.Decimal(amount), Currency: "NGN", Channel: "MOBILE",
			TransactionType: "DEBIT", TransactionCategory: "TRANSFER", Timestamp: time.Unix(1_800_000_000, 0).UTC(),
			Sender: txn.Party{ID: "C-1"}, Receiver: txn.Party{ID: "C-2"}},
		Decision:   txn.Decision{Outcome: "ALLOW", Reasons: []string{}},
		ReceivedAt: time.Unix(1_800_000_000, 0).UTC(), IdempotencyKey: "idem-" + id, Fingerprint: "fp", Response: []byte(`{}`),
	}
}

func count(t *testing.T, pool *pgxpool.Pool, org string) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM transactions WHERE org_id = $1`, org).Scan(&n))
	return n
}

func TestInsertBatchOutcomesPerRow(t *testing.T) {
	pool := newPool(t)
	s := NewTransactions(pool)
	ctx := context.Background()
	require.NoError(t, s.Insert(ctx, row("org_a", "txn_0", "REF-0", "10")))

	for _, tt := range []struct {
		name string
		rows []*ingest.StoredTx
		want []error
	}{
		{
			name: "fresh rows and a stored reference",
			rows: []*ingest.StoredTx{row("org_a", "txn_1", "REF-1", "1"), row("org_a", "txn_2", "REF-0", "1"), row("org_b", "txn_3", "REF-0", "1")},
			want: []error{nil, ingest.ErrDuplicateReference, nil},
		},
		{
			name: "the same reference twice in one batch",
			rows: []*ingest.StoredTx{row("org_a", "txn_4", "REF-4", "1"), row("org_a", "txn_5", "REF-4", "2")},
			want: []error{nil, ingest.ErrDuplicateReference},
		},
		{
			// The batch is one transaction: the bad row rolls it back, and
			// the one-by-one retry must answer the good rows as fresh, not
			// as duplicates of themselves.
			name: "a row Postgres refuses fails alone",
			rows: []*ingest.StoredTx{row("org_a", "txn_6", "REF-6", "1"), row("org_a", "txn_7", "REF-7", "0"), row("org_a", "txn_8", "REF-8", "1")},
			want: []error{nil, fmt.Errorf("refused"), nil},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := s.insertBatch(ctx, tt.rows)
			require.Len(t, got, len(tt.want))
			for i := range got {
				switch {
				case tt.want[i] == nil:
					require.NoError(t, got[i], "row %d", i)
				case tt.want[i] == ingest.ErrDuplicateReference:
					require.ErrorIs(t, got[i], ingest.ErrDuplicateReference, "row %d", i)
				default:
					require.Error(t, got[i], "row %d", i)
					require.NotErrorIs(t, got[i], ingest.ErrDuplicateReference, "row %d", i)
				}
			}
		})
	}
	require.Equal(t, 5, count(t, pool, "org_a")) // REF-0, 1, 4, 6, 8
	require.Equal(t, 1, count(t, pool, "org_b"))
}

func TestBatchedInsertsUnderConcurrency(t *testing.T) {
	pool := newPool(t)
	s := NewTransactions(pool)
	ctx, cancel := context.WithCancel(context.Background())
	s.StartBatching(ctx, 2, 8)

	// 200 inserts over 100 references: each reference stored once, one
	// insert per reference fresh, the other a duplicate.
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Insert(context.Background(), row("org_c", fmt.Sprintf("txn_c%d", i), fmt.Sprintf("REF-%d", i%100), "5"))
		})
	}
	wg.Wait()
	fresh, dup := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			fresh++
		case err == ingest.ErrDuplicateReference:
			dup++
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	require.Equal(t, 100, fresh)
	require.Equal(t, 100, dup)
	require.Equal(t, 100, count(t, pool, "org_c"))

	// After the workers stop, inserts still go through, one by one.
	cancel()
	select {
	case <-s.batcher.Stopped():
	case <-time.After(5 * time.Second):
		t.Fatal("workers did not stop")
	}
	require.NoError(t, s.Insert(context.Background(), row("org_c", "txn_c_late", "REF-late", "5")))
	require.Equal(t, 101, count(t, pool, "org_c"))
}

// The cursor is a row id of the org: the rows after it, newest first; an
// unknown id, or another org's, gives nothing. (Regression, earlier form:
// a numeric cursor past 2^31 failed to encode and the list answered 503.)
func TestListCursorIsTheOrgsRowID(t *testing.T) {
	pool := newPool(t)
	s := NewTransactions(pool)
	ctx := context.Background()
	for i := range 3 {
		require.NoError(t, s.Insert(ctx, row("org_l", fmt.Sprintf("txn_l%d", i), fmt.Sprintf("REF-L%d", i), "1")))
	}
	require.NoError(t, s.Insert(ctx, row("org_m", "txn_m0", "REF-M0", "1")))
	ids := func(rows []ingest.StoredTx) []string {
		out := []string{}
		for _, r := range rows {
			out = append(out, r.ID)
		}
		return out
	}
	for _, tt := range []struct {
		after string
		want  []string
	}{
		{"", []string{"txn_l2", "txn_l1", "txn_l0"}},
		{"txn_l2", []string{"txn_l1", "txn_l0"}},
		{"txn_l0", []string{}},
		{"txn_m0", []string{}},
		{"txn_unknown", []string{}},
	} {
		rows, err := s.List(ctx, "org_l", tt.after, 10)
		require.NoError(t, err, "after %q", tt.after)
		require.Equal(t, tt.want, ids(rows), "after %q", tt.after)
	}
}
