package txn

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/watchtower/authplane/platform/apperr"
)

// Reasons of the structural checks every string of the body goes through.
const (
	ReasonDuplicateKey     = "duplicate_key"
	ReasonInvalidCharacter = "invalid_character"
)

// scanner walks a valid JSON document token by token, naming each object
// member whose key repeats a sibling's and each key or string value that
// Postgres cannot store (U+0000, an unpaired UTF-16 surrogate escape).
type scanner struct {
	body   []byte
	dec    *json.Decoder
	fields []apperr.FieldViolation
}

// inspect returns the structural violations of body, which must already be
// valid JSON; nil means every key is unique within its object and every
// string is storable.
func inspect(body []byte) []apperr.FieldViolation {
	s := &scanner{body: body, dec: json.NewDecoder(bytes.NewReader(body))}
	s.dec.UseNumber()
	if !s.value("") {
		return []apperr.FieldViolation{{Field: "body", Reason: ReasonInvalid}}
	}
	return s.fields
}

func (s *scanner) bad(field, reason string) {
	s.fields = append(s.fields, apperr.FieldViolation{Field: field, Reason: reason})
}

// value consumes one JSON value found at path; false on a syntax error.
func (s *scanner) value(path string) bool {
	start := s.dec.InputOffset()
	tok, err := s.dec.Token()
	if err != nil {
		return false
	}
	switch v := tok.(type) {
	case string:
		if !s.storable(start, v) {
			s.bad(path, ReasonInvalidCharacter)
		}
	case json.Delim:
		switch v {
		case '{':
			seen := map[string]bool{}
			for s.dec.More() {
				kstart := s.dec.InputOffset()
				ktok, err := s.dec.Token()
				k, isKey := ktok.(string)
				if err != nil || !isKey {
					return false
				}
				kpath := memberPath(path, k)
				switch {
				case !s.storable(kstart, k):
					s.bad(kpath, ReasonInvalidCharacter)
				case seen[k]:
					s.bad(kpath, ReasonDuplicateKey)
				}
				seen[k] = true
				if !s.value(kpath) {
					return false
				}
			}
		case '[':
			for i := 0; s.dec.More(); i++ {
				if !s.value(path + "[" + strconv.Itoa(i) + "]") {
					return false
				}
			}
		default:
			return false
		}
		if _, err := s.dec.Token(); err != nil { // the closing delimiter
			return false
		}
	}
	return true
}

// memberPath names member key of the object at path. A character a client
// could not read back (U+0000, other controls) is shown as U+FFFD.
func memberPath(path, key string) string {
	key = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return utf8.RuneError
		}
		return r
	}, key)
	if path == "" {
		return key
	}
	return path + "." + key
}

// storable reports whether the string token decoded as decoded, whose
// literal starts at or after offset from, can be stored by Postgres: no
// U+0000 and no escape of an unpaired surrogate (which encoding/json
// silently turns into U+FFFD while the raw body keeps it).
func (s *scanner) storable(from int64, decoded string) bool {
	if strings.ContainsRune(decoded, 0) {
		return false
	}
	end := s.dec.InputOffset()
	lit := s.body[from:end]
	q := bytes.IndexByte(lit, '"')
	if q < 0 {
		return false
	}
	return escapesStorable(lit[q:])
}

// escapesStorable checks the \u escapes of the JSON string literal lit.
func escapesStorable(lit []byte) bool {
	for i := 0; i < len(lit); i++ {
		if lit[i] != '\\' {
			continue
		}
		i++
		if i >= len(lit) || lit[i] != 'u' {
			continue
		}
		r, ok := hex4(lit, i+1)
		if !ok {
			return false
		}
		i += 4
		switch {
		case r == 0:
			return false
		case utf16.IsSurrogate(r):
			// A high surrogate must be followed at once by an escaped low one.
			if r >= 0xdc00 || i+6 >= len(lit) || lit[i+1] != '\\' || lit[i+2] != 'u' {
				return false
			}
			lo, ok := hex4(lit, i+3)
			if !ok || lo < 0xdc00 || lo > 0xdfff {
				return false
			}
			i += 6
		}
	}
	return true
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[at:at+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}
