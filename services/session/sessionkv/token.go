package sessionkv

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// TokenBytes is the entropy of a session token.
const TokenBytes = 32

// TokenLen is the length of a token's text form: unpadded base64url of
// TokenBytes bytes.
const TokenLen = 43

// ErrMalformedToken means a string cannot be a session token. Nothing is
// looked up for it.
var ErrMalformedToken = errors.New("sessionkv: malformed session token")

// Token is a parsed session token. Its zero value is not usable.
type Token struct {
	// ID is the public session id: hex of the first 16 bytes of SHA-256(token).
	ID string
	// Hash is the full SHA-256 of the token in hex, as stored in FieldTokenHash.
	Hash string
}

// NewToken draws a fresh token from random (crypto/rand.Reader in
// production) and returns its text form and its parsed form.
func NewToken(random io.Reader) (string, Token, error) {
	var b [TokenBytes]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", Token{}, fmt.Errorf("sessionkv: read random: %w", err)
	}
	text := base64.RawURLEncoding.EncodeToString(b[:])
	return text, hashToken(text), nil
}

// ParseToken checks that s is exactly TokenLen characters of canonical
// unpadded base64url and returns its id and hash. Anything else is
// ErrMalformedToken.
func ParseToken(s string) (Token, error) {
	if len(s) != TokenLen {
		return Token{}, ErrMalformedToken
	}
	var b [TokenBytes]byte
	n, err := base64.RawURLEncoding.Strict().Decode(b[:], []byte(s))
	if err != nil || n != TokenBytes {
		return Token{}, ErrMalformedToken
	}
	return hashToken(s), nil
}

func hashToken(text string) Token {
	sum := sha256.Sum256([]byte(text))
	return Token{ID: hex.EncodeToString(sum[:16]), Hash: hex.EncodeToString(sum[:])}
}
