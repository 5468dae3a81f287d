package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/watchtower/authplane/platform/apperr"
)

// Timeouts are the lifetimes of a full session.
type Timeouts struct {
	// Idle ends a session nobody used for this long (sliding).
	Idle time.Duration
	// Absolute ends every session this long after sign-in.
	Absolute time.Duration
}

// Service implements the session use cases.
type Service struct {
	store    Store
	throttle Throttle
	identity Identity
	perms    Permissions
	audit    Auditor
	timeouts Timeouts
	enforce  bool
	now      func() time.Time
	random   io.Reader
}

// Deps are the collaborators of a Service. Now and Random may be nil for
// time.Now and crypto/rand.Reader.
type Deps struct {
	Store       Store
	Throttle    Throttle
	Identity    Identity
	Permissions Permissions
	Audit       Auditor
	Timeouts    Timeouts
	// EnforceMFAEnrollment limits a session whose role requires MFA, for a
	// user without MFA, to enrolment (SESSION_STATE_ENROLLMENT_REQUIRED).
	EnforceMFAEnrollment bool
	Now                  func() time.Time
	Random               io.Reader
}

// NewService returns a Service.
func NewService(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Random == nil {
		d.Random = rand.Reader
	}
	return &Service{
		store: d.Store, throttle: d.Throttle, identity: d.Identity, perms: d.Permissions,
		audit: d.Audit, timeouts: d.Timeouts, enforce: d.EnforceMFAEnrollment, now: d.Now, random: d.Random,
	}
}

// Opened is a freshly created session: the token (shown once), the record
// and the permissions of its role (empty unless the session is active).
type Opened struct {
	Token       string
	Record      Record
	Permissions []string
}

// LoginResult is the outcome of a successful password step. MFARequired
// means Opened is a pending-MFA session good for the MFA step only.
type LoginResult struct {
	MFARequired bool
	Opened      Opened
}

// Login checks email and password through identity, under the sign-in
// throttle, and opens a session (or a pending-MFA session).
func (s *Service) Login(ctx context.Context, email, password string, c Client) (LoginResult, error) {
	if err := requireCredentials(email, password); err != nil {
		return LoginResult{}, err
	}
	if err := s.throttle.Check(ctx, email, c.IP); err != nil {
		return LoginResult{}, err
	}
	user, memberships, err := s.identity.VerifyPassword(ctx, email, password)
	if err == nil && len(memberships) == 0 {
		// A user who belongs to no organization cannot use the console; say
		// so no differently from a wrong password.
		err = invalidCredentials()
	}
	if err != nil {
		if apperr.Is(err, "invalid_credentials") {
			if ferr := s.throttle.Fail(ctx, email, c.IP); ferr != nil {
				return LoginResult{}, ferr
			}
		}
		return LoginResult{}, err
	}
	if err := s.throttle.Reset(ctx, email); err != nil {
		return LoginResult{}, err
	}
	active := memberships[0]
	rec := Record{User: user, Org: active, Orgs: memberships, AuthLevel: AuthLevelPassword, IP: c.IP, UserAgent: c.UserAgent}
	if user.MFAEnabled {
		rec.State = StateMFAPending
		opened, err := s.open(ctx, rec, PendingMFALifetime, PendingMFALifetime)
		if err != nil {
			return LoginResult{}, err
		}
		s.record(ctx, AuditEvent{Type: "session.mfa_challenged", OrgID: active.OrgID, ActorID: user.ID, TargetID: user.ID, IP: c.IP, UserAgent: c.UserAgent})
		return LoginResult{MFARequired: true, Opened: opened}, nil
	}
	rec.State = initialState(user, active, s.enforce)
	opened, err := s.open(ctx, rec, s.timeouts.Idle, s.timeouts.Absolute)
	if err != nil {
		return LoginResult{}, err
	}
	s.record(ctx, AuditEvent{Type: "session.login", OrgID: active.OrgID, ActorID: user.ID, TargetID: opened.Record.ID, IP: c.IP, UserAgent: c.UserAgent,
		Data: map[string]string{"state": opened.Record.State.String()}})
	return LoginResult{Opened: opened}, nil
}

// CreateParams describes a session opened for a user whom the caller has
// already authenticated.
type CreateParams struct {
	UserID    string
	OrgID     string
	AuthLevel AuthLevel
	// State may be StateUnspecified: the state then follows the org's policy.
	State  State
	Client Client
}

// Create opens a session for p.UserID in p.OrgID (the MFA step, an accepted
// invitation, an org switch). The user must be enabled and a member.
func (s *Service) Create(ctx context.Context, p CreateParams) (Opened, error) {
	var fields []apperr.FieldViolation
	if p.UserID == "" {
		fields = append(fields, apperr.FieldViolation{Field: "user_id", Reason: "required"})
	}
	if p.OrgID == "" {
		fields = append(fields, apperr.FieldViolation{Field: "org_id", Reason: "required"})
	}
	if len(fields) > 0 {
		return Opened{}, apperr.Validation(fields...)
	}
	user, memberships, err := s.identity.GetUser(ctx, p.UserID)
	if err != nil {
		return Opened{}, err
	}
	if user.Disabled {
		return Opened{}, invalidCredentials()
	}
	var active *Membership
	for i := range memberships {
		if memberships[i].OrgID == p.OrgID {
			active = &memberships[i]
		}
	}
	if active == nil {
		return Opened{}, apperr.NotFound("the user is not a member of this organization")
	}
	level := p.AuthLevel
	if level == AuthLevelUnspecified {
		level = AuthLevelPassword
	}
	state := p.State
	if state == StateUnspecified {
		state = initialState(user, *active, s.enforce)
	}
	rec := Record{User: user, Org: *active, Orgs: memberships, AuthLevel: level, State: state, IP: p.Client.IP, UserAgent: p.Client.UserAgent}
	idle, abs := s.timeouts.Idle, s.timeouts.Absolute
	if state == StateMFAPending {
		idle, abs = PendingMFALifetime, PendingMFALifetime
	}
	opened, err := s.open(ctx, rec, idle, abs)
	if err != nil {
		return Opened{}, err
	}
	s.record(ctx, AuditEvent{Type: "session.created", OrgID: active.OrgID, ActorID: user.ID, TargetID: opened.Record.ID, IP: p.Client.IP, UserAgent: p.Client.UserAgent,
		Data: map[string]string{"state": state.String()}})
	return opened, nil
}

// open creates the session. The permissions are looked up first, so that an
// authz outage fails the call before a session exists.
func (s *Service) open(ctx context.Context, rec Record, idle, abs time.Duration) (Opened, error) {
	perms, err := s.Permissions(ctx, rec)
	if err != nil {
		return Opened{}, err
	}
	csrf := make([]byte, 32)
	if _, err := io.ReadFull(s.random, csrf); err != nil {
		return Opened{}, fmt.Errorf("csrf token: %w", err)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	rec.CSRFToken = base64.RawURLEncoding.EncodeToString(csrf)
	rec.CreatedAt = now
	rec.AbsoluteExp = now.Add(abs)
	rec.IdleTimeout = min(idle, abs)
	token, id, err := s.store.Create(ctx, rec)
	if err != nil {
		return Opened{}, err
	}
	rec.ID = id
	return Opened{Token: token, Record: rec, Permissions: perms}, nil
}

// Validate resolves a token. Unknown, expired and malformed tokens are
// unauthenticated alike.
func (s *Service) Validate(ctx context.Context, token string) (Live, error) {
	l, err := s.store.Validate(ctx, token)
	if errors.Is(err, ErrNotFound) {
		return Live{}, unauthenticated()
	}
	return l, err
}

// Current returns the session id of userID, for "who am I".
func (s *Service) Current(ctx context.Context, userID, id string) (Live, error) {
	if id == "" {
		return Live{}, unauthenticated()
	}
	l, err := s.store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && l.User.ID != userID) {
		return Live{}, unauthenticated()
	}
	return l, err
}

// Permissions returns what the session's role may do; a session that is
// not fully active holds no permission.
func (s *Service) Permissions(ctx context.Context, rec Record) ([]string, error) {
	if rec.State != StateActive {
		return []string{}, nil
	}
	return s.perms.ForRole(ctx, rec.Org.Role)
}

// Logout ends the caller's session. A session that is already gone is not
// an error: the caller is logged out either way.
func (s *Service) Logout(ctx context.Context, userID, orgID, id string, c Client) error {
	if id == "" {
		return unauthenticated()
	}
	err := s.store.Revoke(ctx, userID, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	s.record(ctx, AuditEvent{Type: "session.logout", OrgID: orgID, ActorID: userID, TargetID: id, IP: c.IP, UserAgent: c.UserAgent})
	return nil
}

// Revoke ends one session of userID; NOT_FOUND when it is not theirs.
func (s *Service) Revoke(ctx context.Context, userID, id string) error {
	if userID == "" || id == "" {
		return notFound()
	}
	return asNotFound(s.store.Revoke(ctx, userID, id))
}

// RevokeAll ends every session of userID but except (may be empty).
func (s *Service) RevokeAll(ctx context.Context, userID, except string) (int, error) {
	if userID == "" {
		return 0, apperr.Validation(apperr.FieldViolation{Field: "user_id", Reason: "required"})
	}
	return s.store.RevokeAll(ctx, userID, except)
}

// List returns userID's live sessions, newest first, marking current.
func (s *Service) List(ctx context.Context, userID, current string) ([]Summary, error) {
	if userID == "" {
		return nil, apperr.Validation(apperr.FieldViolation{Field: "user_id", Reason: "required"})
	}
	lives, err := s.store.List(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(lives))
	for _, l := range lives {
		if l.State == StateMFAPending {
			continue // not a signed-in session yet
		}
		out = append(out, Summary{ID: l.ID, CreatedAt: l.CreatedAt, LastSeen: l.LastSeen, IP: l.IP, UserAgent: l.UserAgent, Current: l.ID == current})
	}
	return out, nil
}

// record sends an audit event. Events need an organization (the audit trail
// is per org), so a failed sign-in for an unknown account is not recorded.
func (s *Service) record(ctx context.Context, e AuditEvent) {
	if s.audit == nil || e.OrgID == "" {
		return
	}
	e.At = s.now()
	s.audit.Record(ctx, e)
}

// String returns the state's wire-like name, for logs and audit data.
func (st State) String() string {
	switch st {
	case StateActive:
		return "active"
	case StateMFAPending:
		return "mfa_pending"
	case StateEnrollmentRequired:
		return "enrollment_required"
	}
	return "unspecified"
}

// NormalizeEmail is the account key of the sign-in throttle: trimmed and
// lower-cased, so "Ada@X " and "ada@x" share a bucket.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}
