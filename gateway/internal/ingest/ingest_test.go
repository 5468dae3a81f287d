package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/gateway/internal/apikeyauth"
	"github.com/watchtower/authplane/gateway/internal/edge"
	"github.com/watchtower/authplane/gateway/internal/ingest"
	"github.com/watchtower/authplane/platform/grpcclient"
	"github.com/watchtower/authplane/platform/testenv"
	ingestionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/ingestion/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// ingestionBin is the real ingestion binary, built once.
var ingestionBin string

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "wt-ingest-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		ingestionBin = filepath.Join(dir, "ingestion")
		out, err := exec.Command("go", "build", "-o", ingestionBin, "github.com/watchtower/authplane/services/ingestion/cmd/ingestion").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build ingestion: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type stack struct {
	t        *testing.T
	base     string
	admin    ingestionv1.IngestionServiceClient // signed as wtctl
	verifier *apikeyauth.Verifier
	log      *syncBuf
	pg       string
	// serviceLog is the ingestion process's output.
	serviceLog *syncBuf
}

func (s *stack) exec(sql string) {
	s.t.Helper()
	conn, err := pgx.Connect(context.Background(), s.pg)
	require.NoError(s.t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(context.Background(), sql)
	require.NoError(s.t, err)
}

// startStack runs the ingestion binary over a fresh database and Redis
// prefix, and an httptest gateway (edge middleware + this handler) in front.
func startStack(t *testing.T) *stack {
	t.Helper()
	pg := testenv.Postgres(t)
	rdb, prefix := testenv.Redis(t)
	keyring, keySpec := testenv.Keyring(t)
	grpcAddr, adminAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(ingestionBin)
	cmd.Env = append(os.Environ(), "WT_GRPC_ADDR="+grpcAddr, "WT_ADMIN_ADDR="+adminAddr, "WT_POSTGRES_URL="+pg,
		"WT_REDIS_URL="+testenv.RedisURL(), "WT_REDIS_KEY_PREFIX="+prefix, "WT_PRINCIPAL_KEYS="+keySpec,
		"WT_API_KEY_PEPPER="+strings.Repeat("x", 32), "WT_LOG_LEVEL=debug",
		// No identity here: audit events stay in the outbox (never sent to
		// whatever identity the machine runs on the default port).
		"WT_IDENTITY_ADDR="+freeAddr(t))
	logs := &syncBuf{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("ingestion log:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get("http://" + adminAddr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		require.True(t, time.Now().Before(deadline), "ingestion not ready:\n%s", logs.String())
		select {
		case <-done:
			t.Fatalf("ingestion exited:\n%s", logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}

	cc, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })
	client := ingestionv1.NewIngestionServiceClient(cc)
	adminConn, err := grpcclient.Dial(grpcAddr, "wtctl", keyring)
	require.NoError(t, err)
	t.Cleanup(func() { _ = adminConn.Close() })

	gwLog := &syncBuf{}
	log := slog.New(slog.NewJSONHandler(gwLog, nil))
	v := apikeyauth.New(apikeyauth.Options{Ingestion: client, Keyring: keyring, Redis: rdb, Prefix: prefix, Logger: log})
	ctx, cancel := context.WithCancel(context.Background())
	vdone := make(chan struct{})
	go func() { v.Run(ctx); close(vdone) }()
	t.Cleanup(func() { cancel(); <-vdone })
	// Regression (flaked in CI): tests that count look-ups ran before the
	// invalidation subscription was up, when nothing is cached yet.
	for deadline := time.Now().Add(5 * time.Second); !v.Caching(); {
		require.True(t, time.Now().Before(deadline), "the key cache never came up")
		time.Sleep(5 * time.Millisecond)
	}
	h := ingest.New(ingest.Options{Keyring: keyring, Ingestion: client, Keys: v, MaxBody: 4096, Logger: log})
	// As in the gateway: the handler reads the body itself.
	srv := httptest.NewServer(edge.Middleware(edge.Options{Logger: log, MaxBodyBytes: 1 << 20, RawBodyPaths: []string{"/api/v1/transactions"}})(h))
	t.Cleanup(srv.Close)
	return &stack{t: t, base: srv.URL, admin: ingestionv1.NewIngestionServiceClient(adminConn), verifier: v, log: gwLog, pg: pg, serviceLog: logs}
}

func (s *stack) createKey(org string, cidrs ...string) *ingestionv1.CreateApiKeyResponse {
	s.t.Helper()
	res, err := s.admin.CreateApiKey(context.Background(), &ingestionv1.CreateApiKeyRequest{OrgId: org, Name: "core", Environment: "test", AllowedCidrs: cidrs})
	require.NoError(s.t, err)
	return res
}

type reply struct {
	status int
	header http.Header
	body   []byte
	env    struct {
		Error     string         `json:"error"`
		Details   map[string]any `json:"details"`
		RequestID string         `json:"requestId"`
	}
}

func (s *stack) post(headers map[string]string, body string) reply {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.base+"/api/v1/transactions", strings.NewReader(body))
	require.NoError(s.t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		if v == "<none>" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	r := reply{status: res.StatusCode, header: res.Header, body: b}
	if res.StatusCode >= 300 {
		require.NoError(s.t, json.Unmarshal(b, &r.env), string(b))
		require.Equal(s.t, res.Header.Get("X-Request-Id"), r.env.RequestID)
	}
	return r
}

func txBody(ref string) string {
	return fmt.Sprintf(`{"reference":%q,"amount":"150.25","currency":"NGN","channel":"MOBILE","transactionType":"DEBIT",
"transactionCategory":"TRANSFER","timestamp":"2026-12-01T10:00:00.000Z","sender":{"id":"C-1"},"receiver":{"id":"C-2"}}`, ref)
}

func TestGatewayIngestionRows(t *testing.T) {
	s := startStack(t)
	secret := s.createKey("org-a").GetSecret()
	ok := map[string]string{"X-Api-Key": secret, "Idempotency-Key": "k-1"}
	with := func(k, v string) map[string]string {
		m := map[string]string{"X-Api-Key": secret, "Idempotency-Key": "k-x"}
		m[k] = v
		return m
	}

	t.Run("accepted", func(t *testing.T) {
		r := s.post(ok, txBody("TXN-1"))
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
		require.Empty(t, r.header.Get("Idempotent-Replayed"))
		require.NotEmpty(t, r.header.Get("X-Request-Id"))
		var got struct {
			Transaction struct{ ID, Reference string } `json:"transaction"`
			Decision    struct{ Outcome string }       `json:"decision"`
		}
		require.NoError(t, json.Unmarshal(r.body, &got))
		require.Equal(t, "TXN-1", got.Transaction.Reference)
		require.Equal(t, "ALLOW", got.Decision.Outcome)
	})
	t.Run("same idempotency-key, same body, again", func(t *testing.T) {
		h := with("Idempotency-Key", "k-2")
		first := s.post(h, txBody("TXN-2"))
		require.Equal(t, http.StatusCreated, first.status)
		again := s.post(h, txBody("TXN-2"))
		require.Equal(t, first.status, again.status)
		require.Equal(t, first.body, again.body)
		require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
	})
	t.Run("same idempotency-key, different body", func(t *testing.T) {
		r := s.post(ok, txBody("TXN-other"))
		require.Equal(t, http.StatusUnprocessableEntity, r.status)
		require.Equal(t, "idempotency_key_reused", r.env.Error)
	})
	t.Run("idempotency-key missing", func(t *testing.T) {
		r := s.post(with("Idempotency-Key", "<none>"), txBody("TXN-3"))
		require.Equal(t, http.StatusBadRequest, r.status)
		require.Equal(t, "idempotency_key_required", r.env.Error)
	})
	t.Run("idempotency-key empty, over 255 characters or not printable ASCII", func(t *testing.T) {
		for _, k := range []string{"", strings.Repeat("a", 256), "caf\u00e9"} {
			r := s.post(with("Idempotency-Key", k), txBody("TXN-3"))
			require.Equal(t, http.StatusBadRequest, r.status, k)
			require.Equal(t, "idempotency_key_invalid", r.env.Error, k)
		}
	})
	t.Run("x-api-key missing, or a session cookie instead", func(t *testing.T) {
		r := s.post(map[string]string{"Idempotency-Key": "k-4"}, txBody("TXN-4"))
		require.Equal(t, http.StatusUnauthorized, r.status)
		require.Equal(t, "api_key_required", r.env.Error)
		r = s.post(map[string]string{"Idempotency-Key": "k-4", "Cookie": "wt_session=abc"}, txBody("TXN-4"))
		require.Equal(t, http.StatusUnauthorized, r.status)
		require.Equal(t, "api_key_required", r.env.Error)
	})
	t.Run("x-api-key malformed, unknown, revoked, expired or rotated out", func(t *testing.T) {
		other := startStackKeyFromElsewhere(t)
		for _, k := range []string{"nope", tamper(secret), other} {
			r := s.post(with("X-Api-Key", k), txBody("TXN-5"))
			require.Equal(t, http.StatusUnauthorized, r.status, k)
			require.Equal(t, "invalid_api_key", r.env.Error)
		}
	})
	t.Run("caller IP outside the key's or the org's allowed CIDRs", func(t *testing.T) {
		narrow := s.createKey("org-a", "10.0.0.0/8").GetSecret()
		r := s.post(map[string]string{"X-Api-Key": narrow, "Idempotency-Key": "k-6"}, txBody("TXN-6"))
		require.Equal(t, http.StatusForbidden, r.status)
		require.Equal(t, "ip_not_allowed", r.env.Error)
		wide := s.createKey("org-c", "127.0.0.0/8").GetSecret()
		r = s.post(map[string]string{"X-Api-Key": wide, "Idempotency-Key": "k-6"}, txBody("TXN-6"))
		require.Equal(t, http.StatusCreated, r.status)
		_, err := s.admin.SetOrgAllowedCidrs(context.Background(), &ingestionv1.SetOrgAllowedCidrsRequest{OrgId: "org-c", AllowedCidrs: []string{"192.0.2.0/24"}})
		require.NoError(t, err)
		// The change reaches the gateway's key cache over pub/sub: well
		// before the cache TTL, but asynchronously.
		waitStatus(t, http.StatusForbidden, func() int {
			r = s.post(map[string]string{"X-Api-Key": wide, "Idempotency-Key": "k-7"}, txBody("TXN-7"))
			return r.status
		})
		require.Equal(t, "ip_not_allowed", r.env.Error)
	})
	t.Run("reference already ingested for the org under another idempotency-key", func(t *testing.T) {
		r := s.post(with("Idempotency-Key", "k-dup"), txBody("TXN-1"))
		require.Equal(t, http.StatusConflict, r.status)
		require.Equal(t, "duplicate_transaction", r.env.Error)
	})
	t.Run("validation failure", func(t *testing.T) {
		r := s.post(with("Idempotency-Key", "k-val"), `{"reference":"R","amount":-1,"currency":"NGN","junk":true}`)
		require.Equal(t, http.StatusBadRequest, r.status)
		require.Equal(t, "validation_failed", r.env.Error)
		fields, _ := r.env.Details["fields"].([]any)
		require.Contains(t, fields, map[string]any{"field": "amount", "reason": "must_be_positive"})
		require.Contains(t, fields, map[string]any{"field": "junk", "reason": "unknown_field"})
		require.Contains(t, fields, map[string]any{"field": "sender", "reason": "required"})
		r = s.post(with("Idempotency-Key", "k-val"), `{"reference":`)
		require.Equal(t, http.StatusBadRequest, r.status)
		require.Equal(t, "invalid_json", r.env.Error)
	})
	t.Run("content type and size", func(t *testing.T) {
		r := s.post(with("Content-Type", "text/plain"), txBody("TXN-8"))
		require.Equal(t, http.StatusUnsupportedMediaType, r.status)
		require.Equal(t, "unsupported_media_type", r.env.Error)
		r = s.post(with("Idempotency-Key", "k-big"), `{"reference":"`+strings.Repeat("r", 5000)+`"}`)
		require.Equal(t, http.StatusRequestEntityTooLarge, r.status)
		require.Equal(t, "payload_too_large", r.env.Error)
	})
	t.Run("no secret in the logs", func(t *testing.T) {
		require.NotEmpty(t, s.serviceLog.String())
		for _, l := range []string{s.log.String(), s.serviceLog.String()} {
			require.NotContains(t, l, secret)
			require.NotContains(t, l, secret[16:])
		}
	})
}

// tamper changes the last checksum character of a secret.
func tamper(secret string) string {
	last := secret[len(secret)-1]
	repl := "a"
	if last == 'a' {
		repl = "b"
	}
	return secret[:len(secret)-1] + repl
}

// startStackKeyFromElsewhere returns a well-formed key that this stack
// never issued (another pepper and database).
func startStackKeyFromElsewhere(t *testing.T) string {
	return startStack(t).createKey("org-z").GetSecret()
}

func TestGatewayRateLimited(t *testing.T) {
	s := startStack(t)
	secret := s.createKey("org-r").GetSecret()
	// A tiny budget for this org, written where the ingestion service keeps it.
	s.exec(`INSERT INTO ingestion.org_settings (org_id, rate_per_second, rate_burst) VALUES ('org-r', 1, 3)`)
	for i := range 3 {
		r := s.post(map[string]string{"X-Api-Key": secret, "Idempotency-Key": fmt.Sprint("k-", i)}, `{}`)
		require.Equal(t, http.StatusBadRequest, r.status, "bad input counts against the budget too")
	}
	r := s.post(map[string]string{"X-Api-Key": secret, "Idempotency-Key": "k-9"}, txBody("R-9"))
	require.Equal(t, http.StatusTooManyRequests, r.status)
	require.Equal(t, "rate_limited", r.env.Error)
	require.Equal(t, "1", r.header.Get("Retry-After"))
}

func TestRevocationAndRotationInForceAtOnce(t *testing.T) {
	s := startStack(t)
	created := s.createKey("org-a")
	id, secret := created.GetApiKey().GetId(), created.GetSecret()
	send := func(key, idem string) reply {
		return s.post(map[string]string{"X-Api-Key": key, "Idempotency-Key": idem}, txBody(idem))
	}
	require.Equal(t, http.StatusCreated, send(secret, "a-1").status)
	lookups := s.verifier.Lookups()
	require.Equal(t, http.StatusCreated, send(secret, "a-2").status)
	require.Equal(t, lookups, s.verifier.Lookups(), "second request served from the cache")

	tampered := tamper(secret)
	require.Equal(t, http.StatusUnauthorized, send(tampered, "a-3").status)
	require.Equal(t, lookups, s.verifier.Lookups(), "a tampered checksum costs no look-up")

	rot, err := s.admin.RotateApiKey(context.Background(), &ingestionv1.RotateApiKeyRequest{OrgId: "org-a", Id: id})
	require.NoError(t, err)
	waitRefused(t, func() int { return send(secret, "a-4").status })
	require.Equal(t, http.StatusCreated, send(rot.GetSecret(), "a-5").status)

	_, err = s.admin.RevokeApiKey(context.Background(), &ingestionv1.RevokeApiKeyRequest{OrgId: "org-a", Id: id})
	require.NoError(t, err)
	waitRefused(t, func() int { return send(rot.GetSecret(), "a-6").status })
}

// waitRefused requires the request to be refused well before the cache TTL
// could have expired it: the invalidation must have done it.
func waitRefused(t *testing.T, do func() int) {
	t.Helper()
	waitStatus(t, http.StatusUnauthorized, do)
}

// waitStatus polls do until it answers want, within a fifth of the cache TTL.
func waitStatus(t *testing.T, want int, do func() int) {
	t.Helper()
	deadline := time.Now().Add(apikeyauth.MaxTTL / 5)
	for {
		if do() == want {
			return
		}
		require.True(t, time.Now().Before(deadline), "still not %d after the invalidation should have arrived", want)
	}
}

// Regression: the key was verified before the body was read, so a request
// whose body arrived after the key was revoked was still accepted (up to
// the server's read timeout). The key is verified again once the body is in.
func TestKeyRevokedWhileTheBodyArrivesIsRefused(t *testing.T) {
	s := startStack(t)
	created := s.createKey("org-slow")
	id, secret := created.GetApiKey().GetId(), created.GetSecret()
	body := txBody("SLOW-1")

	pr, pw := io.Pipe()
	t.Cleanup(func() { _ = pw.CloseWithError(io.ErrUnexpectedEOF) }) // before the server closes
	req, err := http.NewRequest(http.MethodPost, s.base+"/api/v1/transactions", pr)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", secret)
	req.Header.Set("Idempotency-Key", "slow-1")
	req.ContentLength = int64(len(body))
	type result struct {
		status int
		body   []byte
		err    error
	}
	done := make(chan result, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		done <- result{status: res.StatusCode, body: b, err: err}
	}()
	_, err = pw.Write([]byte(body[:20]))
	require.NoError(t, err)
	// The gateway has the headers and has let the key in: its cache holds it.
	for deadline := time.Now().Add(5 * time.Second); s.verifier.Lookups() == 0; {
		require.True(t, time.Now().Before(deadline), "the key was never verified")
		time.Sleep(5 * time.Millisecond)
	}

	_, err = s.admin.RevokeApiKey(context.Background(), &ingestionv1.RevokeApiKeyRequest{OrgId: "org-slow", Id: id})
	require.NoError(t, err)
	// Probe with a body that cannot be stored: until the revocation reaches
	// the cache the probe is let in (and refused as invalid), after it 401.
	waitRefused(t, func() int {
		return s.post(map[string]string{"X-Api-Key": secret, "Idempotency-Key": "probe"}, `{}`).status
	})

	_, err = pw.Write([]byte(body[20:]))
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	r := <-done
	require.NoError(t, r.err)
	require.Equal(t, http.StatusUnauthorized, r.status, "%s", r.body)
	require.Contains(t, string(r.body), `"invalid_api_key"`)
	conn, err := pgx.Connect(context.Background(), s.pg)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var n int
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*) FROM ingestion.transactions WHERE org_id = 'org-slow'`).Scan(&n))
	require.Zero(t, n, "nothing stored")
}
