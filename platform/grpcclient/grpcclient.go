// Package grpcclient dials other WatchTower services. Calls made through a
// client from Dial carry a signed service principal naming the caller and
// the request id of the call being served, so they are logged under the same
// request id everywhere.
package grpcclient

import (
	"context"
	"fmt"

	"github.com/watchtower/authplane/platform/principal"
	"github.com/watchtower/authplane/platform/requestid"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Dial returns a connection to addr whose calls are signed as service
// (for example "session"). The connection is lazy: it does not block.
func Dial(addr, service string, keys *principal.Keyring, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	sign := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		rid := requestid.FromContext(ctx)
		if rid == "" {
			rid = requestid.New()
		}
		p := &authzv1.Principal{Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_SERVICE, Service: service, RequestId: rid}
		if caller, ok := principal.FromContext(ctx); ok {
			p.ClientIp, p.UserAgent = caller.GetClientIp(), caller.GetUserAgent()
		}
		ctx, err := keys.AppendToOutgoing(ctx, p)
		if err != nil {
			return err
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	opts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(sign),
	}, extra...)
	cc, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("grpcclient: dial %s: %w", addr, err)
	}
	return cc, nil
}
