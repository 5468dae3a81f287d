package txn

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/apperr"
)

const validBody = `{"reference":"TXN-000123","amount":25000,"currency":"NGN","channel":"MOBILE",
"transactionType":"DEBIT","transactionCategory":"TRANSFER","timestamp":"2026-12-01T10:00:00.000Z",
"sender":{"id":"C-1","name":"Ada","accountNumber":"0123456789","bankCode":"058","partyType":"BANK_ACCOUNT"},
"receiver":{"id":"C-2","name":"Bo","accountNumber":"9876543210","bankCode":"011","partyType":"BANK_ACCOUNT"},
"narration":"rent","device":{"deviceId":"d-1","ipAddress":"10.0.0.1","userAgent":"app/1.0"},
"metadata":{"sourceSystem":"core","upstreamReference":"U-1"}}`

func TestDecodeValid(t *testing.T) {
	tx, err := Decode([]byte(validBody))
	require.NoError(t, err)
	require.Equal(t, "TXN-000123", tx.Reference)
	require.Equal(t, Decimal("25000"), tx.Amount)
	require.Equal(t, "NGN", tx.Currency)
	require.Equal(t, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), tx.Timestamp)
	require.Equal(t, "C-1", tx.Sender.ID)
	require.Equal(t, "10.0.0.1", tx.Device.IPAddress)
	require.JSONEq(t, `{"sourceSystem":"core","upstreamReference":"U-1"}`, string(tx.Metadata))
}

// with replaces one top-level member of validBody (value "" deletes it).
func with(key, value string) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(validBody), &m); err != nil {
		panic(err)
	}
	if value == "" {
		delete(m, key)
	} else {
		m[key] = []byte(value)
	}
	var b strings.Builder
	b.WriteString("{")
	first := true
	for k, v := range m {
		if !first {
			b.WriteString(",")
		}
		first = false
		b.WriteString(`"` + k + `":` + string(v))
	}
	b.WriteString("}")
	return b.String()
}

func TestDecodeAmount(t *testing.T) {
	for _, tt := range []struct {
		name, amount, currency string
		want                   Decimal
		reason                 string
	}{
		{"integer number", `25000`, `"NGN"`, "25000", ""},
		{"decimal number", `25000.50`, `"NGN"`, "25000.5", ""},
		{"decimal string", `"25000.05"`, `"NGN"`, "25000.05", ""},
		{"exponent number", `2.5e4`, `"NGN"`, "25000", ""},
		{"15 significant digits stay exact", `1234567890123.45`, `"USD"`, "1234567890123.45", ""},
		{"15 digits as string", `"9999999999999.99"`, `"USD"`, "9999999999999.99", ""},
		{"three decimals in KWD", `1.125`, `"KWD"`, "1.125", ""},
		{"too many decimals for NGN", `1.125`, `"NGN"`, "", ReasonTooManyDecimals},
		{"decimals on JPY", `10.5`, `"JPY"`, "", ReasonTooManyDecimals},
		{"trailing zeros do not count", `10.00`, `"JPY"`, "10", ""},
		{"zero", `0`, `"NGN"`, "", ReasonMustBePositive},
		{"negative", `-5`, `"NGN"`, "", ReasonMustBePositive},
		{"boolean", `true`, `"NGN"`, "", ReasonInvalid},
		{"object", `{}`, `"NGN"`, "", ReasonInvalid},
		{"string with exponent", `"1e3"`, `"NGN"`, "", ReasonInvalid},
		{"string garbage", `"12abc"`, `"NGN"`, "", ReasonInvalid},
		{"string with sign", `"+12"`, `"NGN"`, "", ReasonInvalid},
		{"huge", `1e30`, `"NGN"`, "", ReasonInvalid},
		{"null", `null`, `"NGN"`, "", ReasonRequired},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.Replace(with("amount", tt.amount), `"NGN"`, tt.currency, 1)
			tx, err := Decode([]byte(body))
			if tt.reason == "" {
				require.NoError(t, err)
				require.Equal(t, tt.want, tx.Amount)
				return
			}
			e, ok := apperr.As(err)
			require.True(t, ok, "err %v", err)
			require.Contains(t, e.Fields, apperr.FieldViolation{Field: "amount", Reason: tt.reason})
		})
	}
}

func TestDecodeFieldErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		body string
		want []string
	}{
		{"missing reference", with("reference", ""), []string{"reference" + ":" + ReasonRequired}},
		{"blank reference", with("reference", `"  "`), []string{"reference" + ":" + ReasonRequired}},
		{"reference not a string", with("reference", `12`), []string{"reference" + ":" + ReasonInvalid}},
		{"unknown currency", with("currency", `"XYZ"`), []string{"currency" + ":" + ReasonUnknownCurrency}},
		{"lower-case currency", with("currency", `"ngn"`), []string{"currency" + ":" + ReasonUnknownCurrency}},
		{"missing channel", with("channel", ""), []string{"channel" + ":" + ReasonRequired}},
		{"bad transactionType", with("transactionType", `"de bit"`), []string{"transactionType" + ":" + ReasonInvalid}},
		{"bad timestamp", with("timestamp", `"yesterday"`), []string{"timestamp" + ":" + ReasonInvalid}},
		{"missing sender", with("sender", ""), []string{"sender" + ":" + ReasonRequired}},
		{"sender without id", with("sender", `{"name":"x"}`), []string{"sender.id" + ":" + ReasonRequired}},
		{"receiver not an object", with("receiver", `"C-2"`), []string{"receiver" + ":" + ReasonInvalid}},
		{"unknown top-level field", with("colour", `"red"`), []string{"colour" + ":" + ReasonUnknownField}},
		{"unknown sender field", with("sender", `{"id":"C-1","x":1}`), []string{"sender.x" + ":" + ReasonUnknownField}},
		{"bad device ip", with("device", `{"ipAddress":"999.1.1.1"}`), []string{"device.ipAddress" + ":" + ReasonInvalid}},
		{"metadata not an object", with("metadata", `[1]`), []string{"metadata" + ":" + ReasonInvalid}},
		{"control character", with("narration", `"a\u0001b"`), []string{"narration" + ":" + ReasonInvalid}},
		{"too long reference", with("reference", `"`+strings.Repeat("r", 129)+`"`), []string{"reference" + ":" + ReasonTooLong}},
		{"several at once", `{"amount":"x","currency":"NGN"}`, []string{
			"reference" + ":" + ReasonRequired, "amount" + ":" + ReasonInvalid, "channel" + ":" + ReasonRequired,
			"transactionType" + ":" + ReasonRequired, "transactionCategory" + ":" + ReasonRequired, "timestamp" + ":" + ReasonRequired,
			"sender" + ":" + ReasonRequired, "receiver" + ":" + ReasonRequired}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.body))
			e, ok := apperr.As(err)
			require.True(t, ok, "err %v", err)
			require.Equal(t, "validation_failed", e.Reason)
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field+":"+f.Reason)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestDecodeInvalidJSON(t *testing.T) {
	for _, body := range []string{``, `[]`, `"x"`, `{`, `{} {}`, `{"a":1,}`, "{\"a\":\"\xff\"}", `null`} {
		_, err := Decode([]byte(body))
		require.ErrorIs(t, err, ErrInvalidJSON, body)
	}
}

func TestFingerprintIgnoresOrderAndSpace(t *testing.T) {
	a, ok := Fingerprint([]byte(`{"a":1,"b":{"c":"x","d":[1,2]}}`))
	require.True(t, ok)
	b, _ := Fingerprint([]byte("{ \"b\" : {\"d\":[1, 2], \"c\":\"x\"},\n\"a\": 1 }"))
	c, _ := Fingerprint([]byte(`{"a":2,"b":{"c":"x","d":[1,2]}}`))
	require.Equal(t, a, b)
	require.NotEqual(t, a, c)
}

func TestDecide(t *testing.T) {
	c := DefaultControls()
	for _, tt := range []struct {
		name    string
		amount  Decimal
		count   int
		outcome string
		score   int
		reasons []string
	}{
		{"small", "100", 1, Allow, 0, []string{}},
		{"just below review", "999999.99", 1, Allow, 0, []string{}},
		{"at review", "1000000", 1, Review, 50, []string{ControlReviewAmount}},
		{"at block", "10000000", 1, Block, 90, []string{ControlReviewAmount, ControlBlockAmount}},
		{"velocity at the limit", "100", 20, Allow, 0, []string{}},
		{"velocity over the limit", "100", 21, Review, 30, []string{ControlVelocity}},
		{"block and velocity", "20000000", 21, Block, 100, []string{ControlReviewAmount, ControlBlockAmount, ControlVelocity}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(c, tt.amount, tt.count)
			require.Equal(t, Decision{Outcome: tt.outcome, RiskScore: tt.score, Reasons: tt.reasons}, d)
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(validBody))
	f.Add([]byte(`{"amount":"1e999"}`))
	f.Add([]byte(`{"amount":1e-999,"currency":"BHD"}`))
	f.Add([]byte(`{"amount":1,"amount":2,"metadata":{"a":"\u0000","\ud800":{"b":1,"b":2}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		tx, err := Decode(body)
		if err == nil {
			require.NotEmpty(t, tx.Reference)
			require.False(t, tx.Amount.IsZero())
			_, ok := Fingerprint(body)
			require.True(t, ok)
			return
		}
		if errors.Is(err, ErrInvalidJSON) {
			return
		}
		e, ok := apperr.As(err)
		require.True(t, ok, "unexpected error %v", err)
		require.Equal(t, apperr.KindInvalid, e.Kind)
		require.NotEmpty(t, e.Fields)
	})
}

// withMeta is validBody with metadata replaced by the raw JSON meta.
func withMeta(meta string) string { return with("metadata", meta) }

func TestDecodeRefusesUnstorableAndDuplicated(t *testing.T) {
	const head = `{"reference":"R-1","amount":1,"currency":"NGN","channel":"MOBILE","transactionType":"DEBIT",
"transactionCategory":"TRANSFER","timestamp":"2026-12-01T10:00:00Z",`
	const parties = `"sender":{"id":"C-1"},"receiver":{"id":"C-2"}`
	for _, tt := range []struct {
		name string
		body string
		want []string
	}{
		{"NUL in a metadata value", withMeta(`{"sourceSystem":"a\u0000b"}`), []string{"metadata.sourceSystem:" + ReasonInvalidCharacter}},
		{"NUL in a metadata key", withMeta(`{"a\u0000":"x"}`), []string{"metadata.a\uFFFD:" + ReasonInvalidCharacter}},
		{"NUL in nested metadata", withMeta(`{"a":{"b":["ok","\u0000"]}}`), []string{"metadata.a.b[1]:" + ReasonInvalidCharacter}},
		{"unpaired high surrogate in metadata", withMeta(`{"a":"x\ud800"}`), []string{"metadata.a:" + ReasonInvalidCharacter}},
		{"high surrogate before a non-surrogate escape", withMeta(`{"a":"\ud800\u0041"}`), []string{"metadata.a:" + ReasonInvalidCharacter}},
		{"lone low surrogate in metadata", withMeta(`{"a":"\udc00"}`), []string{"metadata.a:" + ReasonInvalidCharacter}},
		{"reversed surrogate pair", withMeta(`{"a":"\udc00\ud800"}`), []string{"metadata.a:" + ReasonInvalidCharacter}},
		{"unpaired surrogate in a metadata key", withMeta(`{"\ud83d":1}`), []string{"metadata.\uFFFD:" + ReasonInvalidCharacter}},
		{"NUL in narration", with("narration", `"a\u0000b"`), []string{"narration:" + ReasonInvalidCharacter}},
		{"unpaired surrogate in narration", with("narration", `"\ud800"`), []string{"narration:" + ReasonInvalidCharacter}},
		{"NUL in sender.name", with("sender", `{"id":"C-1","name":"A\u0000"}`), []string{"sender.name:" + ReasonInvalidCharacter}},
		{"NUL in device.userAgent", with("device", `{"userAgent":"\u0000"}`), []string{"device.userAgent:" + ReasonInvalidCharacter}},
		{"duplicate top-level amount", head + `"amount":99999999,` + parties + `}`, []string{"amount:" + ReasonDuplicateKey}},
		{"duplicate spelled with an escape", head + `"\u0061mount":99999999,` + parties + `}`, []string{"amount:" + ReasonDuplicateKey}},
		{"duplicate in sender", head + `"sender":{"id":"C-1","id":"C-9"},"receiver":{"id":"C-2"}}`, []string{"sender.id:" + ReasonDuplicateKey}},
		{"duplicate in receiver", head + `"sender":{"id":"C-1"},"receiver":{"id":"C-2","name":"a","name":"b"}}`, []string{"receiver.name:" + ReasonDuplicateKey}},
		{"duplicate in device", with("device", `{"ipAddress":"10.0.0.1","ipAddress":"10.0.0.2"}`), []string{"device.ipAddress:" + ReasonDuplicateKey}},
		{"duplicate in metadata", withMeta(`{"a":1,"a":2}`), []string{"metadata.a:" + ReasonDuplicateKey}},
		{"duplicate deep in metadata", withMeta(`{"a":[{"b":1,"c":2,"b":3}]}`), []string{"metadata.a[0].b:" + ReasonDuplicateKey}},
		{"duplicate object member", head + parties + `,"sender":{"id":"C-1"}}`, []string{"sender:" + ReasonDuplicateKey}},
		// Regression: Postgres' numeric refused these inside the jsonb payload (a 500).
		{"huge number in metadata", withMeta(`{"a":1e1000000}`), []string{"metadata.a:" + ReasonOutOfRange}},
		{"tiny number in metadata", withMeta(`{"a":[1e-16384]}`), []string{"metadata.a[0]:" + ReasonOutOfRange}},
		{"exponent with leading zeros", withMeta(`{"a":-1E+0001001}`), []string{"metadata.a:" + ReasonOutOfRange}},
		{"exponent too long to parse", withMeta(`{"a":1E+999999999999999999999}`), []string{"metadata.a:" + ReasonOutOfRange}},
		{"too many digits", withMeta(`{"a":0.` + strings.Repeat("1", 1000) + `}`), []string{"metadata.a:" + ReasonOutOfRange}},
		{"huge amount", with("amount", `1e400000`), []string{"amount:" + ReasonOutOfRange}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.body))
			e, ok := apperr.As(err)
			require.True(t, ok, "err %v", err)
			require.Equal(t, "validation_failed", e.Reason)
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field+":"+f.Reason)
			}
			require.Equal(t, tt.want, got)
			_, ok = Fingerprint([]byte(tt.body))
			require.False(t, ok, "a refused body has no canonical fingerprint")
		})
	}
}

func TestDecodeAcceptsNumbersAtTheBounds(t *testing.T) {
	for _, meta := range []string{`{"a":1e1000}`, `{"a":-1E-1000}`, `{"a":1e+0001000}`, `{"a":0.` + strings.Repeat("9", 998) + `}`} {
		_, err := Decode([]byte(withMeta(meta)))
		require.NoError(t, err, "%.40s", meta)
	}
}

// Regression: a timestamp that is year 0 in UTC was stored, and the
// transaction list then failed to encode it (a 500 for the whole page).
func TestDecodeTimestampRange(t *testing.T) {
	for _, tt := range []struct {
		ts     string
		reason string
	}{
		{"0000-01-01T00:00:00Z", ReasonOutOfRange},
		{"0001-01-01T00:00:00+01:00", ReasonOutOfRange},
		{"9999-12-31T23:59:59-01:00", ReasonOutOfRange},
		{"0001-01-01T00:00:00Z", ""},
		{"9999-12-31T23:59:59.999Z", ""},
		{"2026-12-01T10:00:00+01:00", ""},
		{"2026-12-01T10:00:00+23:59", ""},
		{"2026-12-01T10:00:00-23:59", ""},
		// Regression: an offset of 24 hours or more was accepted.
		{"2026-12-01T10:00:00+24:00", ReasonInvalid},
		{"2026-12-01T10:00:00-24:00", ReasonInvalid},
		{"2026-12-01T10:00:00+99:00", ReasonInvalid},
		{"2026-12-01T10:00:00+00:60", ReasonInvalid},
		{"2026-12-01T10:00:00-12:60", ReasonInvalid},
		{"2026-12-01T10:00:00.123456+05:30", ""},
	} {
		t.Run(tt.ts, func(t *testing.T) {
			tx, err := Decode([]byte(with("timestamp", `"`+tt.ts+`"`)))
			if tt.reason == "" {
				require.NoError(t, err)
				want, _ := time.Parse(time.RFC3339Nano, tt.ts)
				require.True(t, want.Equal(tx.Timestamp))
				return
			}
			e, ok := apperr.As(err)
			require.True(t, ok, "err %v", err)
			require.Equal(t, []apperr.FieldViolation{{Field: "timestamp", Reason: tt.reason}}, e.Fields)
		})
	}
}

func TestDecodeAcceptsStorableEscapes(t *testing.T) {
	for _, tt := range []struct{ name, meta, want string }{
		{"surrogate pair", `{"a":"\ud83d\ude00"}`, `{"a":"😀"}`},
		{"literal replacement character", `{"a":"\ufffd"}`, `{"a":"` + "\uFFFD" + `"}`},
		{"escaped backslash before u", `{"a":"\\u0000"}`, `{"a":"\\u0000"}`},
		{"same key in sibling objects", `{"x":{"a":1},"y":{"a":1}}`, `{"x":{"a":1},"y":{"a":1}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tx, err := Decode([]byte(withMeta(tt.meta)))
			require.NoError(t, err)
			require.JSONEq(t, tt.want, string(tx.Metadata))
		})
	}
}
