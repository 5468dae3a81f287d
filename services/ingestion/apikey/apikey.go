// Package apikey is the format of organization API key secrets:
//
//	wt_<env>_<body><check>
//
// where env is "live" or "test", body is 32 random bytes (256 bits) in
// lower-case unpadded base32 (52 characters) and check is the first 4 bytes of
// SHA-256 over everything before it, in the same alphabet (7 characters). A
// mistyped, truncated or tampered secret fails Parse without any store
// look-up.
//
// Secrets are stored only as HMAC-SHA256 under a server pepper: the secret is
// high-entropy, so a slow hash adds nothing, and the pepper means a leaked
// table cannot even be used to confirm a guessed secret.
package apikey

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"io"
	"strings"
)

// Environments.
const (
	EnvLive = "live"
	EnvTest = "test"
)

const (
	bodyBytes  = 32
	bodyLen    = 52 // base32 of 32 bytes, unpadded
	checkLen   = 7  // base32 of 4 bytes, unpadded
	headerLen  = len("wt_live_")
	secretLen  = headerLen + bodyLen + checkLen
	prefixBody = 8
)

var enc = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ErrMalformed means the string is not a well-formed secret: wrong prefix,
// length, alphabet or checksum.
var ErrMalformed = errors.New("apikey: malformed secret")

// Parsed is a well-formed secret.
type Parsed struct {
	Secret      string
	Environment string
	// Prefix is the display prefix kept in clear ("wt_live_abcdefgh").
	Prefix string
}

// ValidEnvironment reports whether env is "live" or "test".
func ValidEnvironment(env string) bool { return env == EnvLive || env == EnvTest }

// Generate returns a new secret for env, reading 32 bytes from random.
func Generate(env string, random io.Reader) (Parsed, error) {
	if !ValidEnvironment(env) {
		return Parsed{}, errors.New("apikey: environment must be live or test")
	}
	b := make([]byte, bodyBytes)
	if _, err := io.ReadFull(random, b); err != nil {
		return Parsed{}, err
	}
	head := "wt_" + env + "_" + enc.EncodeToString(b)
	s := head + checksum(head)
	return Parsed{Secret: s, Environment: env, Prefix: s[:headerLen+prefixBody]}, nil
}

func checksum(head string) string {
	sum := sha256.Sum256([]byte(head))
	return enc.EncodeToString(sum[:4])
}

// Parse checks the format and checksum of s; it never touches a store.
func Parse(s string) (Parsed, error) {
	if len(s) != secretLen {
		return Parsed{}, ErrMalformed
	}
	var env string
	switch {
	case strings.HasPrefix(s, "wt_live_"):
		env = EnvLive
	case strings.HasPrefix(s, "wt_test_"):
		env = EnvTest
	default:
		return Parsed{}, ErrMalformed
	}
	body := s[headerLen : headerLen+bodyLen]
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return Parsed{}, ErrMalformed
		}
	}
	// The last base32 character of 32 bytes carries 4 padding bits: insist
	// they are zero (the encoding round-trips) so exactly one string encodes
	// each key.
	raw, err := enc.DecodeString(body)
	if err != nil || enc.EncodeToString(raw) != body {
		return Parsed{}, ErrMalformed
	}
	head := s[:headerLen+bodyLen]
	if !hmac.Equal([]byte(checksum(head)), []byte(s[headerLen+bodyLen:])) {
		return Parsed{}, ErrMalformed
	}
	return Parsed{Secret: s, Environment: env, Prefix: s[:headerLen+prefixBody]}, nil
}

// Hasher hashes secrets with the server pepper.
type Hasher struct{ pepper []byte }

// NewHasher returns a Hasher; the pepper must be at least 32 bytes.
func NewHasher(pepper []byte) (*Hasher, error) {
	if len(pepper) < 32 {
		return nil, errors.New("apikey: pepper must be at least 32 bytes")
	}
	return &Hasher{pepper: append([]byte(nil), pepper...)}, nil
}

// Hash returns the hex HMAC-SHA256 of secret, the only form that is stored.
func (h *Hasher) Hash(secret string) string {
	m := hmac.New(sha256.New, h.pepper)
	m.Write([]byte(secret))
	return hex.EncodeToString(m.Sum(nil))
}
