package e2e_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestKeyAndControlChangesReachTheAuditTrail: the console's key and
// controls changes land in identity's audit trail (the one
// GET /api/v1/org/audit-events will read), with the acting user, their
// address and user agent, and never a secret.
func TestKeyAndControlChangesReachTheAuditTrail(t *testing.T) {
	s := StartStack(t, StackOptions{})
	base := s.Gateways[0]
	orgID, userID := bootstrap(t, s, "Acme Bank", "ada@acme.test", adminPassword)
	ada := login(t, base, "ada@acme.test", adminPassword)

	r := call(t, http.MethodPost, base+"/api/v1/org/api-keys", []byte(`{"name":"core","environment":"live"}`), ada.headers("User-Agent", "console-e2e")...)
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	secret := r.JSON(t)["secret"].(string)
	keyID := r.JSON(t)["apiKey"].(map[string]any)["id"].(string)
	put := call(t, http.MethodPut, base+"/api/v1/org/controls", []byte(`{"velocityMaxCount":5}`), ada.headers("User-Agent", "console-e2e")...)
	require.Equal(t, http.StatusOK, put.StatusCode, string(put.Body))
	del := call(t, http.MethodDelete, base+"/api/v1/org/api-keys/"+keyID, nil, ada.headers("User-Agent", "console-e2e")...)
	require.Equal(t, http.StatusNoContent, del.StatusCode, string(del.Body))

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.PostgresURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	type event struct{ Type, Actor, Target, IP, UA, Data string }
	var got []event
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows, err := conn.Query(ctx, `SELECT type, actor_id, target_id, ip, user_agent, data::text FROM identity.audit_events
WHERE org_id = $1 AND (type LIKE 'api\_key.%' OR type LIKE 'org.controls%') ORDER BY at, id`, orgID)
		require.NoError(t, err)
		got, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (event, error) {
			var e event
			return e, row.Scan(&e.Type, &e.Actor, &e.Target, &e.IP, &e.UA, &e.Data)
		})
		require.NoError(t, err)
		if len(got) >= 3 || time.Now().After(deadline) {
			break
		}
		waitABit(20 * time.Millisecond)
	}
	require.Len(t, got, 3, "events: %+v\n%s", got, s.Logs())
	types := map[string]event{}
	for _, e := range got {
		types[e.Type] = e
		require.Equal(t, userID, e.Actor)
		require.Equal(t, "127.0.0.1", e.IP)
		require.Equal(t, "console-e2e", e.UA)
		require.NotContains(t, e.Data, secret)
	}
	require.Equal(t, keyID, types["api_key.created"].Target)
	require.Equal(t, keyID, types["api_key.revoked"].Target)
	require.Equal(t, orgID, types["org.controls_updated"].Target)
	require.Contains(t, types["org.controls_updated"].Data, `"velocityMaxCount": "5"`)

	// The relay deletes a round's events when identity has them all, in
	// its own commit: poll for it too.
	var left int
	for {
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM ingestion.audit_outbox`).Scan(&left))
		if left == 0 || time.Now().After(deadline) {
			break
		}
		waitABit(20 * time.Millisecond)
	}
	require.Zero(t, left, "the outbox is empty once delivered")
}
