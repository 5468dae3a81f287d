package grpcapi

import (
	"context"
	"encoding/base64"
	"math"
	"strconv"
	"strings"

	"github.com/watchtower/authplane/platform/apperr"
	ingestionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/ingestion/v1"
	"github.com/watchtower/authplane/services/ingestion/internal/ingest"
	"github.com/watchtower/authplane/services/ingestion/internal/txn"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func controlsToProto(c txn.Controls) *ingestionv1.Controls {
	return &ingestionv1.Controls{
		ReviewAmount: c.ReviewAmount.Float(), BlockAmount: c.BlockAmount.Float(),
		VelocityWindowSeconds: int32(c.VelocityWindowSeconds), VelocityMaxCount: int32(c.VelocityMaxCount),
	}
}

// amountFromDouble converts a JSON number threshold to an exact decimal via
// its shortest round-trip representation.
func amountFromDouble(field string, v float64) (*txn.Decimal, error) {
	if math.IsNaN(v) || v <= 0 {
		return nil, apperr.Validation(apperr.FieldViolation{Field: field, Reason: "must_be_positive"})
	}
	d, ok := txn.ParseAmount(strconv.FormatFloat(v, 'f', -1, 64))
	if math.IsInf(v, 0) || !ok || d.IsZero() {
		// Positive, but not an amount Postgres and the decision hold (too
		// large, or too small to be anything but zero).
		return nil, apperr.Validation(apperr.FieldViolation{Field: field, Reason: "out_of_range"})
	}
	return &d, nil
}

// GetControls returns the org's controls.
func (s *Server) GetControls(ctx context.Context, req *ingestionv1.GetControlsRequest) (*ingestionv1.GetControlsResponse, error) {
	org, err := orgOf(ctx, req.GetOrgId())
	if err != nil {
		return nil, err
	}
	c, err := s.svc.GetControls(ctx, org)
	if err != nil {
		return nil, err
	}
	return &ingestionv1.GetControlsResponse{Controls: controlsToProto(c)}, nil
}

// UpdateControls changes the org's controls.
func (s *Server) UpdateControls(ctx context.Context, req *ingestionv1.UpdateControlsRequest) (*ingestionv1.UpdateControlsResponse, error) {
	org, err := orgOf(ctx, req.GetOrgId())
	if err != nil {
		return nil, err
	}
	var p ingest.ControlsPatch
	if req.ReviewAmount != nil {
		if p.ReviewAmount, err = amountFromDouble("reviewAmount", req.GetReviewAmount()); err != nil {
			return nil, err
		}
	}
	if req.BlockAmount != nil {
		if p.BlockAmount, err = amountFromDouble("blockAmount", req.GetBlockAmount()); err != nil {
			return nil, err
		}
	}
	if req.VelocityWindowSeconds != nil {
		v := int(req.GetVelocityWindowSeconds())
		p.VelocityWindowSeconds = &v
	}
	if req.VelocityMaxCount != nil {
		v := int(req.GetVelocityMaxCount())
		p.VelocityMaxCount = &v
	}
	c, err := s.svc.UpdateControls(ctx, org, p)
	if err != nil {
		return nil, err
	}
	return &ingestionv1.UpdateControlsResponse{Controls: controlsToProto(c)}, nil
}

// A page token is the id of the previous page's last transaction, encoded
// ("t" + id, base64url); it names no count of anything.
func pageToken(afterID string) string {
	if afterID == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte("t" + afterID))
}

func parsePageToken(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil && len(b) > 1 && len(b) <= 128 && b[0] == 't' && validTxnID(string(b[1:])) {
		return string(b[1:]), nil
	}
	return "", apperr.Invalid("invalid_page_token", "the page token is not valid")
}

// validTxnID reports whether id has the shape of a transaction id
// ("txn_" and lower-case letters or digits).
func validTxnID(id string) bool {
	rest, ok := strings.CutPrefix(id, "txn_")
	if !ok || rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// ListTransactions lists the org's transactions.
func (s *Server) ListTransactions(ctx context.Context, req *ingestionv1.ListTransactionsRequest) (*ingestionv1.ListTransactionsResponse, error) {
	org, err := orgOf(ctx, req.GetOrgId())
	if err != nil {
		return nil, err
	}
	after, err := parsePageToken(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	page, err := s.svc.ListTransactions(ctx, org, after, int(req.GetPageSize()))
	if err != nil {
		return nil, err
	}
	out := &ingestionv1.ListTransactionsResponse{NextPageToken: pageToken(page.NextAfterID), Transactions: []*ingestionv1.Transaction{}}
	for _, t := range page.Transactions {
		reasons := t.Decision.Reasons
		if reasons == nil {
			reasons = []string{}
		}
		out.Transactions = append(out.Transactions, &ingestionv1.Transaction{
			Id: t.ID, Reference: t.Tx.Reference, Amount: string(t.Tx.Amount), Currency: t.Tx.Currency,
			Channel: t.Tx.Channel, TransactionType: t.Tx.TransactionType, TransactionCategory: t.Tx.TransactionCategory,
			Timestamp: timestamppb.New(t.Tx.Timestamp), ReceivedAt: timestamppb.New(t.ReceivedAt),
			Decision: &ingestionv1.Decision{Outcome: t.Decision.Outcome, RiskScore: int32(t.Decision.RiskScore), Reasons: reasons},
		})
	}
	return out, nil
}
