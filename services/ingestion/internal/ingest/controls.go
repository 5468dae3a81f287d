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

// UpdateControls applies p and returns the new controls. The store reads
// and writes the row under a lock, so concurrent partial updates of
// different fields both take effect. A change is audited with the values
// it replaced; a patch that changes nothing writes nothing.
func (s *Service) UpdateControls(ctx context.Context, orgID string, p ControlsPatch) (txn.Controls, error) {
	var invalid error
	changed := false
	c, err := s.o.Settings.UpdateControls(ctx, orgID, func(cur txn.Controls) (txn.Controls, *AuditEvent, error) {
		next, err := p.apply(cur)
		if err != nil {
			invalid = err
			return cur, nil, err
		}
		data := controlsData(cur, next)
		if data == nil {
			return next, nil, nil
		}
		changed = true
		ev := auditEvent(ctx, orgID, AuditControlsUpdated, orgID, data)
		return next, &ev, nil
	})
	if invalid != nil {
		return c, invalid
	}
	if err != nil {
		return c, storeFailure(ctx, err)
	}
	if changed {
		s.audited()
		s.forgetSettings(orgID)
		logging.FromContext(ctx).Info("controls updated", "target_org_id", orgID)
	}
	return c, nil
}

// apply returns c with p applied, or the validation failure.
func (p ControlsPatch) apply(c txn.Controls) (txn.Controls, error) {
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
	return c, nil
}

// controlsData is the audit data of a change from cur to next: the new
// values, and "previous…" for each value that changed; nil when nothing did.
func controlsData(cur, next txn.Controls) map[string]string {
	data := map[string]string{
		"reviewAmount": string(next.ReviewAmount), "blockAmount": string(next.BlockAmount),
		"velocityWindowSeconds": strconv.Itoa(next.VelocityWindowSeconds), "velocityMaxCount": strconv.Itoa(next.VelocityMaxCount),
	}
	changed := false
	if cur.ReviewAmount.Rat().Cmp(next.ReviewAmount.Rat()) != 0 {
		data["previousReviewAmount"], changed = string(cur.ReviewAmount), true
	}
	if cur.BlockAmount.Rat().Cmp(next.BlockAmount.Rat()) != 0 {
		data["previousBlockAmount"], changed = string(cur.BlockAmount), true
	}
	if cur.VelocityWindowSeconds != next.VelocityWindowSeconds {
		data["previousVelocityWindowSeconds"], changed = strconv.Itoa(cur.VelocityWindowSeconds), true
	}
	if cur.VelocityMaxCount != next.VelocityMaxCount {
		data["previousVelocityMaxCount"], changed = strconv.Itoa(cur.VelocityMaxCount), true
	}
	if !changed {
		return nil
	}
	return data
}
