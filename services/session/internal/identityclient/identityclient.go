// Package identityclient adapts the identity service's gRPC API to what the
// session domain needs: password verification, user look-up and the audit
// sink.
package identityclient

import (
	"context"
	"errors"
	"fmt"

	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/platform/logging"
	identityv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/identity/v1"
	"github.com/watchtower/authplane/services/session/internal/session"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Client calls identity. It implements session.Identity and session.Auditor.
type Client struct {
	c identityv1.IdentityServiceClient
}

// New returns a Client over cc (a platform/grpcclient connection signed as
// service "session").
func New(cc grpc.ClientConnInterface) *Client {
	return &Client{c: identityv1.NewIdentityServiceClient(cc)}
}

// VerifyPassword checks the credentials.
func (c *Client) VerifyPassword(ctx context.Context, email, password string) (session.User, []session.Membership, error) {
	res, err := c.c.VerifyPassword(ctx, &identityv1.VerifyPasswordRequest{Email: email, Password: password})
	if err != nil {
		return session.User{}, nil, fromStatus("verify password", err)
	}
	return userOf(res.GetUser()), membershipsOf(res.GetMemberships()), nil
}

// GetUser reads a user and their memberships.
func (c *Client) GetUser(ctx context.Context, userID string) (session.User, []session.Membership, error) {
	res, err := c.c.GetUser(ctx, &identityv1.GetUserRequest{UserId: userID})
	if err != nil {
		return session.User{}, nil, fromStatus("get user", err)
	}
	return userOf(res.GetUser()), membershipsOf(res.GetMemberships()), nil
}

// Record appends an audit event. A failure is logged: an audit outage must
// not lock operators out of the console.
func (c *Client) Record(ctx context.Context, e session.AuditEvent) {
	_, err := c.c.RecordAuditEvent(ctx, &identityv1.RecordAuditEventRequest{
		OrgId: e.OrgID, Type: e.Type, ActorId: e.ActorID, TargetId: e.TargetID, Ip: e.IP, UserAgent: e.UserAgent, Data: e.Data,
	})
	if err != nil {
		logging.FromContext(ctx).Warn("audit event not recorded", "type", e.Type, "error", err.Error())
	}
}

func userOf(u *identityv1.User) session.User {
	return session.User{ID: u.GetId(), Email: u.GetEmail(), Name: u.GetName(), Disabled: u.GetDisabled(), MFAEnabled: u.GetMfaEnabled()}
}

func membershipsOf(ms []*identityv1.Membership) []session.Membership {
	out := make([]session.Membership, 0, len(ms))
	for _, m := range ms {
		out = append(out, session.Membership{OrgID: m.GetOrgId(), OrgName: m.GetOrgName(), Role: m.GetRole(), MFARequired: m.GetMfaRequired()})
	}
	return out
}

// fromStatus keeps identity's classified errors as they are (same kind,
// reason, message, fields and retry hint) and turns an unreachable or
// unclassified identity into Unavailable, so sign-in fails closed.
func fromStatus(op string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return apperr.Unavailable(fmt.Errorf("identity %s: %w", op, err))
	}
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Unknown, codes.Internal, codes.Unimplemented:
		return apperr.Unavailable(fmt.Errorf("identity %s: %w", op, err))
	}
	if e, ok := apperr.FromStatus(st); ok {
		e.Err = errors.New("identity " + op)
		return e
	}
	return apperr.Unavailable(fmt.Errorf("identity %s: %w", op, err))
}
