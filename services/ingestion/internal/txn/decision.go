package txn

import (
	"math/big"
	"time"
)

// Outcomes.
const (
	Allow  = "ALLOW"
	Review = "REVIEW"
	Block  = "BLOCK"
)

// Control names, as listed in Decision.Reasons.
const (
	ControlReviewAmount = "review_amount"
	ControlBlockAmount  = "block_amount"
	ControlVelocity     = "velocity"
)

// Controls are an organization's baseline controls.
type Controls struct {
	ReviewAmount          Decimal
	BlockAmount           Decimal
	VelocityWindowSeconds int
	VelocityMaxCount      int
}

// DefaultControls are a new organization's controls (API.md).
func DefaultControls() Controls {
	return Controls{ReviewAmount: "1000000", BlockAmount: "10000000", VelocityWindowSeconds: 600, VelocityMaxCount: 20}
}

// VelocityWindow is the window as a duration.
func (c Controls) VelocityWindow() time.Duration {
	return time.Duration(c.VelocityWindowSeconds) * time.Second
}

// Decision is the outcome of the controls for one transaction.
type Decision struct {
	Outcome   string   `json:"outcome"`
	RiskScore int      `json:"riskScore"`
	Reasons   []string `json:"reasons"`
}

// Decide applies c to an amount and the number of transactions from the
// same sender inside the velocity window, this one included. The score is
// 0 when nothing fires, 50 for the review amount, 90 for the block amount,
// plus 30 for velocity, capped at 100.
func Decide(c Controls, amount Decimal, senderCount int) Decision {
	d := Decision{Outcome: Allow, Reasons: []string{}}
	a := amount.Rat()
	score := 0
	if a.Cmp(c.ReviewAmount.Rat()) >= 0 {
		d.Reasons = append(d.Reasons, ControlReviewAmount)
		d.Outcome, score = Review, 50
	}
	if a.Cmp(c.BlockAmount.Rat()) >= 0 {
		d.Reasons = append(d.Reasons, ControlBlockAmount)
		d.Outcome, score = Block, 90
	}
	if c.VelocityMaxCount > 0 && senderCount > c.VelocityMaxCount {
		d.Reasons = append(d.Reasons, ControlVelocity)
		if d.Outcome == Allow {
			d.Outcome = Review
		}
		score += 30
	}
	d.RiskScore = min(score, 100)
	return d
}

// ParseAmount reads a control threshold ("1000000", "999.99") exactly.
func ParseAmount(s string) (Decimal, bool) {
	d, _, negative, ok := parseDecimal(s)
	if !ok || negative {
		return "", false
	}
	return d, true
}

// Float returns d as a float64, for display only.
func (d Decimal) Float() float64 {
	f, _ := new(big.Float).SetRat(d.Rat()).Float64()
	return f
}
