package txn

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Reasons of the structural checks every key, string and number of the body
// goes through.
const (
	ReasonDuplicateKey     = "duplicate_key"
	ReasonInvalidCharacter = "invalid_character"
	ReasonOutOfRange       = "out_of_range"
)

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
