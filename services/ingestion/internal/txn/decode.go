// Package txn decodes and validates the body of POST /api/v1/transactions
// (API.md "Ingestion") and decides it against an organization's baseline
// controls. It is pure: no store, no clock beyond what is passed in.
package txn

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"sort"
	"strconv"
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

// Parse reads body once. It returns the body's fingerprint (see
// Fingerprint; the SHA-256 of the raw bytes when the body has no canonical
// form) and the transaction, or ErrInvalidJSON when body is not exactly one
// JSON object, or an *apperr.Error validation_failed naming every offending
// field. A body with a duplicated member (at any depth) or a string Postgres
// cannot store (U+0000, an unpaired surrogate escape, in any key or value,
// metadata included) is refused with only those fields named: the rest of
// such a body is ambiguous.
func Parse(body []byte) (fingerprint string, t *Transaction, err error) {
	root, violations, ok := parse(body)
	if ok && len(violations) == 0 {
		fingerprint = root.fingerprint()
	} else {
		sum := sha256.Sum256(body)
		fingerprint = hex.EncodeToString(sum[:])
	}
	switch {
	case !ok || root.kind != kindObject:
		return fingerprint, nil, ErrInvalidJSON
	case len(violations) > 0:
		return fingerprint, nil, apperr.Validation(violations...)
	}
	t, err = decode(root)
	return fingerprint, t, err
}

// Decode parses and validates body (Parse without the fingerprint).
func Decode(body []byte) (*Transaction, error) {
	_, t, err := Parse(body)
	return t, err
}

func decode(root *node) (*Transaction, error) {
	d := &decoder{}
	t := &Transaction{}
	d.unknown(root, topLevel, "")

	t.Reference = d.str(root, "reference", "reference", true, 128)
	var scale int
	if v := present(root, "amount"); v == nil {
		d.bad("amount", ReasonRequired)
	} else {
		t.Amount, scale = d.amount(v)
	}
	if c := d.str(root, "currency", "currency", true, 3); c != "" {
		if digits, known := MinorUnits(c); !known {
			d.bad("currency", ReasonUnknownCurrency)
		} else if t.Amount != "" && scale > digits {
			d.bad("amount", ReasonTooManyDecimals)
		} else {
			t.Currency = c
		}
	}
	t.Channel = d.token(root, "channel")
	t.TransactionType = d.token(root, "transactionType")
	t.TransactionCategory = d.token(root, "transactionCategory")
	if ts := d.str(root, "timestamp", "timestamp", true, 64); ts != "" {
		parsed, err := time.Parse(time.RFC3339Nano, ts)
		switch {
		case err != nil || !validOffset(ts):
			d.bad("timestamp", ReasonInvalid)
		case parsed.UTC().Year() < 1 || parsed.UTC().Year() > 9999:
			// Years 0000 and 9999 with an offset leave the range that
			// Postgres and protobuf timestamps share.
			d.bad("timestamp", ReasonOutOfRange)
		default:
			t.Timestamp = parsed.UTC()
		}
	}
	t.Sender = d.party(root, "sender")
	t.Receiver = d.party(root, "receiver")
	t.Narration = d.str(root, "narration", "narration", false, 512)
	t.Device = d.device(root)
	if v := present(root, "metadata"); v != nil {
		switch {
		case v.kind != kindObject:
			d.bad("metadata", ReasonInvalid)
		case len(v.raw) > maxMetadata:
			d.bad("metadata", ReasonTooLong)
		default:
			t.Metadata = v.canonical(nil)
		}
	}
	if len(d.fields) > 0 {
		return nil, apperr.Validation(d.fields...)
	}
	return t, nil
}

// present returns the member key of the object obj unless it is absent or
// JSON null.
func present(obj *node, key string) *node {
	v := obj.get(key)
	if v == nil || v.kind == kindNull {
		return nil
	}
	return v
}

func (d *decoder) str(obj *node, key, field string, required bool, maxLen int) string {
	v := present(obj, key)
	if v == nil {
		if required {
			d.bad(field, ReasonRequired)
		}
		return ""
	}
	if v.kind != kindString {
		d.bad(field, ReasonInvalid)
		return ""
	}
	s := strings.TrimSpace(v.str)
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

func (d *decoder) token(obj *node, key string) string {
	s := d.str(obj, key, key, true, 64)
	if s != "" && !isToken(s) {
		d.bad(key, ReasonInvalid)
		return ""
	}
	return s
}

// isToken reports whether s is an upper-case word: [A-Z][A-Z0-9_]{0,63}.
func isToken(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func (d *decoder) amount(v *node) (Decimal, int) {
	var lit string
	switch v.kind {
	case kindString:
		lit = v.str
		if strings.ContainsAny(lit, "eE") {
			d.bad("amount", ReasonInvalid) // strings must be plain decimals
			return "", 0
		}
	case kindNumber:
		lit = string(v.raw)
	default:
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

func (d *decoder) party(obj *node, key string) Party {
	v := present(obj, key)
	if v == nil {
		d.bad(key, ReasonRequired)
		return Party{}
	}
	if v.kind != kindObject {
		d.bad(key, ReasonInvalid)
		return Party{}
	}
	d.unknown(v, partyFields, key)
	p := Party{
		ID:            d.str(v, "id", key+".id", true, 128),
		Name:          d.str(v, "name", key+".name", false, 256),
		AccountNumber: d.str(v, "accountNumber", key+".accountNumber", false, 64),
		BankCode:      d.str(v, "bankCode", key+".bankCode", false, 32),
		PartyType:     d.str(v, "partyType", key+".partyType", false, 64),
	}
	if p.PartyType != "" && !isToken(p.PartyType) {
		d.bad(key+".partyType", ReasonInvalid)
	}
	return p
}

func (d *decoder) device(obj *node) *Device {
	v := present(obj, "device")
	if v == nil {
		return nil
	}
	if v.kind != kindObject {
		d.bad("device", ReasonInvalid)
		return nil
	}
	d.unknown(v, devFields, "device")
	dev := &Device{
		DeviceID:  d.str(v, "deviceId", "device.deviceId", false, 256),
		IPAddress: d.str(v, "ipAddress", "device.ipAddress", false, 64),
		UserAgent: d.str(v, "userAgent", "device.userAgent", false, 512),
	}
	if dev.IPAddress != "" && net.ParseIP(dev.IPAddress) == nil {
		d.bad("device.ipAddress", ReasonInvalid)
	}
	return dev
}

// unknown names, in key order, each member of obj not in allowed.
func (d *decoder) unknown(obj *node, allowed map[string]bool, parent string) {
	var names []string
	for _, m := range obj.members {
		if !allowed[m.key] {
			names = append(names, m.key)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		d.bad(memberPath(parent, k), ReasonUnknownField)
	}
}

// Fingerprint returns the SHA-256 (hex) of body's canonical JSON form
// (object keys sorted, whitespace dropped, numbers kept as written), so two
// bodies that differ only in key order or spacing share a fingerprint. It
// returns ok false when body is not valid JSON, or when its canonical form
// would hide a difference: a duplicated member (only the last survives) or
// an unstorable string (an unpaired surrogate escape reads as U+FFFD).
func Fingerprint(body []byte) (string, bool) {
	root, violations, ok := parse(body)
	if !ok || len(violations) > 0 {
		return "", false
	}
	return root.fingerprint(), true
}

// validOffset reports whether the timestamp's UTC offset is one RFC 3339
// allows, "Z" or ±hh:mm with hh 00-23 and mm 00-59 (time.Parse takes
// +24:00 and beyond, and minute 60 as the next hour).
func validOffset(ts string) bool {
	if strings.HasSuffix(ts, "Z") {
		return true
	}
	if len(ts) < 6 {
		return false
	}
	off := ts[len(ts)-6:]
	if off[0] != '+' && off[0] != '-' || off[3] != ':' {
		return false
	}
	h, herr := strconv.Atoi(off[1:3])
	m, merr := strconv.Atoi(off[4:6])
	return herr == nil && merr == nil && h <= 23 && m <= 59
}
