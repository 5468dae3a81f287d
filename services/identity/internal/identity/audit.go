package identity

import (
	"context"
	"errors"
	"net/netip"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/watchtower/authplane/platform/apperr"
)

// Limits on an audit event.
const (
	MaxAuditDataEntries = 32
	MaxAuditKeyBytes    = 64
	MaxAuditValueBytes  = 1024
	MaxAuditIDBytes     = 128
	MaxUserAgentBytes   = 512
)

// auditType is a dotted lower-case event name such as "member.role_changed".
var auditType = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){0,7}$`)

// RecordAuditEvent validates and stores e, stamping its id and, unless e
// carries the time it happened, its time; an
// over-long user agent is truncated rather than refused, so an event is not
// lost to it.
func (s *Service) RecordAuditEvent(ctx context.Context, e AuditEvent) (AuditEvent, error) {
	var fields []apperr.FieldViolation
	bad := func(field, reason string) {
		fields = append(fields, apperr.FieldViolation{Field: field, Reason: reason})
	}
	switch {
	case e.OrgID == "":
		bad("org_id", "required")
	case len(e.OrgID) > MaxAuditIDBytes || !printable(e.OrgID):
		bad("org_id", "invalid")
	}
	switch {
	case e.Type == "":
		bad("type", "required")
	case len(e.Type) > 64 || !auditType.MatchString(e.Type):
		bad("type", "invalid")
	}
	if len(e.ActorID) > MaxAuditIDBytes || !printable(e.ActorID) {
		bad("actor_id", "invalid")
	}
	if len(e.TargetID) > MaxAuditIDBytes || !printable(e.TargetID) {
		bad("target_id", "invalid")
	}
	if e.IP != "" {
		ip, ok := parseIP(e.IP)
		if !ok {
			bad("ip", "invalid")
		}
		e.IP = ip
	}
	if strings.ContainsRune(e.UserAgent, 0) || !utf8.ValidString(e.UserAgent) {
		bad("user_agent", "invalid")
	}
	if len(e.Data) > MaxAuditDataEntries {
		bad("data", "too_many_entries")
	}
	for k, v := range e.Data {
		if k == "" || len(k) > MaxAuditKeyBytes || !printable(k) {
			bad("data", "invalid_key")
			break
		}
		if len(v) > MaxAuditValueBytes || strings.ContainsRune(v, 0) || !utf8.ValidString(v) {
			bad("data."+k, "invalid")
		}
	}
	if len(fields) > 0 {
		return AuditEvent{}, apperr.Validation(fields...)
	}

	id, err := newID(s.rand, prefixAudit)
	if err != nil {
		return AuditEvent{}, err
	}
	e.ID = id
	// A relayed event keeps the time it happened; none, or one in the
	// future, is now.
	if now := s.now().UTC(); e.At.IsZero() || e.At.After(now) {
		e.At = now
	} else {
		e.At = e.At.UTC()
	}
	e.UserAgent = truncateUTF8(e.UserAgent, MaxUserAgentBytes)
	if e.Data == nil {
		e.Data = map[string]string{}
	}
	err = s.store.InsertAuditEvent(ctx, e)
	if errors.Is(err, ErrOrgNotFound) {
		return AuditEvent{}, apperr.NotFound("organization not found")
	}
	if err != nil {
		return AuditEvent{}, err
	}
	return e, nil
}

// printable reports whether s has no control characters and is valid UTF-8.
func printable(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// sanitized returns a with what cannot be stored dropped: an id or user
// agent that is not printable text, an IP that does not parse; the user
// agent is cut to MaxUserAgentBytes.
func (a Actor) sanitized() Actor {
	if len(a.ID) > MaxAuditIDBytes || !printable(a.ID) {
		a.ID = ""
	}
	a.IP, _ = parseIP(a.IP)
	if !printable(a.UserAgent) {
		a.UserAgent = ""
	}
	a.UserAgent = truncateUTF8(a.UserAgent, MaxUserAgentBytes)
	return a
}

// parseIP accepts an address, or an address with a port (the port is
// dropped), and returns its canonical text; "" and false otherwise.
func parseIP(s string) (string, bool) {
	if addr, err := netip.ParseAddr(s); err == nil {
		return addr.String(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().String(), true
	}
	return "", false
}
