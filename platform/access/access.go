// Package access reads the access rule declared next to each RPC (the
// watchtower.authz.v1.access method option) from the compiled descriptors.
package access

import (
	"strings"

	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Rule is the access rule of one RPC.
type Rule struct {
	audiences         uint32
	Permission        string
	EnrollmentAllowed bool
}

// Allows reports whether a caller of audience a may call the RPC.
func (r Rule) Allows(a authzv1.Audience) bool { return r.audiences&(1<<uint(a)) != 0 }

// Audiences lists the accepted audiences.
func (r Rule) Audiences() []authzv1.Audience {
	var out []authzv1.Audience
	for a := range authzv1.Audience_name {
		if r.Allows(authzv1.Audience(a)) {
			out = append(out, authzv1.Audience(a))
		}
	}
	return out
}

// ForMethod returns the rule declared for a gRPC full method name
// ("/pkg.Service/Method"). ok is false when the method is unknown or declares
// no rule: such a method must be refused.
func ForMethod(fullMethod string) (Rule, bool) {
	name := strings.TrimPrefix(fullMethod, "/")
	svc, method, found := strings.Cut(name, "/")
	if !found {
		return Rule{}, false
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return Rule{}, false
	}
	sd, isSvc := d.(protoreflect.ServiceDescriptor)
	if !isSvc {
		return Rule{}, false
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return Rule{}, false
	}
	return fromDescriptor(md)
}

func fromDescriptor(md protoreflect.MethodDescriptor) (Rule, bool) {
	opts := md.Options()
	if opts == nil || !proto.HasExtension(opts, authzv1.E_Access) {
		return Rule{}, false
	}
	a, _ := proto.GetExtension(opts, authzv1.E_Access).(*authzv1.Access)
	if a == nil || len(a.GetAudiences()) == 0 {
		return Rule{}, false
	}
	r := Rule{Permission: a.GetPermission(), EnrollmentAllowed: a.GetEnrollmentAllowed()}
	for _, au := range a.GetAudiences() {
		r.audiences |= 1 << uint(au)
	}
	return r, true
}

// Table is a precomputed method -> rule map for a set of services, so a hot
// path does no descriptor look-up.
type Table map[string]Rule

// BuildTable reads the rules of every method of the named services
// ("watchtower.session.v1.SessionService"). Methods without a rule are left
// out, and so refused.
func BuildTable(services ...protoreflect.ServiceDescriptor) Table {
	t := Table{}
	for _, sd := range services {
		for i := 0; i < sd.Methods().Len(); i++ {
			md := sd.Methods().Get(i)
			if r, ok := fromDescriptor(md); ok {
				t["/"+string(sd.FullName())+"/"+string(md.Name())] = r
			}
		}
	}
	return t
}

// AudienceOf maps a principal kind (and session state) to its audience.
func AudienceOf(p *authzv1.Principal) authzv1.Audience {
	switch p.GetKind() {
	case authzv1.PrincipalKind_PRINCIPAL_KIND_ANONYMOUS:
		return authzv1.Audience_AUDIENCE_PUBLIC
	case authzv1.PrincipalKind_PRINCIPAL_KIND_USER:
		if p.GetSessionState() == authzv1.SessionState_SESSION_STATE_MFA_PENDING {
			return authzv1.Audience_AUDIENCE_MFA_PENDING
		}
		return authzv1.Audience_AUDIENCE_USER
	case authzv1.PrincipalKind_PRINCIPAL_KIND_API_KEY:
		return authzv1.Audience_AUDIENCE_API_KEY
	case authzv1.PrincipalKind_PRINCIPAL_KIND_SERVICE:
		return authzv1.Audience_AUDIENCE_SERVICE
	}
	return authzv1.Audience_AUDIENCE_UNSPECIFIED
}

// BuildTableForPackages reads the rules of every service whose full name
// starts with one of the prefixes (for example "watchtower.") among the
// descriptors linked into the binary.
func BuildTableForPackages(prefixes ...string) Table {
	var services []protoreflect.ServiceDescriptor
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			for _, p := range prefixes {
				if strings.HasPrefix(string(sd.FullName()), p) {
					services = append(services, sd)
					break
				}
			}
		}
		return true
	})
	return BuildTable(services...)
}
