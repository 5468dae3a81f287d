package sessionkv

import (
	"time"

	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	sessionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/session/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// View builds the API.md Session of a record: expiresAt is the absolute
// expiry, idleExpiresAt is min(lastSeen + idle timeout, absolute expiry) and
// mfaVerified means the session was opened with a second factor.
// permissions is the role's permission list (empty for a session limited to
// MFA enrolment); it is copied.
func View(rec *sessionv1.SessionRecord, lastSeen time.Time, permissions []string) *sessionv1.Session {
	abs := rec.GetAbsoluteExpiresAt().AsTime()
	idle := lastSeen.Add(time.Duration(rec.GetIdleTimeoutSeconds()) * time.Second)
	if idle.After(abs) {
		idle = abs
	}
	orgs := make([]*sessionv1.OrgMembership, 0, len(rec.GetOrgs()))
	for _, o := range rec.GetOrgs() {
		orgs = append(orgs, &sessionv1.OrgMembership{Id: o.GetId(), Name: o.GetName(), Role: o.GetRole()})
	}
	perms := append(make([]string, 0, len(permissions)), permissions...)
	return &sessionv1.Session{
		User: &sessionv1.SessionUser{
			Id:    rec.GetUser().GetId(),
			Email: rec.GetUser().GetEmail(),
			Name:  rec.GetUser().GetName(),
		},
		Org:           &sessionv1.SessionOrg{Id: rec.GetOrg().GetId(), Name: rec.GetOrg().GetName()},
		Role:          rec.GetRole(),
		Orgs:          orgs,
		MfaEnabled:    rec.GetMfaEnabled(),
		MfaVerified:   rec.GetAuthLevel() == authzv1.AuthLevel_AUTH_LEVEL_MFA,
		Permissions:   perms,
		CsrfToken:     rec.GetCsrfToken(),
		ExpiresAt:     timestamppb.New(abs),
		IdleExpiresAt: timestamppb.New(idle),
	}
}
