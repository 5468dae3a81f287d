package grpcapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	ingestionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/ingestion/v1"
	"google.golang.org/grpc/codes"
)

func (e *env) createKey(org, env string, cidrs ...string) *ingestionv1.CreateApiKeyResponse {
	e.t.Helper()
	res, err := e.client.CreateApiKey(e.service(), &ingestionv1.CreateApiKeyRequest{OrgId: org, Name: "core banking", Environment: env, AllowedCidrs: cidrs})
	require.NoError(e.t, err)
	return res
}

func (e *env) verify(secret string) (*ingestionv1.VerifyApiKeyResponse, error) {
	return e.client.VerifyApiKey(e.service(), &ingestionv1.VerifyApiKeyRequest{Secret: secret})
}

func requireInvalidKey(t *testing.T, err error) {
	t.Helper()
	code, reason, _, _ := reasonOf(t, err)
	require.Equal(t, codes.Unauthenticated, code)
	require.Equal(t, "invalid_api_key", reason)
}

func TestKeyLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	created := e.createKey("org-a", "test", "10.0.0.0/8", "192.168.1.7")
	secret := created.GetSecret()
	require.True(t, strings.HasPrefix(secret, "wt_test_"))
	k := created.GetApiKey()
	require.Equal(t, "active", k.GetStatus())
	require.True(t, strings.HasPrefix(secret, k.GetPrefix()))
	require.Equal(t, []string{"10.0.0.0/8", "192.168.1.7/32"}, k.GetAllowedCidrs())

	v, err := e.verify(secret)
	require.NoError(t, err)
	require.Equal(t, k.GetId(), v.GetApiKeyId())
	require.Equal(t, "org-a", v.GetOrgId())
	require.Equal(t, "test", v.GetEnvironment())
	require.Equal(t, []string{"10.0.0.0/8", "192.168.1.7/32"}, v.GetAllowedCidrs())

	// The secret is stored only as a hash.
	var stored int
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM api_keys WHERE secret_hash = $1 OR prefix = $1`, created.GetSecret()).Scan(&stored))
	require.Zero(t, stored)

	t.Run("tampered checksum is refused without a store look-up", func(t *testing.T) {
		s := secret
		last := s[len(s)-1]
		repl := byte('a')
		if last == 'a' {
			repl = 'b'
		}
		before := e.keys.lookups.Load()
		for _, bad := range []string{s[:len(s)-1] + string(repl), "wt_live_" + s[8:], s[:20], "", "not-a-key"} {
			_, err := e.verify(bad)
			requireInvalidKey(t, err)
		}
		require.Equal(t, before, e.keys.lookups.Load())
	})

	t.Run("well-formed but unknown costs one look-up", func(t *testing.T) {
		other := newEnv(t, envOptions{}).createKey("org-z", "test").GetSecret()
		before := e.keys.lookups.Load()
		_, err := e.verify(other)
		requireInvalidKey(t, err)
		require.Equal(t, before+1, e.keys.lookups.Load())
	})

	t.Run("rotate without grace refuses the old secret at once", func(t *testing.T) {
		rot, err := e.client.RotateApiKey(e.user("org-a"), &ingestionv1.RotateApiKeyRequest{Id: k.GetId()})
		require.NoError(t, err)
		require.NotNil(t, rot.GetApiKey().GetRotatedAt())
		_, err = e.verify(secret)
		requireInvalidKey(t, err)
		_, err = e.verify(rot.GetSecret())
		require.NoError(t, err)
		secret = rot.GetSecret()
	})

	t.Run("rotate with grace keeps both until it ends", func(t *testing.T) {
		rot, err := e.client.RotateApiKey(e.user("org-a"), &ingestionv1.RotateApiKeyRequest{Id: k.GetId(), GracePeriodSeconds: 60})
		require.NoError(t, err)
		old, err := e.verify(secret)
		require.NoError(t, err)
		require.Equal(t, e.now.Load().Add(60*time.Second).UnixMilli(), old.GetValidUntilUnixMs())
		cur, err := e.verify(rot.GetSecret())
		require.NoError(t, err)
		require.Zero(t, cur.GetValidUntilUnixMs())
		e.advance(61 * time.Second)
		_, err = e.verify(secret)
		requireInvalidKey(t, err)
		_, err = e.verify(rot.GetSecret())
		require.NoError(t, err)
		secret = rot.GetSecret()
	})

	t.Run("another org's key is not found", func(t *testing.T) {
		_, err := e.client.RevokeApiKey(e.user("org-b"), &ingestionv1.RevokeApiKeyRequest{Id: k.GetId()})
		code, _, _, _ := reasonOf(t, err)
		require.Equal(t, codes.NotFound, code)
		_, err = e.client.RotateApiKey(e.user("org-b"), &ingestionv1.RotateApiKeyRequest{Id: k.GetId()})
		code, _, _, _ = reasonOf(t, err)
		require.Equal(t, codes.NotFound, code)
		list, err := e.client.ListApiKeys(e.user("org-b"), &ingestionv1.ListApiKeysRequest{OrgId: "org-a"})
		require.NoError(t, err)
		require.Empty(t, list.GetApiKeys())
	})

	t.Run("revoke refuses at once and publishes", func(t *testing.T) {
		sub := e.rdb.Subscribe(context.Background(), e.prefix+"apikeys:invalidate")
		defer sub.Close()
		_, err := sub.Receive(context.Background())
		require.NoError(t, err)
		_, err = e.client.RevokeApiKey(e.user("org-a"), &ingestionv1.RevokeApiKeyRequest{Id: k.GetId()})
		require.NoError(t, err)
		_, err = e.verify(secret)
		requireInvalidKey(t, err)
		msg, err := sub.ReceiveMessage(context.Background())
		require.NoError(t, err)
		require.Equal(t, k.GetId(), msg.Payload)
		list, err := e.client.ListApiKeys(e.user("org-a"), &ingestionv1.ListApiKeysRequest{})
		require.NoError(t, err)
		require.Len(t, list.GetApiKeys(), 1)
		require.Equal(t, "revoked", list.GetApiKeys()[0].GetStatus())
		require.NotNil(t, list.GetApiKeys()[0].GetRevokedAt())
		_, err = e.client.RotateApiKey(e.user("org-a"), &ingestionv1.RotateApiKeyRequest{Id: k.GetId()})
		_, reason, _, _ := reasonOf(t, err)
		require.Equal(t, "api_key_revoked", reason)
	})
}

func TestCreateApiKeyValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	_, err := e.client.CreateApiKey(e.user("org-a"), &ingestionv1.CreateApiKeyRequest{Name: "", Environment: "prod", AllowedCidrs: []string{"10.0.0.0/33"}})
	_, reason, _, fields := reasonOf(t, err)
	require.Equal(t, "validation_failed", reason)
	require.Equal(t, []string{"name:required", "environment:invalid", "allowedCidrs:invalid"}, fields)
	_, err = e.client.CreateApiKey(e.service(), &ingestionv1.CreateApiKeyRequest{Name: "x", Environment: "live"})
	_, _, _, fields = reasonOf(t, err)
	require.Equal(t, []string{"orgId:required"}, fields)
	// A user's org comes from the signed principal, never from the body.
	res, err := e.client.CreateApiKey(e.user("org-a"), &ingestionv1.CreateApiKeyRequest{OrgId: "org-b", Name: "x", Environment: "live"})
	require.NoError(t, err)
	v, err := e.verify(res.GetSecret())
	require.NoError(t, err)
	require.Equal(t, "org-a", v.GetOrgId())
}

func TestOrgAllowedCidrsReachVerify(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	secret := e.createKey("org-a", "live").GetSecret()
	_, err := e.client.SetOrgAllowedCidrs(e.service(), &ingestionv1.SetOrgAllowedCidrsRequest{OrgId: "org-a", AllowedCidrs: []string{"203.0.113.0/24"}})
	require.NoError(t, err)
	v, err := e.verify(secret)
	require.NoError(t, err)
	require.Equal(t, []string{"203.0.113.0/24"}, v.GetOrgAllowedCidrs())
	require.Empty(t, v.GetAllowedCidrs())
}

func TestLastUsedAtKeptWithoutWritePerRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	created := e.createKey("org-a", "test")
	id := created.GetApiKey().GetId()
	send := func(ref string) {
		_, err := e.client.Ingest(e.apiKey("org-a", id), &ingestionv1.IngestRequest{IdempotencyKey: ref, Body: []byte(body(ref, "1"))})
		require.NoError(t, err)
	}
	lastUsed := func() *time.Time {
		var at *time.Time
		require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT last_used_at FROM api_keys WHERE id = $1`, id).Scan(&at))
		return at
	}
	send("R-1")
	send("R-2")
	require.Nil(t, lastUsed(), "no Postgres write on the request path")
	n, err := e.rdb.HLen(context.Background(), e.prefix+"apikeys:lastused").Result()
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	require.NoError(t, e.svc.FlushUsage(context.Background()))
	first := lastUsed()
	require.NotNil(t, first)
	require.WithinDuration(t, *e.now.Load(), *first, time.Second)

	e.advance(10 * time.Second)
	send("R-3")
	require.NoError(t, e.svc.FlushUsage(context.Background()))
	require.Equal(t, *first, *lastUsed(), "noted at most once per 30 s")
	e.advance(50 * time.Second)
	send("R-4")
	require.NoError(t, e.svc.FlushUsage(context.Background()))
	require.WithinDuration(t, *e.now.Load(), *lastUsed(), time.Second)
}

// Regression: a rotation racing a revocation answered 404 not_found for a
// key that exists (revoked between the look-up and the update).
func TestRotateRacingRevokeIsApiKeyRevoked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	id := e.createKey("org-race", "test").GetApiKey().GetId()
	revoke := func() {
		_, err := e.client.RevokeApiKey(e.service(), &ingestionv1.RevokeApiKeyRequest{OrgId: "org-race", Id: id})
		require.NoError(t, err)
	}
	e.keys.beforeRotate.Store(&revoke)
	_, err := e.client.RotateApiKey(e.service(), &ingestionv1.RotateApiKeyRequest{OrgId: "org-race", Id: id})
	code, reason, _, _ := reasonOf(t, err)
	require.Equal(t, codes.FailedPrecondition, code)
	require.Equal(t, "api_key_revoked", reason)
}
