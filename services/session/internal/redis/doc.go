// Package redis is the session service's Redis store: sessions (in the
// sessionkv layout the gateway also reads) and the sign-in throttle.
//
// Keys, all under the configured prefix:
//
//	session:{<id>}              see sessionkv
//	user:{<userID>}:sessions    see sessionkv
//	login:acct:{<sha256(email)>} failed sign-ins of one account (counter, fixed window)
//	login:ip:{<ip>}             failed sign-ins from one client IP (counter, fixed window)
//
// A session and its user index live in different hash slots, so no
// operation here needs both in one transaction; see Create and RevokeAll for
// the order of writes that makes this safe on Redis Cluster.
package redis
