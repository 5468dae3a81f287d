package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
)

type scenarioConfig struct {
	Client       clientConfig
	ReviewAmount string
	BlockAmount  string
}

type scenario struct {
	name   string
	expect string
	run    func(ctx context.Context) (got string, ok bool)
}

// runScenarios runs the rollout checks and prints one row per check. It
// returns false when any check failed.
func runScenarios(ctx context.Context, cfg scenarioConfig, out io.Writer) (bool, error) {
	c, err := newClient(cfg.Client, 2)
	if err != nil {
		return false, err
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	run := hex.EncodeToString(b) // fresh references, keys and senders per run
	tx := func(name, amountValue string) []byte {
		t := map[string]any{
			"reference": "SCN-" + run + "-" + name, "amount": json.Number(amountValue), "currency": "NGN",
			"channel": "MOBILE", "transactionType": "DEBIT", "transactionCategory": "TRANSFER",
			"timestamp": "2026-12-01T10:00:00.000Z",
			"sender":    map[string]string{"id": "SCN-" + run + "-" + name + "-S", "name": "Ada Okafor", "partyType": "BANK_ACCOUNT"},
			"receiver":  map[string]string{"id": "SCN-" + run + "-R", "name": "Bola Adeyemi", "partyType": "BANK_ACCOUNT"},
			"narration": "wtsim scenario " + name,
		}
		out, _ := json.Marshal(t)
		return out
	}
	decision := func(r result) (accepted, string) {
		var a accepted
		if r.Err != nil {
			return a, "error: " + r.Err.Error()
		}
		if r.Status != http.StatusCreated {
			return a, fmt.Sprintf("%d %s", r.Status, r.errorCode())
		}
		_ = json.Unmarshal(r.Body, &a)
		return a, fmt.Sprintf("201 %s %v", a.Decision.Outcome, a.Decision.Reasons)
	}
	var first result
	firstBody := tx("allow", "2500.00")
	firstKey := "scn-" + run + "-allow"

	checks := []scenario{
		{"normal ALLOW", "201 ALLOW", func(ctx context.Context) (string, bool) {
			first = c.send(ctx, "", firstKey, firstBody)
			a, got := decision(first)
			return got, first.Status == http.StatusCreated && a.Decision.Outcome == "ALLOW"
		}},
		{"controlled REVIEW", "201 REVIEW [review_amount]", func(ctx context.Context) (string, bool) {
			r := c.send(ctx, "", "scn-"+run+"-review", tx("review", cfg.ReviewAmount))
			a, got := decision(r)
			return got, r.Status == http.StatusCreated && a.Decision.Outcome == "REVIEW" && slices.Contains(a.Decision.Reasons, "review_amount")
		}},
		{"controlled BLOCK", "201 BLOCK [.. block_amount]", func(ctx context.Context) (string, bool) {
			r := c.send(ctx, "", "scn-"+run+"-block", tx("block", cfg.BlockAmount))
			a, got := decision(r)
			return got, r.Status == http.StatusCreated && a.Decision.Outcome == "BLOCK" && slices.Contains(a.Decision.Reasons, "block_amount")
		}},
		{"duplicate retry, same idempotency-key", "201 replayed, same body", func(ctx context.Context) (string, bool) {
			r := c.send(ctx, "", firstKey, firstBody)
			_, got := decision(r)
			same := string(r.Body) == string(first.Body) && first.Status == http.StatusCreated
			if r.Replayed {
				got += " replayed"
			}
			if !same {
				got += " (body differs)"
			}
			return got, r.Status == http.StatusCreated && r.Replayed && same
		}},
		{"missing required field", "400 validation_failed sender", func(ctx context.Context) (string, bool) {
			var m map[string]any
			_ = json.Unmarshal(tx("missing", "100"), &m)
			delete(m, "sender")
			body, _ := json.Marshal(m)
			r := c.send(ctx, "", "scn-"+run+"-missing", body)
			if r.Err != nil {
				return "error: " + r.Err.Error(), false
			}
			var e envelope
			_ = json.Unmarshal(r.Body, &e)
			var fields []string
			for _, f := range e.Details.Fields {
				fields = append(fields, f.Field+":"+f.Reason)
			}
			return fmt.Sprintf("%d %s %s", r.Status, e.Error, strings.Join(fields, ",")),
				r.Status == http.StatusBadRequest && e.Error == "validation_failed" && slices.Contains(fields, "sender:required")
		}},
		{"invalid API key", "401 invalid_api_key", func(ctx context.Context) (string, bool) {
			k := cfg.Client.APIKey
			bad := k[:max(len(k)-1, 0)] + "a"
			if bad == k {
				bad = k[:len(k)-1] + "b"
			}
			r := c.send(ctx, bad, "scn-"+run+"-badkey", tx("badkey", "100"))
			if r.Err != nil {
				return "error: " + r.Err.Error(), false
			}
			return fmt.Sprintf("%d %s", r.Status, r.errorCode()), r.Status == http.StatusUnauthorized && r.errorCode() == "invalid_api_key"
		}},
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tEXPECTED\tGOT\tRESULT")
	allOK := true
	for _, s := range checks {
		got, ok := s.run(ctx)
		verdict := "PASS"
		if !ok {
			verdict, allOK = "FAIL", false
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.name, s.expect, got, verdict)
	}
	if err := tw.Flush(); err != nil {
		return false, err
	}
	return allOK, nil
}
