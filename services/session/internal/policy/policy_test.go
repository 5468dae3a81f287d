package policy

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/platform/grpcclient"
	"github.com/watchtower/authplane/platform/grpcserver"
	"github.com/watchtower/authplane/platform/testenv"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type authz struct {
	authzv1.UnimplementedAuthorizationServiceServer
	calls atomic.Int64
	down  atomic.Bool
}

func (a *authz) GetPolicy(context.Context, *authzv1.GetPolicyRequest) (*authzv1.GetPolicyResponse, error) {
	a.calls.Add(1)
	if a.down.Load() {
		return nil, status.Error(codes.Unavailable, "down")
	}
	perms := []string{"alerts:read"}
	if a.calls.Load() > 1 {
		perms = append(perms, "cases:write")
	}
	return &authzv1.GetPolicyResponse{Version: "v", Roles: []*authzv1.RolePermissions{{Role: "ANALYST", Permissions: perms}}}, nil
}

type clock struct{ ms atomic.Int64 }

func (c *clock) Now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *clock) Advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

func TestCache(t *testing.T) {
	keys, _ := testenv.Keyring(t)
	srv := grpcserver.New(grpcserver.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Keyring: keys})
	a := &authz{}
	authzv1.RegisterAuthorizationServiceServer(srv.Server, a)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.ServeListener(ctx, lis); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	cc, err := grpcclient.Dial(lis.Addr().String(), "session", keys)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })

	clk := &clock{}
	clk.ms.Store(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixMilli())
	c := New(cc, clk.Now, time.Minute)
	bg := context.Background()

	perms, err := c.ForRole(bg, "ANALYST")
	require.NoError(t, err)
	require.Equal(t, []string{"alerts:read"}, perms)
	perms, err = c.ForRole(bg, "NOBODY")
	require.NoError(t, err)
	require.Empty(t, perms)
	require.Equal(t, int64(1), a.calls.Load(), "served from the cache")

	clk.Advance(time.Minute)
	perms, err = c.ForRole(bg, "ANALYST")
	require.NoError(t, err)
	require.Equal(t, []string{"alerts:read", "cases:write"}, perms, "refreshed after a minute")

	a.down.Store(true)
	clk.Advance(time.Minute)
	perms, err = c.ForRole(bg, "ANALYST")
	require.NoError(t, err, "a recent table serves through a short outage")
	require.Len(t, perms, 2)

	clk.Advance(10 * time.Minute)
	_, err = c.ForRole(bg, "ANALYST")
	e, ok := apperr.As(err)
	require.True(t, ok, "got %v", err)
	require.Equal(t, apperr.KindUnavailable, e.Kind, "fails closed once the table is too old")
}
