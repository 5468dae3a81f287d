package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// generator makes realistic transactions, fully determined by (seed, n):
// the same seed and index always give the same body and idempotency key.
type generator struct{ seed uint64 }

var (
	channels   = []string{"MOBILE", "MOBILE", "MOBILE", "WEB", "WEB", "POS", "ATM", "USSD"}
	categories = []string{"TRANSFER", "TRANSFER", "PAYMENT", "WITHDRAWAL", "AIRTIME", "BILL"}
	currencies = []string{"NGN", "NGN", "NGN", "NGN", "USD", "GHS", "KES"}
	banks      = []string{"044", "058", "011", "033", "057", "232", "214"}
	firstNames = []string{"Ada", "Bola", "Chidi", "Dayo", "Emeka", "Funmi", "Gbenga", "Halima", "Ife", "Jide", "Kemi", "Lola"}
	lastNames  = []string{"Okafor", "Adeyemi", "Bello", "Eze", "Ibrahim", "Okonkwo", "Balogun", "Nwosu", "Lawal", "Musa"}
)

// epoch anchors the generated timestamps so bodies do not depend on the clock.
var epoch = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

type party struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	AccountNumber string `json:"accountNumber"`
	BankCode      string `json:"bankCode"`
	PartyType     string `json:"partyType"`
}

type device struct {
	DeviceID  string `json:"deviceId"`
	IPAddress string `json:"ipAddress"`
	UserAgent string `json:"userAgent"`
}

type transaction struct {
	Reference           string            `json:"reference"`
	Amount              json.Number       `json:"amount"`
	Currency            string            `json:"currency"`
	Channel             string            `json:"channel"`
	TransactionType     string            `json:"transactionType"`
	TransactionCategory string            `json:"transactionCategory"`
	Timestamp           string            `json:"timestamp"`
	Sender              party             `json:"sender"`
	Receiver            party             `json:"receiver"`
	Narration           string            `json:"narration"`
	Device              device            `json:"device"`
	Metadata            map[string]string `json:"metadata"`
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func customer(r *rand.Rand, seed uint64) party {
	n := r.IntN(5000)
	cr := rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15, uint64(n)))
	return party{
		ID:            fmt.Sprintf("CUST-%05d", n),
		Name:          pick(cr, firstNames) + " " + pick(cr, lastNames),
		AccountNumber: fmt.Sprintf("%010d", cr.Int64N(1e10)),
		BankCode:      pick(cr, banks),
		PartyType:     "BANK_ACCOUNT",
	}
}

// amount draws a log-normal amount (median about 5,000 major units) with
// the currency's decimals; roughly one in a few hundred crosses the default
// review threshold.
func amount(r *rand.Rand, currency string) json.Number {
	v := math.Exp(8.5 + 1.6*r.NormFloat64())
	v = math.Max(1, math.Min(v, 5e7))
	if currency == "NGN" || currency == "USD" || currency == "GHS" || currency == "KES" {
		return json.Number(fmt.Sprintf("%.2f", math.Round(v*100)/100))
	}
	return json.Number(fmt.Sprintf("%.0f", v))
}

// key is the idempotency key of transaction n.
func (g generator) key(n int) string { return fmt.Sprintf("wtsim-%d-%08d", g.seed, n) }

// body is the JSON body of transaction n.
func (g generator) body(n int) []byte {
	r := rand.New(rand.NewPCG(g.seed, uint64(n)))
	cur := pick(r, currencies)
	t := transaction{
		Reference:           fmt.Sprintf("SIM-%d-%08d", g.seed, n),
		Currency:            cur,
		Amount:              amount(r, cur),
		Channel:             pick(r, channels),
		TransactionType:     pick(r, []string{"DEBIT", "DEBIT", "CREDIT"}),
		TransactionCategory: pick(r, categories),
		Timestamp:           epoch.Add(time.Duration(n) * 250 * time.Millisecond).Format("2006-01-02T15:04:05.000Z"),
		Sender:              customer(r, g.seed),
		Receiver:            customer(r, g.seed),
		Narration:           pick(r, []string{"rent", "school fees", "groceries", "transfer", "airtime", "salary advance"}),
		Device: device{
			DeviceID:  fmt.Sprintf("dev-%06d", r.IntN(1_000_000)),
			IPAddress: fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), 1+r.IntN(254)),
			UserAgent: pick(r, []string{"WatchBank/5.2 (Android 14)", "WatchBank/5.2 (iOS 18)", "Mozilla/5.0"}),
		},
		Metadata: map[string]string{"sourceSystem": "wtsim", "upstreamReference": fmt.Sprintf("UP-%d-%d", g.seed, n)},
	}
	b, _ := json.Marshal(t)
	return b
}
