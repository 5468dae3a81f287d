// Package recordpb converts between the domain's session record and
// watchtower.session.v1.SessionRecord, which is both the stored form (Redis,
// read by the gateway through sessionkv) and the Validate reply.
package recordpb

import (
	"time"

	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	sessionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/session/v1"
	"github.com/watchtower/authplane/services/session/internal/session"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ToProto converts a domain record.
func ToProto(r session.Record) *sessionv1.SessionRecord {
	orgs := make([]*sessionv1.OrgMembership, 0, len(r.Orgs))
	for _, m := range r.Orgs {
		orgs = append(orgs, &sessionv1.OrgMembership{Id: m.OrgID, Name: m.OrgName, Role: m.Role})
	}
	return &sessionv1.SessionRecord{
		Id:                 r.ID,
		User:               &sessionv1.SessionUser{Id: r.User.ID, Email: r.User.Email, Name: r.User.Name},
		Org:                &sessionv1.SessionOrg{Id: r.Org.OrgID, Name: r.Org.OrgName},
		Role:               r.Org.Role,
		Orgs:               orgs,
		MfaEnabled:         r.User.MFAEnabled,
		AuthLevel:          AuthLevelToProto(r.AuthLevel),
		State:              StateToProto(r.State),
		CsrfToken:          r.CSRFToken,
		CreatedAt:          timestamppb.New(r.CreatedAt),
		AbsoluteExpiresAt:  timestamppb.New(r.AbsoluteExp),
		IdleTimeoutSeconds: int64(r.IdleTimeout / time.Second),
		Ip:                 r.IP,
		UserAgent:          r.UserAgent,
	}
}

// FromProto converts a stored record. The org's MFA policy is not stored:
// it mattered when the session was opened and is reflected in its state.
func FromProto(p *sessionv1.SessionRecord) session.Record {
	orgs := make([]session.Membership, 0, len(p.GetOrgs()))
	for _, m := range p.GetOrgs() {
		orgs = append(orgs, session.Membership{OrgID: m.GetId(), OrgName: m.GetName(), Role: m.GetRole()})
	}
	return session.Record{
		ID: p.GetId(),
		User: session.User{
			ID: p.GetUser().GetId(), Email: p.GetUser().GetEmail(), Name: p.GetUser().GetName(),
			MFAEnabled: p.GetMfaEnabled(),
		},
		Org:         session.Membership{OrgID: p.GetOrg().GetId(), OrgName: p.GetOrg().GetName(), Role: p.GetRole()},
		Orgs:        orgs,
		AuthLevel:   AuthLevelFromProto(p.GetAuthLevel()),
		State:       StateFromProto(p.GetState()),
		CSRFToken:   p.GetCsrfToken(),
		CreatedAt:   p.GetCreatedAt().AsTime(),
		AbsoluteExp: p.GetAbsoluteExpiresAt().AsTime(),
		IdleTimeout: time.Duration(p.GetIdleTimeoutSeconds()) * time.Second,
		IP:          p.GetIp(),
		UserAgent:   p.GetUserAgent(),
	}
}

// AuthLevelToProto converts an auth level.
func AuthLevelToProto(l session.AuthLevel) authzv1.AuthLevel {
	switch l {
	case session.AuthLevelPassword:
		return authzv1.AuthLevel_AUTH_LEVEL_PASSWORD
	case session.AuthLevelMFA:
		return authzv1.AuthLevel_AUTH_LEVEL_MFA
	}
	return authzv1.AuthLevel_AUTH_LEVEL_UNSPECIFIED
}

// AuthLevelFromProto converts an auth level.
func AuthLevelFromProto(l authzv1.AuthLevel) session.AuthLevel {
	switch l {
	case authzv1.AuthLevel_AUTH_LEVEL_PASSWORD:
		return session.AuthLevelPassword
	case authzv1.AuthLevel_AUTH_LEVEL_MFA:
		return session.AuthLevelMFA
	}
	return session.AuthLevelUnspecified
}

// StateToProto converts a session state.
func StateToProto(s session.State) authzv1.SessionState {
	switch s {
	case session.StateActive:
		return authzv1.SessionState_SESSION_STATE_ACTIVE
	case session.StateMFAPending:
		return authzv1.SessionState_SESSION_STATE_MFA_PENDING
	case session.StateEnrollmentRequired:
		return authzv1.SessionState_SESSION_STATE_ENROLLMENT_REQUIRED
	}
	return authzv1.SessionState_SESSION_STATE_UNSPECIFIED
}

// StateFromProto converts a session state.
func StateFromProto(s authzv1.SessionState) session.State {
	switch s {
	case authzv1.SessionState_SESSION_STATE_ACTIVE:
		return session.StateActive
	case authzv1.SessionState_SESSION_STATE_MFA_PENDING:
		return session.StateMFAPending
	case authzv1.SessionState_SESSION_STATE_ENROLLMENT_REQUIRED:
		return session.StateEnrollmentRequired
	}
	return session.StateUnspecified
}
