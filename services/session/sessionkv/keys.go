package sessionkv

// Hash fields of a session key.
const (
	// FieldRecord holds the proto-marshalled SessionRecord.
	FieldRecord = "rec"
	// FieldTokenHash holds the SHA-256 hex of the token.
	FieldTokenHash = "th"
	// FieldAbsolute holds the absolute expiry in unix milliseconds.
	FieldAbsolute = "abs"
	// FieldSeen holds the last-seen time in unix milliseconds.
	FieldSeen = "seen"
	// FieldIdle holds the idle timeout in milliseconds, so the validation
	// script can slide the expiry without decoding the record.
	FieldIdle = "idle"
)

// SessionKey returns the key of the session hash with the given public id.
// The id is the hash tag, so every command on one session stays in one slot.
func SessionKey(prefix, id string) string {
	return prefix + "session:{" + id + "}"
}

// UserSessionsKey returns the key of the sorted set indexing a user's
// sessions (member: session id, score: creation time in unix ms).
func UserSessionsKey(prefix, userID string) string {
	return prefix + "user:{" + userID + "}:sessions"
}
