package txn

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/apperr"
)

// referenceFingerprint is the fingerprint as earlier releases computed it
// with encoding/json (decode with UseNumber, marshal); Redis holds records
// made that way for 24 hours, so the hand-written parser must agree.
func referenceFingerprint(t testing.TB, body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	canon, err := json.Marshal(v)
	require.NoError(t, err)
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:])
}

func TestParseValidity(t *testing.T) {
	for _, tt := range []struct {
		name string
		body string
		ok   bool
	}{
		{"empty", ``, false},
		{"spaces only", "  \n", false},
		{"object", ` {"a" : [1, -0.5e+3, "x", true, false, null, {}, []] } `, true},
		{"scalar", `42`, true},
		{"leading zero", `{"a":01}`, false},
		{"bare minus", `{"a":-}`, false},
		{"dot without digits", `{"a":1.}`, false},
		{"exponent without digits", `{"a":1e}`, false},
		{"plus sign", `{"a":+1}`, false},
		{"hex", `{"a":0x10}`, false},
		{"NaN", `{"a":NaN}`, false},
		{"trailing comma in object", `{"a":1,}`, false},
		{"trailing comma in array", `[1,]`, false},
		{"missing colon", `{"a" 1}`, false},
		{"single quotes", `{'a':1}`, false},
		{"unquoted key", `{a:1}`, false},
		{"truncated literal", `{"a":tru}`, false},
		{"two documents", `{} {}`, false},
		{"raw control in string", "{\"a\":\"x\ty\"}", false},
		{"bad escape", `{"a":"\x"}`, false},
		{"short unicode escape", `{"a":"\u12"}`, false},
		{"unterminated string", `{"a":"x}`, false},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", false},
		{"vertical tab is not space", "\v{}", false},
		{"all escapes", `{"a":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, ok := parse([]byte(tt.body))
			require.Equal(t, tt.ok, ok)
			require.Equal(t, utf8.ValidString(tt.body) && json.Valid([]byte(tt.body)), ok, "agrees with encoding/json")
		})
	}
}

func TestParseDepthLimit(t *testing.T) {
	deep := func(n int) []byte { return []byte(strings.Repeat("[", n) + strings.Repeat("]", n)) }
	_, _, ok := parse(deep(maxDepth))
	require.True(t, ok)
	_, _, ok = parse(deep(maxDepth + 1))
	require.False(t, ok)
	require.False(t, json.Valid(deep(maxDepth+1)), "encoding/json has the same limit")
}

func TestParseFindsRepeatsInLargeObjects(t *testing.T) {
	// Past 16 members the repeat check switches to a set: both halves count.
	var b strings.Builder
	b.WriteString(`{"m":{`)
	for i := range 40 {
		b.WriteString(`"k` + strconv.Itoa(i) + `":1,`)
	}
	b.WriteString(`"k3":2,"k39":3,"k40":4}}`)
	_, violations, ok := parse([]byte(b.String()))
	require.True(t, ok)
	require.Equal(t, []apperr.FieldViolation{
		{Field: "m.k3", Reason: ReasonDuplicateKey},
		{Field: "m.k39", Reason: ReasonDuplicateKey},
	}, violations)
}

func TestFingerprintMatchesEncodingJSON(t *testing.T) {
	for _, body := range []string{
		validBody,
		`{"b":1,"a":{"d":[1,2.50,-3e2],"c":"x"}}`,
		`{"html":"<a href=\"x\">&</a>","sep":"\u2028\u2029","ctl":"\u0001\b\f\n\r\t","esc":"\u00e9\/"}`,
		"{\"raw\":\"caf\u00e9 \u2028 \U0001F600\"}",
		`{"":"","  ":" "}`,
		`["z",{"y":null,"x":true}]`,
		`{"Z":1,"a":2,"_":3,"é":4,"e\u0301":5}`,
	} {
		got, ok := Fingerprint([]byte(body))
		require.True(t, ok, body)
		require.Equal(t, referenceFingerprint(t, []byte(body)), got, body)
	}
}

// FuzzFingerprintMatchesEncodingJSON checks the hand-written parser against
// encoding/json: the same bodies are valid, and a body free of structural
// violations has the fingerprint encoding/json's canonical form gives.
func FuzzFingerprintMatchesEncodingJSON(f *testing.F) {
	f.Add([]byte(validBody))
	f.Add([]byte(`{"a":"<\u2028>","b":[1,{"c":"\ud83d\ude00"}],"d":-0.0e-0}`))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		root, violations, ok := parse(body)
		require.Equal(t, utf8.Valid(body) && json.Valid(body), ok)
		if !ok || len(violations) > 0 {
			return
		}
		require.Equal(t, referenceFingerprint(t, body), root.fingerprint())
	})
}

func BenchmarkParse(b *testing.B) {
	body := []byte(validBody)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}
