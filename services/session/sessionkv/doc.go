// Package sessionkv is the Redis layout of console sessions and the one
// read-only operation the gateway needs on its hot path: resolve a cookie
// token to its session in a single round trip.
//
// A token is 32 random bytes written as 43 characters of unpadded base64url.
// It is never stored. Its SHA-256 names the session: the public session id
// is the hex of the first 16 bytes, and the full hex digest is kept in the
// record and compared on every validation.
//
// Keys (every one starts with the configured prefix, e.g. "wt:"):
//
//	<prefix>session:{<id>}          HASH  rec  proto-marshalled watchtower.session.v1.SessionRecord
//	                                      th   SHA-256 hex of the token
//	                                      abs  absolute expiry, unix ms
//	                                      seen last seen, unix ms
//	                                      idle idle timeout, ms
//	<prefix>user:{<userID>}:sessions ZSET session id -> created unix ms
//
// The session key carries a TTL of min(idle, abs-now), refreshed by Validate
// at most once per refresh interval, so an idle session disappears on its own.
// The service that owns sessions (services/session) writes these keys; the
// gateway only reads them through Reader.
package sessionkv
