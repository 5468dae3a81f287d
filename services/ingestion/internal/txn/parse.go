package txn

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/watchtower/authplane/platform/apperr"
)

// A body is parsed once, by hand, into a tree of nodes that keep their raw
// literals: the tree gives the fingerprint, the structural checks and the
// fields, where encoding/json took four passes (Valid, Token, Decode into any,
// Marshal) and twice as much CPU as the rest of an ingestion.

type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindObject
	kindArray
)

// node is one JSON value of a parsed body.
type node struct {
	kind kind
	// raw is the value's literal as sent (for a string, with its quotes).
	raw []byte
	// str is a string's decoded value; escaped tells whether raw had any
	// backslash (otherwise str is raw without its quotes).
	str     string
	escaped bool
	members []member // object members, in body order
	elems   []*node  // array elements
}

type member struct {
	key string
	val *node
}

// get returns the member named key of an object node, or nil.
func (n *node) get(key string) *node {
	for i := range n.members {
		if n.members[i].key == key {
			return n.members[i].val
		}
	}
	return nil
}

// maxDepth is the deepest nesting accepted (encoding/json's own limit).
const maxDepth = 10000

// parser reads one JSON document (RFC 8259, UTF-8) and collects the
// structural violations every body is checked for: a member whose key
// repeats a sibling's, and a key or string that Postgres cannot store
// (U+0000, an unpaired UTF-16 surrogate escape).
type parser struct {
	b      []byte
	i      int
	fields []apperr.FieldViolation
	// at is where the parser is: the member keys and element indexes down
	// to the current value, turned into a field path only for a violation.
	at []segment
}

// segment is one step of a field path: an object member or (index >= 0)
// an array element.
type segment struct {
	key   string
	index int
}

// parse returns the document's tree and its structural violations; ok is
// false when body is not exactly one valid JSON value in valid UTF-8.
func parse(body []byte) (root *node, violations []apperr.FieldViolation, ok bool) {
	if !utf8.Valid(body) {
		return nil, nil, false
	}
	p := &parser{b: body}
	p.space()
	root, ok = p.value(0)
	if !ok {
		return nil, nil, false
	}
	p.space()
	if p.i != len(p.b) {
		return nil, nil, false
	}
	return root, p.fields, true
}

// bad records a violation at the current path.
func (p *parser) bad(reason string) {
	var path string
	for _, s := range p.at {
		if s.index >= 0 {
			path += "[" + strconv.Itoa(s.index) + "]"
		} else {
			path = memberPath(path, s.key)
		}
	}
	p.fields = append(p.fields, apperr.FieldViolation{Field: path, Reason: reason})
}

func (p *parser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (*node, bool) {
	if p.i >= len(p.b) {
		return nil, false
	}
	start := p.i
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		n, ok := p.string()
		if ok && !n.storable() {
			p.bad(ReasonInvalidCharacter)
		}
		return n, ok
	case c == '-' || c >= '0' && c <= '9':
		ok, storable := p.number()
		if !ok {
			return nil, false
		}
		if !storable {
			p.bad(ReasonOutOfRange)
		}
		return &node{kind: kindNumber, raw: p.b[start:p.i]}, true
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(p.b[p.i:], []byte(lit)) {
				p.i += len(lit)
				k := kindBool
				if lit == "null" {
					k = kindNull
				}
				return &node{kind: k, raw: p.b[start:p.i]}, true
			}
		}
		return nil, false
	}
}

func (p *parser) object(depth int) (*node, bool) {
	if depth > maxDepth {
		return nil, false
	}
	start := p.i
	n := &node{kind: kindObject}
	if p.open('}') {
		n.raw = p.b[start:p.i]
		return n, true
	}
	// Keys are checked for repeats by scanning the members, or through a
	// set once there are many (a body of thousands of keys stays linear).
	var seen map[string]struct{}
	for {
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, false
		}
		k, ok := p.string()
		if !ok {
			return nil, false
		}
		var repeated bool
		if seen != nil {
			_, repeated = seen[k.str]
		} else {
			repeated = n.get(k.str) != nil
		}
		p.at = append(p.at, segment{key: k.str, index: -1})
		switch {
		case !k.storable():
			p.bad(ReasonInvalidCharacter)
		case repeated:
			p.bad(ReasonDuplicateKey)
		}
		if seen == nil && len(n.members) >= 16 {
			seen = make(map[string]struct{}, 64)
			for _, m := range n.members {
				seen[m.key] = struct{}{}
			}
		}
		if seen != nil {
			seen[k.str] = struct{}{}
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, false
		}
		p.i++
		p.space()
		v, ok := p.value(depth)
		if !ok {
			return nil, false
		}
		p.at = p.at[:len(p.at)-1]
		n.members = append(n.members, member{key: k.str, val: v})
		if end, ok := p.next('}'); !ok {
			return nil, false
		} else if end {
			n.raw = p.b[start:p.i]
			return n, true
		}
	}
}

func (p *parser) array(depth int) (*node, bool) {
	if depth > maxDepth {
		return nil, false
	}
	start := p.i
	n := &node{kind: kindArray}
	if p.open(']') {
		n.raw = p.b[start:p.i]
		return n, true
	}
	for {
		p.space()
		p.at = append(p.at, segment{index: len(n.elems)})
		v, ok := p.value(depth)
		if !ok {
			return nil, false
		}
		p.at = p.at[:len(p.at)-1]
		n.elems = append(n.elems, v)
		if end, ok := p.next(']'); !ok {
			return nil, false
		} else if end {
			n.raw = p.b[start:p.i]
			return n, true
		}
	}
}

// open consumes a container's opening delimiter and the space after it; true
// when the container is empty (its closing delimiter consumed too).
func (p *parser) open(closing byte) bool {
	p.i++
	p.space()
	if p.i < len(p.b) && p.b[p.i] == closing {
		p.i++
		return true
	}
	return false
}

// next consumes what follows a member or element: a comma (more follow) or
// the closing delimiter (end); ok is false on anything else.
func (p *parser) next(closing byte) (end, ok bool) {
	p.space()
	if p.i >= len(p.b) {
		return false, false
	}
	switch p.b[p.i] {
	case ',':
		p.i++
		return false, true
	case closing:
		p.i++
		return true, true
	}
	return false, false
}

// Bounds of a number Postgres is sure to store in jsonb (its numeric type
// fails beyond about 1e131072 or 1e-16383, as a 500 would show).
const (
	maxNumberDigits   = 1000
	maxNumberExponent = 1000
)

// number consumes a JSON number, -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?;
// storable is false when it has more than maxNumberDigits digits or an
// exponent beyond ±maxNumberExponent.
func (p *parser) number() (ok, storable bool) {
	b := p.b
	if p.i < len(b) && b[p.i] == '-' {
		p.i++
	}
	digits := 0
	switch {
	case p.i < len(b) && b[p.i] == '0':
		p.i++
		digits = 1
	case p.i < len(b) && b[p.i] >= '1' && b[p.i] <= '9':
		digits = p.digits()
	default:
		return false, false
	}
	if p.i < len(b) && b[p.i] == '.' {
		p.i++
		n := p.digits()
		if n == 0 {
			return false, false
		}
		digits += n
	}
	storable = digits <= maxNumberDigits
	if p.i < len(b) && (b[p.i] == 'e' || b[p.i] == 'E') {
		p.i++
		if p.i < len(b) && (b[p.i] == '+' || b[p.i] == '-') {
			p.i++
		}
		from := p.i
		if p.digits() == 0 {
			return false, false
		}
		exp := bytes.TrimLeft(b[from:p.i], "0")
		if len(exp) > 4 || len(exp) == 4 && string(exp) > "1000" {
			storable = false
		}
	}
	return true, storable
}

func (p *parser) digits() int {
	n := 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}

// string consumes a string literal and decodes it. Lone surrogate escapes
// decode to U+FFFD, as in encoding/json; storable tells them apart.
func (p *parser) string() (*node, bool) {
	start := p.i
	p.i++ // opening quote
	escaped := false
	for {
		if p.i >= len(p.b) {
			return nil, false
		}
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			n := &node{kind: kindString, raw: p.b[start:p.i], escaped: escaped}
			inner := p.b[start+1 : p.i-1]
			if !escaped {
				n.str = string(inner)
				return n, true
			}
			s, ok := unescape(inner)
			if !ok {
				return nil, false
			}
			n.str = s
			return n, true
		case c < 0x20:
			return nil, false
		case c == '\\':
			escaped = true
			p.i++
			if p.i >= len(p.b) {
				return nil, false
			}
			switch p.b[p.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i++
			case 'u':
				if _, ok := hex4(p.b, p.i+1); !ok {
					return nil, false
				}
				p.i += 5
			default:
				return nil, false
			}
		default:
			p.i++
		}
	}
}

// unescape decodes the inside of a string literal already checked by
// parser.string.
func unescape(in []byte) (string, bool) {
	var sb strings.Builder
	sb.Grow(len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c != '\\' {
			sb.WriteByte(c)
			continue
		}
		i++
		switch in[i] {
		case '"', '\\', '/':
			sb.WriteByte(in[i])
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'u':
			r, ok := hex4(in, i+1)
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r < 0xdc00 && i+6 < len(in) && in[i+1] == '\\' && in[i+2] == 'u' {
					if lo, ok := hex4(in, i+3); ok && lo >= 0xdc00 && lo <= 0xdfff {
						sb.WriteRune(utf16.DecodeRune(r, lo))
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			sb.WriteRune(r)
		default:
			return "", false
		}
	}
	return sb.String(), true
}

// storable reports whether Postgres can store the string (or key) n: no
// U+0000 and no unpaired surrogate escape.
func (n *node) storable() bool {
	if !n.escaped {
		return true // raw control characters are not valid JSON
	}
	return !strings.ContainsRune(n.str, 0) && escapesStorable(n.raw[1:])
}

// canonical appends n's canonical form to dst: object members sorted by key,
// no whitespace, numbers as written, strings as encoding/json writes them;
// byte for byte what json.Marshal gives for the value decoded with
// UseNumber, so fingerprints are those of earlier releases. n must be free
// of structural violations (no repeated key).
func (n *node) canonical(dst []byte) []byte {
	switch n.kind {
	case kindString:
		return appendJSONString(dst, n.str)
	case kindObject:
		ms := slices.Clone(n.members)
		slices.SortStableFunc(ms, func(a, b member) int { return strings.Compare(a.key, b.key) })
		dst = append(dst, '{')
		for i, m := range ms {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, m.key)
			dst = append(dst, ':')
			dst = m.val.canonical(dst)
		}
		return append(dst, '}')
	case kindArray:
		dst = append(dst, '[')
		for i, e := range n.elems {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = e.canonical(dst)
		}
		return append(dst, ']')
	default:
		return append(dst, n.raw...)
	}
}

// appendJSONString writes the decoded string s as encoding/json does:
// between quotes when it holds nothing encoding/json escapes (the common
// case), else through json.Marshal itself.
func appendJSONString(dst []byte, s string) []byte {
	if plainJSON(s) {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	out, _ := json.Marshal(s) // a Go string always marshals
	return append(dst, out...)
}

// plainJSON reports whether encoding/json writes s between quotes unchanged:
// no control character, quote, backslash, HTML-sensitive <, >, & or
// U+2028/U+2029 (s is valid UTF-8).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9):
			return false
		}
	}
	return true
}

// fingerprint is the SHA-256 (hex) of n's canonical form.
func (n *node) fingerprint() string {
	sum := sha256.Sum256(n.canonical(make([]byte, 0, len(n.raw))))
	return hex.EncodeToString(sum[:])
}
