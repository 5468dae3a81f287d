package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func txBody(ref string, amount any) []byte {
	b, _ := json.Marshal(map[string]any{
		"reference": ref, "amount": amount, "currency": "NGN", "channel": "MOBILE",
		"transactionType": "DEBIT", "transactionCategory": "TRANSFER", "timestamp": "2026-12-01T10:00:00.000Z",
		"sender":   map[string]any{"id": "C-1", "partyType": "BANK_ACCOUNT"},
		"receiver": map[string]any{"id": "C-2", "partyType": "BANK_ACCOUNT"},
	})
	return b
}

// TestIngestionThroughTheGateway drives the ingestion route and the API-key
// administration routes through the real gateway binary.
func TestIngestionThroughTheGateway(t *testing.T) {
	s := StartStack(t, StackOptions{})
	base := s.Gateways[0]
	orgID, _ := bootstrap(t, s, "Acme Bank", "ada@acme.test", adminPassword)
	admin := login(t, base, "ada@acme.test", adminPassword)

	out, err := s.Wtctl("", "api-key", "create", "--org", orgID, "--name", "cli", "--environment", "test")
	require.NoError(t, err)
	var created struct {
		Secret string `json:"secret"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &created))
	require.True(t, strings.HasPrefix(created.Secret, "wt_test_"), out)

	url := base + "/api/v1/transactions"
	ingest := func(key, idem string, body []byte, extra ...string) resp {
		h := append([]string{"x-api-key", key, "idempotency-key", idem}, extra...)
		return call(t, http.MethodPost, url, body, h...)
	}
	first := ingest(created.Secret, "k-1", txBody("TXN-1", 25000))
	require.Equal(t, http.StatusCreated, first.StatusCode, string(first.Body))
	require.Equal(t, "ALLOW", first.JSON(t)["decision"].(map[string]any)["outcome"])
	again := ingest(created.Secret, "k-1", txBody("TXN-1", 25000))
	require.Equal(t, http.StatusCreated, again.StatusCode)
	require.Equal(t, "true", again.Header.Get("idempotent-replayed"))
	require.Equal(t, string(first.Body), string(again.Body), "byte for byte")

	for _, tt := range []struct {
		name   string
		r      resp
		status int
		code   string
	}{
		{"session cookie instead of a key", call(t, http.MethodPost, url, txBody("TXN-2", 1), append(admin.headers(), "idempotency-key", "k-2")...), 401, "api_key_required"},
		{"malformed key", ingest("wt_test_nope", "k-3", txBody("TXN-3", 1)), 401, "invalid_api_key"},
		{"missing idempotency key", call(t, http.MethodPost, url, txBody("TXN-4", 1), "x-api-key", created.Secret), 400, "idempotency_key_required"},
		{"same key, other body", ingest(created.Secret, "k-1", txBody("TXN-1", 26000)), 422, "idempotency_key_reused"},
		{"text/plain after a valid key", ingest(created.Secret, "k-5", txBody("TXN-5", 1), "Content-Type", "text/plain"), 415, "unsupported_media_type"},
		{"no key and a wrong content type: the key comes first", call(t, http.MethodPost, url, []byte("x"), "Content-Type", "text/plain", "idempotency-key", "k-6"), 401, "api_key_required"},
		{"API key on a console route", call(t, http.MethodGet, base+"/api/v1/auth/session", nil, "x-api-key", created.Secret), 401, "unauthenticated"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.status, tt.r.StatusCode, string(tt.r.Body))
			require.Equal(t, tt.code, tt.r.ErrorCode(t))
		})
	}

	// Key administration from the console: create (201), list (no secret), revoke (204).
	r := call(t, http.MethodPost, base+"/api/v1/org/api-keys", []byte(`{"name":"console","environment":"live"}`), admin.headers()...)
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	m := r.JSON(t)
	secret := m["secret"].(string)
	id := m["apiKey"].(map[string]any)["id"].(string)
	require.True(t, strings.HasPrefix(secret, "wt_live_"))
	require.Equal(t, http.StatusCreated, ingest(secret, "k-7", txBody("TXN-7", 5)).StatusCode)
	// Regression: such User-Agents were a 500 and a 401 for a valid key.
	require.Equal(t, http.StatusCreated, ingest(secret, "k-ua1", txBody("TXN-UA1", 5), "User-Agent", "bad\xffagent").StatusCode)
	require.Equal(t, http.StatusCreated, ingest(secret, "k-ua2", txBody("TXN-UA2", 5), "User-Agent", strings.Repeat("u", 5000)).StatusCode)
	list := call(t, http.MethodGet, base+"/api/v1/org/api-keys", nil, admin.headers()...)
	require.Equal(t, http.StatusOK, list.StatusCode, string(list.Body))
	require.NotContains(t, string(list.Body), secret)
	r = call(t, http.MethodDelete, base+"/api/v1/org/api-keys/"+id, nil, admin.headers()...)
	require.Equal(t, http.StatusNoContent, r.StatusCode, string(r.Body))
	// Revocation reaches the gateway's key cache over Redis pub/sub: within
	// a second (the cache would expire it after 5 s anyway).
	deadline := time.Now().Add(time.Second)
	for r = ingest(secret, "k-8", txBody("TXN-8", 5)); r.StatusCode != http.StatusUnauthorized; r = ingest(secret, "k-8", txBody("TXN-8", 5)) {
		require.True(t, time.Now().Before(deadline), "revoked key still accepted: %s", r.Body)
	}
	require.Equal(t, "invalid_api_key", r.ErrorCode(t))

	txs := call(t, http.MethodGet, base+"/api/v1/transactions?pageSize=10", nil, admin.headers()...)
	require.Equal(t, http.StatusOK, txs.StatusCode, string(txs.Body))
	require.GreaterOrEqual(t, len(txs.JSON(t)["transactions"].([]any)), 2, fmt.Sprintf("%s", txs.Body))
	// Regression: invalid UTF-8 in a query value was a 500.
	for _, q := range []string{"pageToken=%ff", "pageToken=%c3%28", "pageToken=%ed%a0%80"} {
		bad := call(t, http.MethodGet, base+"/api/v1/transactions?"+q, nil, admin.headers()...)
		require.Equal(t, http.StatusBadRequest, bad.StatusCode, "%s: %s", q, bad.Body)
		require.Equal(t, "invalid_request", bad.ErrorCode(t))
	}
	// Regression: a numeric page token past 2^31 was a 503 (the cursor was
	// typed int4). Tokens now name a row, never a count: old ones are invalid.
	far := call(t, http.MethodGet, base+"/api/v1/transactions?pageToken="+base64.RawURLEncoding.EncodeToString([]byte("s9223372036854775807")), nil, admin.headers()...)
	require.Equal(t, http.StatusBadRequest, far.StatusCode, string(far.Body))
	require.Equal(t, "invalid_page_token", far.ErrorCode(t))
	other := call(t, http.MethodGet, base+"/api/v1/transactions?pageToken="+base64.RawURLEncoding.EncodeToString([]byte("ttxn_0123456789abcdef")), nil, admin.headers()...)
	require.Equal(t, http.StatusOK, other.StatusCode, string(other.Body))
	require.Empty(t, other.JSON(t)["transactions"], "a row the org does not have: nothing after it")
	empty := call(t, http.MethodGet, base+"/api/v1/transactions?pageToken=&pageSize=", nil, admin.headers()...)
	require.Equal(t, http.StatusOK, empty.StatusCode, "API.md's notation with empty values: %s", empty.Body)
	head := call(t, http.MethodHead, base+"/api/v1/transactions?pageSize=1", nil, admin.headers()...)
	require.Equal(t, http.StatusOK, head.StatusCode)
	require.Empty(t, head.Body)
}
