// Package guard decides, for each RPC the gateway is about to call, whether
// the request's caller may make it, and attaches the signed principal that
// tells the service who is calling. The rule is the access option declared
// next to the RPC in its proto; the permission check uses the in-process
// policy snapshot, so a decision costs no network hop.
package guard

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/watchtower/authplane/gateway/internal/authn"
	"github.com/watchtower/authplane/gateway/internal/edge"
	"github.com/watchtower/authplane/platform/access"
	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/platform/principal"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	sessionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/session/v1"
	"google.golang.org/grpc"
)

// Policy answers permission questions (policysnap.Snapshot).
type Policy interface {
	Allowed(role, permission string) (allowed, ready bool)
}

// Guard holds the decision inputs.
type Guard struct {
	rules      access.Table
	policy     Policy
	keys       *principal.Keyring
	publicHost string
}

// New returns a guard for the methods in rules. publicBaseURL is the
// console's own origin, accepted (besides the request's Host) as same-origin.
func New(rules access.Table, policy Policy, keys *principal.Keyring, publicBaseURL string) *Guard {
	host := ""
	if u, err := url.Parse(publicBaseURL); err == nil {
		host = u.Host
	}
	return &Guard{rules: rules, policy: policy, keys: keys, publicHost: host}
}

var (
	errUnauthenticated = apperr.Unauthenticated("unauthenticated", "sign in first")
	errForbidden       = apperr.Forbidden("forbidden", "your role does not allow this")
	errCSRF            = apperr.Forbidden("csrf_failed", "cross-site request refused")
	errEnrol           = apperr.Forbidden("mfa_enrollment_required", "set up two-factor authentication first")
	errNoRoute         = apperr.NotFound("no such route")
	errPolicyNotReady  = apperr.Unavailable(nil)
)

// Decide returns the principal for a call of fullMethod by the request in
// ctx, or the error the client must get.
func (g *Guard) Decide(ctx context.Context, fullMethod string) (*authzv1.Principal, error) {
	rule, ok := g.rules[fullMethod]
	c := authn.FromContext(ctx)
	if !ok || c == nil {
		return nil, errNoRoute
	}
	p := &authzv1.Principal{
		RequestId: edge.RequestID(ctx),
		ClientIp:  edge.ClientIP(ctx),
		UserAgent: c.UserAgent,
	}
	switch {
	case rule.Allows(authzv1.Audience_AUDIENCE_USER) && c.Session != nil:
		return g.user(c, rule, p)
	case rule.Allows(authzv1.Audience_AUDIENCE_MFA_PENDING) && c.Pending != nil:
		if !g.sameOrigin(c) {
			return nil, errCSRF
		}
		fillUser(p, c.Pending)
		return p, nil
	case rule.Allows(authzv1.Audience_AUDIENCE_PUBLIC):
		if unsafe(c.Method) && !g.sameOrigin(c) {
			return nil, errCSRF
		}
		p.Kind = authzv1.PrincipalKind_PRINCIPAL_KIND_ANONYMOUS
		return p, nil
	case rule.Allows(authzv1.Audience_AUDIENCE_USER), rule.Allows(authzv1.Audience_AUDIENCE_MFA_PENDING):
		return nil, errUnauthenticated
	}
	// Services-only and API-key-only RPCs are not console routes.
	return nil, errNoRoute
}

func (g *Guard) user(c *authn.Caller, rule access.Rule, p *authzv1.Principal) (*authzv1.Principal, error) {
	s := c.Session
	if unsafe(c.Method) && (c.CSRFToken == "" || subtle.ConstantTimeCompare([]byte(c.CSRFToken), []byte(s.GetCsrfToken())) != 1) {
		return nil, errCSRF
	}
	if s.GetState() == authzv1.SessionState_SESSION_STATE_ENROLLMENT_REQUIRED && !rule.EnrollmentAllowed {
		return nil, errEnrol
	}
	if rule.Permission != "" {
		allowed, ready := g.policy.Allowed(s.GetRole(), rule.Permission)
		if !ready {
			return nil, errPolicyNotReady
		}
		if !allowed {
			return nil, errForbidden
		}
	}
	fillUser(p, s)
	return p, nil
}

func fillUser(p *authzv1.Principal, s *sessionv1.SessionRecord) {
	p.Kind = authzv1.PrincipalKind_PRINCIPAL_KIND_USER
	p.UserId = s.GetUser().GetId()
	p.OrgId = s.GetOrg().GetId()
	p.SessionId = s.GetId()
	p.Role = s.GetRole()
	p.AuthLevel = s.GetAuthLevel()
	p.SessionState = s.GetState()
}

// sameOrigin accepts requests without browser origin headers (API clients)
// and browser requests whose Origin is the console's or the request's own
// host; it refuses every cross-site browser request.
func (g *Guard) sameOrigin(c *authn.Caller) bool {
	if strings.EqualFold(c.SecFetchSite, "cross-site") {
		return false
	}
	if c.Origin == "" {
		return true
	}
	u, err := url.Parse(c.Origin)
	if err != nil || u.Host == "" {
		return false // includes "null"
	}
	return strings.EqualFold(u.Host, c.Host) || (g.publicHost != "" && strings.EqualFold(u.Host, g.publicHost))
}

func unsafe(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// UnaryClientInterceptor decides every call grpc-gateway makes and signs the
// principal into its metadata.
func (g *Guard) UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		p, err := g.Decide(ctx, method)
		if err != nil {
			return err
		}
		ctx, err = g.keys.AppendToOutgoing(ctx, p)
		if err != nil {
			return err
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}
