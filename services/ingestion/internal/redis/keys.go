// Package redis holds the ingestion service's Redis stores: the
// idempotency records and rate limit (one atomic script per step), velocity
// counters, API key usage notes and the key invalidation channel.
//
// Key layout (every key starts with the configured prefix; keys of one
// organization share the {org:<id>} hash tag so a script that touches
// several of them runs on one Redis Cluster slot):
//
//	<p>{org:<org>}:idem:<sha256(idempotency-key)>  string, claim or record (see idempotency.go)
//	<p>{org:<org>}:rate                          string, GCRA theoretical arrival time (µs)
//	<p>{org:<org>}:vel:<sha256(sender.id)>       sorted set of references scored by time (ms)
//	<p>apikeys:lastused                          hash key id -> unix seconds, drained to Postgres
//	<p>apikeys:invalidate                        pub/sub channel: a key id (or "org:<id>") changed
package redis

import (
	"crypto/sha256"
	"encoding/hex"
)

// InvalidateChannel is the pub/sub channel (after the prefix) on which key
// changes are announced; gateway/internal/apikeyauth subscribes to it.
const InvalidateChannel = "apikeys:invalidate"

// Keys builds the key names under one prefix.
type Keys struct{ Prefix string }

func (k Keys) org(orgID string) string { return k.Prefix + "{org:" + orgID + "}:" }

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// Idem is the idempotency key of (org, idempotency key).
func (k Keys) Idem(orgID, key string) string { return k.org(orgID) + "idem:" + digest(key) }

// Rate is the org's rate-limit state.
func (k Keys) Rate(orgID string) string { return k.org(orgID) + "rate" }

// Velocity is the org's per-sender window.
func (k Keys) Velocity(orgID, senderID string) string {
	return k.org(orgID) + "vel:" + digest(senderID)
}

// LastUsed is the buffer of key usage.
func (k Keys) LastUsed() string { return k.Prefix + "apikeys:lastused" }

// Invalidate is the invalidation channel.
func (k Keys) Invalidate() string { return k.Prefix + InvalidateChannel }
