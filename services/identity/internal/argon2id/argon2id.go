// Package argon2id hashes and verifies passwords with Argon2id (RFC 9106),
// encoded as PHC strings:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt, base64 without padding>$<key, base64 without padding>
//
// Verify parses strictly: anything but that exact shape (other variants or
// versions, extra or reordered parameters, leading zeros, padded or
// non-canonical base64, out-of-range sizes) is an error, never a match.
package argon2id

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the Argon2id cost parameters of new hashes.
type Params struct {
	// MemoryKiB is the memory cost in KiB.
	MemoryKiB uint32
	// Time is the number of passes.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
	// SaltLen and KeyLen are in bytes.
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams is OWASP's baseline for Argon2id: 19 MiB, 2 passes, 1 lane,
// a 16-byte salt and a 32-byte key.
var DefaultParams = Params{MemoryKiB: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on what a stored hash may declare, so a corrupt or hostile hash
// cannot make Verify allocate gigabytes or spin for minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 64
	maxThreads   = 255
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
)

// ErrMalformed means a PHC string is not a well-formed argon2id hash.
var ErrMalformed = errors.New("argon2id: malformed PHC string")

// Validate reports parameters that are weaker than DefaultParams or outside
// what Verify accepts.
func (p Params) Validate() error {
	switch {
	case p.MemoryKiB < DefaultParams.MemoryKiB || p.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("argon2id: memory %d KiB must be within [%d, %d]", p.MemoryKiB, DefaultParams.MemoryKiB, maxMemoryKiB)
	case p.Time < DefaultParams.Time || p.Time > maxTime:
		return fmt.Errorf("argon2id: time %d must be within [%d, %d]", p.Time, DefaultParams.Time, maxTime)
	case p.Threads < 1:
		return errors.New("argon2id: threads must be at least 1")
	case p.SaltLen < 16 || p.SaltLen > maxSaltLen:
		return fmt.Errorf("argon2id: salt length %d must be within [16, %d]", p.SaltLen, maxSaltLen)
	case p.KeyLen < 32 || p.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2id: key length %d must be within [32, %d]", p.KeyLen, maxKeyLen)
	}
	return nil
}

// Hasher hashes with fixed parameters and a random source.
type Hasher struct {
	params Params
	rand   io.Reader
}

// New returns a Hasher for p. random may be nil for crypto/rand.
func New(p Params, random io.Reader) (*Hasher, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if random == nil {
		random = rand.Reader
	}
	return &Hasher{params: p, rand: random}, nil
}

// Params returns the parameters of new hashes.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the PHC string of password under a fresh random salt.
func (h *Hasher) Hash(password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := io.ReadFull(h.rand, salt); err != nil {
		return "", fmt.Errorf("argon2id: read salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, h.params.Time, h.params.MemoryKiB, h.params.Threads, h.params.KeyLen)
	return Encode(h.params, salt, key), nil
}

// Verify reports whether password matches phc, and whether phc was made with
// parameters other than the Hasher's (so the caller should store a new hash
// after a successful check). A malformed phc is an error wrapping
// ErrMalformed. The key comparison takes constant time.
func (h *Hasher) Verify(phc, password string) (ok, needsRehash bool, err error) {
	d, err := Parse(phc)
	if err != nil {
		return false, false, err
	}
	key := argon2.IDKey([]byte(password), d.Salt, d.Params.Time, d.Params.MemoryKiB, d.Params.Threads, uint32(len(d.Key)))
	if subtle.ConstantTimeCompare(key, d.Key) != 1 {
		return false, false, nil
	}
	return true, d.Params != h.params, nil
}

// Decoded is a parsed PHC string.
type Decoded struct {
	Params Params
	Salt   []byte
	Key    []byte
}

var b64 = base64.RawStdEncoding.Strict()

// Encode returns the PHC string of a salt and key made with p; p.SaltLen and
// p.KeyLen are taken from the slices.
func Encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Parse decodes an argon2id PHC string strictly.
func Parse(phc string) (Decoded, error) {
	var d Decoded
	if len(phc) > 512 {
		return d, fmt.Errorf("%w: too long", ErrMalformed)
	}
	parts := strings.Split(phc, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" {
		return d, fmt.Errorf("%w: want 5 $-separated fields", ErrMalformed)
	}
	if parts[1] != "argon2id" {
		return d, fmt.Errorf("%w: algorithm is not argon2id", ErrMalformed)
	}
	v, ok := strings.CutPrefix(parts[2], "v=")
	if !ok {
		return d, fmt.Errorf("%w: missing version", ErrMalformed)
	}
	if ver, err := parseUint(v, argon2.Version); err != nil || ver != argon2.Version {
		return d, fmt.Errorf("%w: unsupported version", ErrMalformed)
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return d, fmt.Errorf("%w: want parameters m,t,p", ErrMalformed)
	}
	m, err := param(params[0], "m=", maxMemoryKiB)
	if err != nil {
		return d, err
	}
	t, err := param(params[1], "t=", maxTime)
	if err != nil {
		return d, err
	}
	p, err := param(params[2], "p=", maxThreads)
	if err != nil {
		return d, err
	}
	// Argon2 requires at least 8 KiB of memory per lane.
	if t < 1 || p < 1 || m < 8*p {
		return d, fmt.Errorf("%w: parameters out of range", ErrMalformed)
	}
	// The decoder skips \r and \n; a strict parser must not.
	if !b64Alphabet(parts[4]) || !b64Alphabet(parts[5]) {
		return d, fmt.Errorf("%w: bad base64", ErrMalformed)
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return d, fmt.Errorf("%w: bad salt", ErrMalformed)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return d, fmt.Errorf("%w: bad key", ErrMalformed)
	}
	d.Params = Params{MemoryKiB: m, Time: t, Threads: uint8(p), SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	d.Salt, d.Key = salt, key
	return d, nil
}

func param(s, prefix string, max uint32) (uint32, error) {
	v, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, fmt.Errorf("%w: want %s", ErrMalformed, prefix)
	}
	n, err := parseUint(v, max)
	if err != nil {
		return 0, fmt.Errorf("%w: %s%s", ErrMalformed, prefix, err)
	}
	return n, nil
}

// parseUint accepts only canonical decimal: digits, no sign, no leading zero.
func parseUint(s string, max uint32) (uint32, error) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, errors.New("not a canonical number")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a canonical number")
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n > uint64(max) {
		return 0, errors.New("out of range")
	}
	return uint32(n), nil
}

func b64Alphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}
