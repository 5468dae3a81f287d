package grpcapi_test

import (
	"crypto/sha256"
	"encoding/hex"
)

// digestForTest mirrors the key layout of internal/redis (Keys.Idem).
func digestForTest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}
