package ingest

import (
	"context"
	"strconv"
	"time"

	"github.com/watchtower/authplane/platform/principal"
)

// The audit event types the ingestion service records.
const (
	AuditAPIKeyCreated       = "api_key.created"
	AuditAPIKeyRotated       = "api_key.rotated"
	AuditAPIKeyRevoked       = "api_key.revoked"
	AuditControlsUpdated     = "org.controls_updated"
	AuditAllowedCIDRsUpdated = "org.allowed_cidrs_updated"
)

// AuditEvent is an entry of the organization's audit trail, which identity
// keeps. A store writes it in the same transaction as the change it
// describes (an outbox), and the relay delivers it, so an event exists
// exactly when its change committed. Data never holds a credential.
type AuditEvent struct {
	OrgID     string
	Type      string
	ActorID   string
	TargetID  string
	IP        string
	UserAgent string
	Data      map[string]string
	// At is when the change committed (set by the outbox).
	At time.Time
}

// Notifier is told that an audit event was committed (the relay then
// delivers it without waiting for its next round).
type Notifier interface{ Notify() }

// auditEvent describes a change made by the caller in ctx: a user (its id)
// or a service ("service:<name>", wtctl for one), with the client's address
// and user agent as the gateway saw them.
func auditEvent(ctx context.Context, orgID, typ, target string, data map[string]string) AuditEvent {
	e := AuditEvent{OrgID: orgID, Type: typ, TargetID: target, Data: data, ActorID: "unknown"}
	if p, ok := principal.FromContext(ctx); ok {
		switch {
		case p.GetUserId() != "":
			e.ActorID = p.GetUserId()
		case p.GetService() != "":
			e.ActorID = "service:" + p.GetService()
		}
		e.IP, e.UserAgent = p.GetClientIp(), p.GetUserAgent()
	}
	return e
}

// audited tells the relay that an event was committed.
func (s *Service) audited() {
	if s.o.Audit != nil {
		s.o.Audit.Notify()
	}
}

// maxAuditValue is identity's limit on one data value, in bytes.
const maxAuditValue = 1024

// cidrData describes an allow-list for an audit event: the count, and the
// list itself cut at a whole entry to fit identity's limit on a value.
func cidrData(cidrs []string) map[string]string {
	list := ""
	for _, c := range cidrs {
		next := c
		if list != "" {
			next = list + "," + c
		}
		if len(next) > maxAuditValue {
			break
		}
		list = next
	}
	return map[string]string{"allowedCidrs": list, "allowedCidrsCount": strconv.Itoa(len(cidrs))}
}
