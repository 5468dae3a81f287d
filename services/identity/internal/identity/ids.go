package identity

import (
	"encoding/base32"
	"fmt"
	"io"
)

// ID prefixes tell an id's kind at a glance; the rest is opaque.
const (
	prefixOrg   = "org_"
	prefixUser  = "usr_"
	prefixAudit = "aud_"
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns prefix followed by 16 random bytes in lower-case base32.
func newID(random io.Reader, prefix string) (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("read random id: %w", err)
	}
	return prefix + idEncoding.EncodeToString(b), nil
}
