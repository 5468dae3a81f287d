package e2e_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOrganizationsAreIsolated: a second organization's admin, with valid
// credentials of their own, can neither see nor touch the first one's keys,
// transactions or controls, and the first org's key ingests for it alone.
func TestOrganizationsAreIsolated(t *testing.T) {
	s := StartStack(t, StackOptions{})
	base := s.Gateways[0]
	bootstrap(t, s, "Acme Bank", "ada@acme.test", adminPassword)
	bootstrap(t, s, "Other Bank", "olu@other.test", adminPassword)
	acme := login(t, base, "ada@acme.test", adminPassword)
	other := login(t, base, "olu@other.test", adminPassword)

	r := call(t, http.MethodPost, base+"/api/v1/org/api-keys", []byte(`{"name":"acme","environment":"test"}`), acme.headers()...)
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	acmeSecret := r.JSON(t)["secret"].(string)
	acmeKeyID := r.JSON(t)["apiKey"].(map[string]any)["id"].(string)
	tx := call(t, http.MethodPost, base+"/api/v1/transactions", txBody("ACME-1", 100), "x-api-key", acmeSecret, "idempotency-key", "iso-1")
	require.Equal(t, http.StatusCreated, tx.StatusCode, string(tx.Body))
	txID := tx.JSON(t)["transaction"].(map[string]any)["id"].(string)

	// The other admin sees none of it.
	keys := call(t, http.MethodGet, base+"/api/v1/org/api-keys", nil, other.headers()...)
	require.Equal(t, http.StatusOK, keys.StatusCode, string(keys.Body))
	require.NotContains(t, string(keys.Body), acmeKeyID)
	txs := call(t, http.MethodGet, base+"/api/v1/transactions", nil, other.headers()...)
	require.Equal(t, http.StatusOK, txs.StatusCode, string(txs.Body))
	require.NotContains(t, string(txs.Body), txID)

	// Nor can they rotate or revoke the first org's key by its id.
	rot := call(t, http.MethodPost, base+"/api/v1/org/api-keys/"+acmeKeyID+"/rotate", []byte(`{}`), other.headers()...)
	require.Equal(t, http.StatusNotFound, rot.StatusCode, string(rot.Body))
	del := call(t, http.MethodDelete, base+"/api/v1/org/api-keys/"+acmeKeyID, nil, other.headers()...)
	require.Equal(t, http.StatusNotFound, del.StatusCode, string(del.Body))
	require.Equal(t, http.StatusCreated,
		call(t, http.MethodPost, base+"/api/v1/transactions", txBody("ACME-2", 100), "x-api-key", acmeSecret, "idempotency-key", "iso-2").StatusCode,
		"the first org's key still works")

	// Controls are per org: the other org's change leaves the first org's decisions alone.
	put := call(t, http.MethodPut, base+"/api/v1/org/controls", []byte(`{"reviewAmount":"1","blockAmount":"2"}`), other.headers()...)
	require.Equal(t, http.StatusOK, put.StatusCode, string(put.Body))
	own := call(t, http.MethodPost, base+"/api/v1/transactions", txBody("ACME-3", 100), "x-api-key", acmeSecret, "idempotency-key", "iso-3")
	require.Equal(t, http.StatusCreated, own.StatusCode, string(own.Body))
	require.Equal(t, "ALLOW", own.JSON(t)["decision"].(map[string]any)["outcome"])

	// The first org's own admin does see its transaction.
	mine := call(t, http.MethodGet, base+"/api/v1/transactions", nil, acme.headers()...)
	require.Contains(t, string(mine.Body), txID)
}
