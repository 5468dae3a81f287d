package grpcapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	ingestionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/ingestion/v1"
	"google.golang.org/grpc/codes"
)

// bodyWith is body(ref, amount) with extra members appended, then each
// old -> new replacement of edits applied.
func bodyWith(ref, amount, extra string, edits ...string) string {
	b := body(ref, amount)
	if extra != "" {
		b = strings.TrimSuffix(b, "}") + "," + extra + "}"
	}
	for i := 0; i+1 < len(edits); i += 2 {
		b = strings.Replace(b, edits[i], edits[i+1], 1)
	}
	return b
}

func TestIngestRefusesUnstorableAndDuplicatedBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for _, tt := range []struct {
		name string
		body string
		want []string
	}{
		{"NUL in a metadata value", bodyWith("R-1", "1", `"metadata":{"sourceSystem":"a\u0000b"}`), []string{"metadata.sourceSystem:invalid_character"}},
		{"NUL in a metadata key", bodyWith("R-1", "1", `"metadata":{"a\u0000":"x"}`), []string{"metadata.a\uFFFD:invalid_character"}},
		{"NUL in nested metadata", bodyWith("R-1", "1", `"metadata":{"a":{"b":["\u0000"]}}`), []string{"metadata.a.b[0]:invalid_character"}},
		{"unpaired surrogate in metadata", bodyWith("R-1", "1", `"metadata":{"a":"\ud800"}`), []string{"metadata.a:invalid_character"}},
		{"unpaired surrogate in narration", bodyWith("R-1", "1", "", `"narration":"rent"`, `"narration":"\udfff"`), []string{"narration:invalid_character"}},
		{"duplicate amount", bodyWith("R-1", "1", `"amount":99999999`), []string{"amount:duplicate_key"}},
		{"duplicate sender.id", bodyWith("R-1", "1", "", `"id":"C-1"`, `"id":"C-1","id":"C-9"`), []string{"sender.id:duplicate_key"}},
		{"duplicate receiver.name", bodyWith("R-1", "1", "", `"name":"Bo"`, `"name":"Bo","name":"Al"`), []string{"receiver.name:duplicate_key"}},
		{"duplicate device.ipAddress", bodyWith("R-1", "1", `"device":{"ipAddress":"10.0.0.1","ipAddress":"10.0.0.2"}`), []string{"device.ipAddress:duplicate_key"}},
		{"duplicate in metadata", bodyWith("R-1", "1", `"metadata":{"a":{"b":1,"b":2}}`), []string{"metadata.a.b:duplicate_key"}},
		// Regression: Postgres refused these values after validation (500s).
		{"number beyond Postgres numeric in metadata", bodyWith("R-1", "1", `"metadata":{"a":1e1000000}`), []string{"metadata.a:out_of_range"}},
		{"timestamp in year 0 UTC", bodyWith("R-1", "1", "", "2026-12-01T10:00:00.000Z", "0001-01-01T00:00:00+01:00"), []string{"timestamp:out_of_range"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.ingest("org-a", "k-"+tt.name, tt.body)
			code, reason, _, fields := reasonOf(t, err)
			require.Equal(t, codes.InvalidArgument, code)
			require.Equal(t, "validation_failed", reason)
			require.Equal(t, tt.want, fields)
		})
	}
	require.Zero(t, e.rows("org-a"), "nothing stored")
	// No idempotency record was left: a fixed body may reuse a key.
	_, err := e.ingest("org-a", "k-duplicate amount", body("R-1", "1"))
	require.NoError(t, err)
}

func TestIngestStoresNumbersAndTimestampsAtTheBounds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	meta := `"metadata":{"a":1e1000,"b":-1E-1000,"c":0.` + strings.Repeat("9", 998) + `}`
	for i, ts := range []string{"0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"} {
		b := bodyWith(fmt.Sprintf("R-%d", i), "1", meta, "2026-12-01T10:00:00.000Z", ts)
		_, err := e.ingest("org-a", fmt.Sprintf("k-%d", i), b)
		require.NoError(t, err, ts)
	}
	require.Equal(t, 2, e.rows("org-a"))
}

func TestDuplicateKeyBodyIsNotReplayedAsTheStoredOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	_, err := e.ingest("org-a", "k-1", body("TXN-1", "99999999"))
	require.NoError(t, err)
	// Last-wins would read this as the stored body and replay its 201.
	ambiguous := strings.Replace(body("TXN-1", "99999999"), `"amount":99999999`, `"amount":1,"amount":99999999`, 1)
	_, err = e.ingest("org-a", "k-1", ambiguous)
	code, reason, _, _ := reasonOf(t, err)
	require.Equal(t, codes.FailedPrecondition, code)
	require.Equal(t, "idempotency_key_reused", reason)
	require.Equal(t, 1, e.rows("org-a"))
}

func TestDataExceptionIsInternalNotUnavailable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.txs.corrupt.Store(true)
	_, err := e.ingest("org-a", "k-1", body("TXN-1", "100"))
	code, reason, _, _ := reasonOf(t, err)
	require.Equal(t, codes.Internal, code, "a retry cannot help: not 503")
	require.Equal(t, "internal", reason)
	e.txs.corrupt.Store(false)
	res, err := e.ingest("org-a", "k-1", body("TXN-1", "100"))
	require.NoError(t, err, "the claim was released")
	require.False(t, res.GetReplayed())
	require.Equal(t, 1, e.rows("org-a"))
}

func TestKeyAndControlInputsWithUnstorableCharacters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for _, tt := range []struct {
		name string
		call func() error
		want []string
	}{
		{"NUL in a key name", func() error {
			_, err := e.client.CreateApiKey(e.user("org-a"), &ingestionv1.CreateApiKeyRequest{Name: "a\x00b", Environment: "test"})
			return err
		}, []string{"name:invalid_character"}},
		{"control character in a key name", func() error {
			_, err := e.client.CreateApiKey(e.user("org-a"), &ingestionv1.CreateApiKeyRequest{Name: "a\x1bb", Environment: "test"})
			return err
		}, []string{"name:invalid_character"}},
		{"NUL in an allowed CIDR of a key", func() error {
			_, err := e.client.CreateApiKey(e.user("org-a"), &ingestionv1.CreateApiKeyRequest{Name: "x", Environment: "test", AllowedCidrs: []string{"10.0.0.0/8\x00"}})
			return err
		}, []string{"allowedCidrs:invalid"}},
		{"NUL in an org allowed CIDR", func() error {
			_, err := e.client.SetOrgAllowedCidrs(e.service(), &ingestionv1.SetOrgAllowedCidrsRequest{OrgId: "org-a", AllowedCidrs: []string{"\x00"}})
			return err
		}, []string{"allowedCidrs:invalid"}},
		{"NUL in a service's orgId on create", func() error {
			_, err := e.client.CreateApiKey(e.service(), &ingestionv1.CreateApiKeyRequest{OrgId: "org\x00", Name: "x", Environment: "test"})
			return err
		}, []string{"orgId:invalid_character"}},
		{"NUL in a service's orgId on list", func() error {
			_, err := e.client.ListApiKeys(e.service(), &ingestionv1.ListApiKeysRequest{OrgId: "org\x00"})
			return err
		}, []string{"orgId:invalid_character"}},
		{"NUL in a service's orgId on controls", func() error {
			_, err := e.client.GetControls(e.service(), &ingestionv1.GetControlsRequest{OrgId: "\x00"})
			return err
		}, []string{"orgId:invalid_character"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, reason, _, fields := reasonOf(t, tt.call())
			require.Equal(t, codes.InvalidArgument, code)
			require.Equal(t, "validation_failed", reason)
			require.Equal(t, tt.want, fields)
		})
	}
}

func TestRotateRevokeMalformedIDIsNotFoundWithoutLookUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	id := e.createKey("org-a", "test").GetApiKey().GetId()
	before := e.keys.byID.Load()
	for _, bad := range []string{"", "a\x00b", "key_\x00", id + "\x00", "nope", "key_" + strings.Repeat("A", 32),
		"key_" + strings.Repeat("a", 31), id + "0", strings.TrimPrefix(id, "key_")} {
		t.Run(strings.ToValidUTF8(bad, "?"), func(t *testing.T) {
			_, err := e.client.RotateApiKey(e.user("org-a"), &ingestionv1.RotateApiKeyRequest{Id: bad})
			code, reason, _, _ := reasonOf(t, err)
			require.Equal(t, codes.NotFound, code)
			require.Equal(t, "not_found", reason)
			_, err = e.client.RevokeApiKey(e.user("org-a"), &ingestionv1.RevokeApiKeyRequest{Id: bad})
			code, reason, _, _ = reasonOf(t, err)
			require.Equal(t, codes.NotFound, code)
			require.Equal(t, "not_found", reason)
		})
	}
	require.Equal(t, before, e.keys.byID.Load(), "no store look-up for a malformed id")
	// A well-formed unknown id does reach the store.
	_, err := e.client.RevokeApiKey(e.user("org-a"), &ingestionv1.RevokeApiKeyRequest{Id: "key_" + strings.Repeat("0", 32)})
	code, _, _, _ := reasonOf(t, err)
	require.Equal(t, codes.NotFound, code)
	require.Equal(t, before+1, e.keys.byID.Load())
	_, err = e.client.RevokeApiKey(e.user("org-a"), &ingestionv1.RevokeApiKeyRequest{Id: id})
	require.NoError(t, err)
}
