// Package audit delivers the ingestion service's audit events from its
// Postgres outbox to identity's audit trail (identity.RecordAuditEvent), the
// audit sink of every service.
package audit

import (
	"context"
	"log/slog"
	"time"

	identityv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/identity/v1"
	"github.com/watchtower/authplane/services/ingestion/internal/ingest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Outbox holds committed events until they are delivered.
type Outbox interface {
	Drain(ctx context.Context, limit int, send func(ingest.AuditEvent) error) (int, error)
}

// Sink records an event (identity's client).
type Sink interface {
	RecordAuditEvent(ctx context.Context, in *identityv1.RecordAuditEventRequest, opts ...grpc.CallOption) (*identityv1.RecordAuditEventResponse, error)
}

// Options configures a Relay.
type Options struct {
	Outbox Outbox
	Sink   Sink
	Logger *slog.Logger
	// Every is how often the outbox is looked at without a Notify, which is
	// also the pace of retries while identity is unreachable (default 5 s).
	Every time.Duration
	// Batch is the most events one round takes (default 100).
	Batch int
	// CallTimeout bounds one RecordAuditEvent (default 5 s).
	CallTimeout time.Duration
}

// Relay moves events from the outbox to identity, oldest first. An event
// identity refuses for good (its org does not exist there, or it fails
// validation) is logged and dropped, so one bad event cannot hold back the
// rest; any other failure keeps it, and the ones after it, for the next
// round.
type Relay struct {
	o    Options
	wake chan struct{}
}

// New returns a relay; Run starts it.
func New(o Options) *Relay {
	if o.Every <= 0 {
		o.Every = 5 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Relay{o: o, wake: make(chan struct{}, 1)}
}

// Notify asks for a round now (an event was just committed).
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends.
func (r *Relay) Run(ctx context.Context) {
	t := time.NewTicker(r.o.Every)
	defer t.Stop()
	for {
		r.Flush(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.wake:
		}
	}
}

// Flush delivers what the outbox holds until it is empty or a delivery
// fails; it returns how many events were delivered or dropped.
func (r *Relay) Flush(ctx context.Context) int {
	total := 0
	for ctx.Err() == nil {
		n, err := r.o.Outbox.Drain(ctx, r.o.Batch, func(ev ingest.AuditEvent) error { return r.send(ctx, ev) })
		total += n
		if err != nil {
			if ctx.Err() == nil {
				r.o.Logger.Warn("audit outbox: round failed", "error", err.Error())
			}
			return total
		}
		if n < r.o.Batch {
			return total
		}
	}
	return total
}

func (r *Relay) send(ctx context.Context, ev ingest.AuditEvent) error {
	cctx, cancel := context.WithTimeout(ctx, r.o.CallTimeout)
	defer cancel()
	_, err := r.o.Sink.RecordAuditEvent(cctx, &identityv1.RecordAuditEventRequest{
		OrgId: ev.OrgID, Type: ev.Type, ActorId: ev.ActorID, TargetId: ev.TargetID,
		Ip: ev.IP, UserAgent: ev.UserAgent, Data: ev.Data, OccurredAt: occurredAt(ev.At),
	})
	switch status.Code(err) {
	case codes.OK:
		return nil
	case codes.NotFound, codes.InvalidArgument:
		r.o.Logger.Error("audit event refused by identity: dropped", "type", ev.Type, "org_id", ev.OrgID,
			"target_id", ev.TargetID, "error", err.Error())
		return nil
	}
	r.o.Logger.Warn("audit event not delivered: kept for the next round", "type", ev.Type, "org_id", ev.OrgID, "error", err.Error())
	return err
}

// occurredAt is the event's commit time for identity, which would
// otherwise date it at delivery (late, after an outage of identity).
func occurredAt(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
