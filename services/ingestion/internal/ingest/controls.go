package ingest

import (
	"context"
	"strconv"

	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/platform/logging"
	"github.com/watchtower/authplane/services/ingestion/internal/txn"
)

// ControlsPatch is a partial update of the controls; nil keeps a value.
type ControlsPatch struct {
	ReviewAmount          *txn.Decimal
	BlockAmount           *txn.Decimal
	VelocityWindowSeconds *int
	VelocityMaxCount      *int
}

// GetControls returns the org's controls.
func (s *Service) GetControls(ctx context.Context, orgID string) (txn.Controls, error) {
	st, err := s.o.Settings.GetSettings(ctx, orgID)
	if err != nil {
		return txn.Controls{}, storeFailure(ctx, err)
	}
	return st.Controls, nil
}

// UpdateControls applies p and returns the new controls.
func (s *Service) UpdateControls(ctx context.Context, orgID string, p ControlsPatch) (txn.Controls, error) {
	c, err := s.GetControls(ctx, orgID)
	if err != nil {
		return c, err
	}
	var fields []apperr.FieldViolation
	if p.ReviewAmount != nil {
		c.ReviewAmount = *p.ReviewAmount
	}
	if p.BlockAmount != nil {
		c.BlockAmount = *p.BlockAmount
	}
	if p.VelocityWindowSeconds != nil {
		c.VelocityWindowSeconds = *p.VelocityWindowSeconds
	}
	if p.VelocityMaxCount != nil {
		c.VelocityMaxCount = *p.VelocityMaxCount
	}
	if c.ReviewAmount == "" || c.ReviewAmount.IsZero() {
		fields = append(fields, apperr.FieldViolation{Field: "reviewAmount", Reason: "must_be_positive"})
	}
	if c.BlockAmount == "" || c.BlockAmount.IsZero() {
		fields = append(fields, apperr.FieldViolation{Field: "blockAmount", Reason: "must_be_positive"})
	} else if c.ReviewAmount != "" && c.BlockAmount.Rat().Cmp(c.ReviewAmount.Rat()) < 0 {
		fields = append(fields, apperr.FieldViolation{Field: "blockAmount", Reason: "below_review_amount"})
	}
	if c.VelocityWindowSeconds < 1 || c.VelocityWindowSeconds > 86400 {
		fields = append(fields, apperr.FieldViolation{Field: "velocityWindowSeconds", Reason: "out_of_range"})
	}
	if c.VelocityMaxCount < 1 || c.VelocityMaxCount > 1_000_000 {
		fields = append(fields, apperr.FieldViolation{Field: "velocityMaxCount", Reason: "out_of_range"})
	}
	if len(fields) > 0 {
		return c, apperr.Validation(fields...)
	}
	ev := auditEvent(ctx, orgID, AuditControlsUpdated, orgID, map[string]string{
		"reviewAmount": string(c.ReviewAmount), "blockAmount": string(c.BlockAmount),
		"velocityWindowSeconds": strconv.Itoa(c.VelocityWindowSeconds), "velocityMaxCount": strconv.Itoa(c.VelocityMaxCount)})
	if err := s.o.Settings.PutControls(ctx, orgID, c, ev); err != nil {
		return c, storeFailure(ctx, err)
	}
	s.audited()
	s.forgetSettings(orgID)
	logging.FromContext(ctx).Info("controls updated", "org_id", orgID)
	return c, nil
}
