// Package txn decodes and validates the body of POST /api/v1/transactions
// (API.md "Ingestion") and decides it against an organization's baseline
// controls. It is pure: no store, no clock beyond what is passed in.
package txn

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/watchtower/authplane/platform/apperr"
)

// Party is the sender or the receiver.
type Party struct {
	ID            string `json:"id"`
	Name          string `json:"name,omitempty"`
	AccountNumber string `json:"accountNumber,omitempty"`
	BankCode      string `json:"bankCode,omitempty"`
	PartyType     string `json:"partyType,omitempty"`
}

// Device describes where the transaction was initiated.
type Device struct {
	DeviceID  string `json:"deviceId,omitempty"`
	IPAddress string `json:"ipAddress,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
}

// Transaction is a decoded, valid transaction.
type Transaction struct {
	Reference           string
	Amount              Decimal
	Currency            string
	Channel             string
	TransactionType     string
	TransactionCategory string
	Timestamp           time.Time
	Sender              Party
	Receiver            Party
	Narration           string
	Device              *Device
	// Metadata is the metadata object as sent (compact JSON), or nil.
	Metadata json.RawMessage
}

// ErrInvalidJSON means the body is not one JSON object.
var ErrInvalidJSON = errors.New("txn: body is not a JSON object")

var (
	tokenRE     = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)
	topLevel    = fieldSet("reference", "amount", "currency", "channel", "transactionType", "transactionCategory", "timestamp", "sender", "receiver", "narration", "device", "metadata")
	partyFields = fieldSet("id", "name", "accountNumber", "bankCode", "partyType")
	devFields   = fieldSet("deviceId", "ipAddress", "userAgent")
)

func fieldSet(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Field reasons used in details.fields.
const (
	ReasonRequired        = "required"
	ReasonInvalid         = "invalid"
	ReasonUnknownField    = "unknown_field"
	ReasonTooLong         = "too_long"
	ReasonMustBePositive  = "must_be_positive"
	ReasonTooManyDecimals = "too_many_decimals"
	ReasonUnknownCurrency = "unknown_currency"
)

// maxMetadata bounds the metadata object.
const maxMetadata = 8 << 10

type decoder struct {
	fields []apperr.FieldViolation
}

func (d *decoder) bad(field, reason string) {
	d.fields = append(d.fields, apperr.FieldViolation{Field: field, Reason: reason})
}

// object decodes raw as a JSON object of raw members. Decode refuses
// duplicate members before calling it (encoding/json would keep the last).
func object(raw []byte) (map[string]json.RawMessage, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, false
	}
	if dec.More() {
		return nil, false
	}
	return m, true
}

// Decode parses and validates body. It returns ErrInvalidJSON when body is
// not exactly one JSON object, and an *apperr.Error validation_failed naming
// every offending field otherwise. A body with a duplicated member (at any
// depth) or a string Postgres cannot store (U+0000, an unpaired surrogate
// escape, in any key or value, metadata included) is refused with only
// those fields named: the rest of such a body is ambiguous.
func Decode(body []byte) (*Transaction, error) {
	if !utf8.Valid(body) || !json.Valid(body) {
		return nil, ErrInvalidJSON
	}
	m, ok := object(body)
	if !ok {
		return nil, ErrInvalidJSON
	}
	if fields := inspect(body); len(fields) > 0 {
		return nil, apperr.Validation(fields...)
	}
	d := &decoder{}
	t := &Transaction{}
	var unknown []string
	for k := range m {
		if !topLevel[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		d.bad(k, ReasonUnknownField)
	}

	t.Reference = d.str(m, "reference", "reference", true, 128)
	var scale int
	if raw, ok := present(m, "amount"); !ok {
		d.bad("amount", ReasonRequired)
	} else {
		t.Amount, scale = d.amount(raw)
	}
	if c := d.str(m, "currency", "currency", true, 3); c != "" {
		if digits, known := MinorUnits(c); !known {
			d.bad("currency", ReasonUnknownCurrency)
		} else if t.Amount != "" && scale > digits {
			d.bad("amount", ReasonTooManyDecimals)
		} else {
			t.Currency = c
		}
	}
	t.Channel = d.token(m, "channel")
	t.TransactionType = d.token(m, "transactionType")
	t.TransactionCategory = d.token(m, "transactionCategory")
	if ts := d.str(m, "timestamp", "timestamp", true, 64); ts != "" {
		parsed, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			d.bad("timestamp", ReasonInvalid)
		} else {
			t.Timestamp = parsed.UTC()
		}
	}
	t.Sender = d.party(m, "sender")
	t.Receiver = d.party(m, "receiver")
	t.Narration = d.str(m, "narration", "narration", false, 512)
	t.Device = d.device(m)
	if raw, ok := present(m, "metadata"); ok {
		sub, isObj := object(raw)
		switch {
		case !isObj:
			d.bad("metadata", ReasonInvalid)
		case len(raw) > maxMetadata:
			d.bad("metadata", ReasonTooLong)
		default:
			compact, _ := json.Marshal(sub)
			t.Metadata = compact
		}
	}
	if len(d.fields) > 0 {
		return nil, apperr.Validation(d.fields...)
	}
	return t, nil
}

// present returns m[key] unless it is absent or JSON null.
func present(m map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	raw, ok := m[key]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return nil, false
	}
	return raw, true
}

func (d *decoder) str(m map[string]json.RawMessage, key, field string, required bool, maxLen int) string {
	raw, ok := present(m, key)
	if !ok {
		if required {
			d.bad(field, ReasonRequired)
		}
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		d.bad(field, ReasonInvalid)
		return ""
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		d.bad(field, ReasonRequired)
		return ""
	case utf8.RuneCountInString(s) > maxLen:
		d.bad(field, ReasonTooLong)
		return ""
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		d.bad(field, ReasonInvalid)
		return ""
	}
	return s
}

func (d *decoder) token(m map[string]json.RawMessage, key string) string {
	s := d.str(m, key, key, true, 64)
	if s != "" && !tokenRE.MatchString(s) {
		d.bad(key, ReasonInvalid)
		return ""
	}
	return s
}

func (d *decoder) amount(raw json.RawMessage) (Decimal, int) {
	lit := string(bytes.TrimSpace(raw))
	if strings.HasPrefix(lit, `"`) {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			d.bad("amount", ReasonInvalid)
			return "", 0
		}
		lit = s
		if strings.ContainsAny(lit, "eE") {
			d.bad("amount", ReasonInvalid) // strings must be plain decimals
			return "", 0
		}
	} else if lit == "" || !(lit[0] == '-' || lit[0] >= '0' && lit[0] <= '9') {
		d.bad("amount", ReasonInvalid)
		return "", 0
	}
	dec, scale, negative, ok := parseDecimal(lit)
	switch {
	case !ok:
		d.bad("amount", ReasonInvalid)
		return "", 0
	case negative || dec.IsZero():
		d.bad("amount", ReasonMustBePositive)
		return "", 0
	}
	return dec, scale
}

func (d *decoder) party(m map[string]json.RawMessage, key string) Party {
	raw, ok := present(m, key)
	if !ok {
		d.bad(key, ReasonRequired)
		return Party{}
	}
	sub, isObj := object(raw)
	if !isObj {
		d.bad(key, ReasonInvalid)
		return Party{}
	}
	d.unknown(sub, partyFields, key)
	p := Party{
		ID:            d.str(sub, "id", key+".id", true, 128),
		Name:          d.str(sub, "name", key+".name", false, 256),
		AccountNumber: d.str(sub, "accountNumber", key+".accountNumber", false, 64),
		BankCode:      d.str(sub, "bankCode", key+".bankCode", false, 32),
		PartyType:     d.str(sub, "partyType", key+".partyType", false, 64),
	}
	if p.PartyType != "" && !tokenRE.MatchString(p.PartyType) {
		d.bad(key+".partyType", ReasonInvalid)
	}
	return p
}

func (d *decoder) device(m map[string]json.RawMessage) *Device {
	raw, ok := present(m, "device")
	if !ok {
		return nil
	}
	sub, isObj := object(raw)
	if !isObj {
		d.bad("device", ReasonInvalid)
		return nil
	}
	d.unknown(sub, devFields, "device")
	dev := &Device{
		DeviceID:  d.str(sub, "deviceId", "device.deviceId", false, 256),
		IPAddress: d.str(sub, "ipAddress", "device.ipAddress", false, 64),
		UserAgent: d.str(sub, "userAgent", "device.userAgent", false, 512),
	}
	if dev.IPAddress != "" && net.ParseIP(dev.IPAddress) == nil {
		d.bad("device.ipAddress", ReasonInvalid)
	}
	return dev
}

func (d *decoder) unknown(m map[string]json.RawMessage, allowed map[string]bool, parent string) {
	var names []string
	for k := range m {
		if !allowed[k] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		d.bad(parent+"."+k, ReasonUnknownField)
	}
}

// Fingerprint returns the SHA-256 (hex) of body's canonical JSON form
// (object keys sorted, whitespace dropped, numbers kept as written), so two
// bodies that differ only in key order or spacing share a fingerprint. It
// returns ok false when body is not valid JSON, or when its canonical form
// would hide a difference: a duplicated member (only the last survives) or
// an unstorable string (an unpaired surrogate escape reads as U+FFFD).
func Fingerprint(body []byte) (string, bool) {
	if !json.Valid(body) || len(inspect(body)) > 0 {
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return "", false
	}
	canon, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), true
}
