package grpcapi_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/grpcserver"
	"github.com/watchtower/authplane/platform/principal"
	"github.com/watchtower/authplane/platform/testenv"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	"github.com/watchtower/authplane/services/authz/internal/grpcapi"
	"github.com/watchtower/authplane/services/authz/internal/policy"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func start(t *testing.T) (authzv1.AuthorizationServiceClient, *principal.Keyring) {
	client, keys, _ := startWithSpec(t)
	return client, keys
}

func startWithSpec(t *testing.T) (authzv1.AuthorizationServiceClient, *principal.Keyring, string) {
	t.Helper()
	keys, spec := testenv.Keyring(t)
	srv := grpcserver.New(grpcserver.Options{Logger: slog.New(slog.DiscardHandler), Keyring: keys})
	authzv1.RegisterAuthorizationServiceServer(srv.Server, grpcapi.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeListener(ctx, lis) }()
	t.Cleanup(func() { cancel(); <-done })
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { cc.Close() })
	return authzv1.NewAuthorizationServiceClient(cc), keys, spec
}

func signed(t *testing.T, keys *principal.Keyring, p *authzv1.Principal) context.Context {
	t.Helper()
	ctx, err := keys.AppendToOutgoing(context.Background(), p)
	require.NoError(t, err)
	return ctx
}

func service(rid string) *authzv1.Principal {
	return &authzv1.Principal{Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_SERVICE, Service: "test", RequestId: rid}
}

func TestCheckAndBatchCheck(t *testing.T) {
	client, keys := start(t)
	for _, tt := range []struct {
		name, role, perm string
		want             bool
	}{
		{"admin writes members", "ADMIN", "members:write", true},
		{"risk lead reads audit", "RISK_LEAD", "audit:read", true},
		{"analyst cannot write rules", "ANALYST", "rules:write", false},
		{"viewer cannot manage api keys", "VIEWER", "api_keys:write", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client.Check(signed(t, keys, service("r1")), &authzv1.CheckRequest{Role: tt.role, Permission: tt.perm})
			require.NoError(t, err)
			require.Equal(t, tt.want, resp.GetAllowed())
		})
	}
	resp, err := client.BatchCheck(signed(t, keys, service("r2")), &authzv1.BatchCheckRequest{Role: "ANALYST", Permissions: []string{"alerts:write", "members:read"}})
	require.NoError(t, err)
	require.Equal(t, []bool{true, false}, resp.GetAllowed())

	_, err = client.Check(signed(t, keys, service("r3")), &authzv1.CheckRequest{Role: "OWNER", Permission: "alerts:read"})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
}

func TestGetPolicyMatchesTable(t *testing.T) {
	client, keys := start(t)
	resp, err := client.GetPolicy(signed(t, keys, service("r1")), &authzv1.GetPolicyRequest{})
	require.NoError(t, err)
	require.Equal(t, policy.Version(), resp.GetVersion())
	require.Len(t, resp.GetRoles(), len(policy.Roles))
	for _, row := range resp.GetRoles() {
		var want []string
		for _, p := range policy.Permissions(policy.Role(row.GetRole())) {
			want = append(want, string(p))
		}
		require.Equal(t, want, row.GetPermissions(), row.GetRole())
	}
}

// TestForgedPrincipalsAreRefused calls the service port directly, as an
// attacker inside the network would, with every way of faking a caller.
func TestForgedPrincipalsAreRefused(t *testing.T) {
	client, keys, spec := startWithSpec(t)
	sameKeys, err := principal.ParseKeys(spec)
	require.NoError(t, err)
	otherSecret := make([]byte, 32)
	_, _ = rand.Read(otherSecret)
	forger, err := principal.NewKeyring([]principal.Key{{ID: "test", Secret: otherSecret}}, nil)
	require.NoError(t, err)
	past, err := principal.NewKeyring(sameKeys, func() time.Time { return time.Now().Add(-time.Hour) })
	require.NoError(t, err)
	valid, err := keys.Sign(service("rid-1"))
	require.NoError(t, err)

	for _, tt := range []struct {
		name string
		md   metadata.MD
		want codes.Code
	}{
		{"no principal", metadata.Pairs("x-request-id", "rid-1"), codes.Unauthenticated},
		{"garbage", metadata.Pairs("x-request-id", "rid-1", principal.MetadataKey, "v1.test.AAAA.BBBB"), codes.Unauthenticated},
		{"signed with another key", metadata.Pairs("x-request-id", "rid-1", principal.MetadataKey, mustSign(t, forger, service("rid-1"))), codes.Unauthenticated},
		{"expired", metadata.Pairs("x-request-id", "rid-1", principal.MetadataKey, mustSign(t, past, service("rid-1"))), codes.Unauthenticated},
		{"replayed on another request", metadata.Pairs("x-request-id", "rid-2", principal.MetadataKey, valid), codes.Unauthenticated},
		{"tampered body", metadata.Pairs("x-request-id", "rid-1", principal.MetadataKey, tamper(valid)), codes.Unauthenticated},
		{"anonymous caller", metadata.Pairs("x-request-id", "rid-3", principal.MetadataKey, mustSign(t, keys, &authzv1.Principal{Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_ANONYMOUS, RequestId: "rid-3"})), codes.Unauthenticated},
		{"user caller on a services-only RPC", metadata.Pairs("x-request-id", "rid-4", principal.MetadataKey, mustSign(t, keys, &authzv1.Principal{Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_USER, UserId: "u", OrgId: "o", Role: "ADMIN", RequestId: "rid-4", SessionState: authzv1.SessionState_SESSION_STATE_ACTIVE})), codes.PermissionDenied},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := metadata.NewOutgoingContext(context.Background(), tt.md)
			_, err := client.Check(ctx, &authzv1.CheckRequest{Role: "ADMIN", Permission: "alerts:read"})
			require.Equal(t, tt.want, status.Code(err), "err: %v", err)
		})
	}
}

func mustSign(t *testing.T, k *principal.Keyring, p *authzv1.Principal) string {
	t.Helper()
	s, err := k.Sign(p)
	require.NoError(t, err)
	return s
}

// tamper flips one character of the encoded body, keeping the signature.
func tamper(wire string) string {
	b := []byte(wire)
	i := len("v1.test.") + 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
