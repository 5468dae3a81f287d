// Package ingest serves POST /api/v1/transactions: it authenticates the
// API key, applies the header and body rules of API.md, and hands the exact
// body bytes to ingestion.Ingest under a signed API_KEY principal, so the
// service decodes strictly and replays its stored answer byte for byte.
package ingest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/watchtower/authplane/gateway/internal/apikeyauth"
	"github.com/watchtower/authplane/gateway/internal/edge"
	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/platform/principal"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	ingestionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/ingestion/v1"
	"google.golang.org/grpc/status"
)

// Header names.
const (
	HeaderAPIKey      = "X-Api-Key"
	HeaderIdempotency = "Idempotency-Key"
	HeaderReplayed    = "Idempotent-Replayed"
)

// MaxIdempotencyKey is the longest idempotency key accepted.
const MaxIdempotencyKey = 255

// Options configures the handler.
type Options struct {
	Keyring   *principal.Keyring
	Ingestion ingestionv1.IngestionServiceClient
	Keys      *apikeyauth.Verifier
	// MaxBody is the largest body accepted (default 1 MiB).
	MaxBody int64
	Logger  *slog.Logger
	// Timeout bounds the Ingest call (default 10 s).
	Timeout time.Duration
}

type handler struct{ o Options }

// New returns the handler for POST /api/v1/transactions; it expects the
// gateway's common middleware (request id, client IP) in front of it.
func New(o Options) http.Handler {
	if o.MaxBody <= 0 {
		o.MaxBody = 1 << 20
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &handler{o: o}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rid := edge.RequestID(ctx)
	if r.Method != http.MethodPost {
		edge.WriteError(w, r, http.StatusMethodNotAllowed, "method_not_allowed", "this path accepts POST only", nil, 0)
		return
	}
	secrets := r.Header.Values(HeaderAPIKey)
	if len(secrets) == 0 {
		// A console session cookie never authenticates ingestion.
		edge.WriteError(w, r, http.StatusUnauthorized, "api_key_required", "send the organization API key in x-api-key", nil, 0)
		return
	}
	if len(secrets) > 1 {
		edge.WriteError(w, r, http.StatusUnauthorized, "invalid_api_key", "the API key is not valid", nil, 0)
		return
	}
	ip, ipErr := netip.ParseAddr(edge.ClientIP(ctx))
	if _, ok := h.authenticate(w, r, secrets[0], ip, ipErr); !ok {
		return
	}
	idem := r.Header.Values(HeaderIdempotency)
	if len(idem) == 0 {
		edge.WriteError(w, r, http.StatusBadRequest, "idempotency_key_required", "the idempotency-key header is required", nil, 0)
		return
	}
	if len(idem) > 1 || !validIdempotencyKey(idem[0]) {
		edge.WriteError(w, r, http.StatusBadRequest, "idempotency_key_invalid", "the idempotency-key must be 1 to 255 printable ASCII characters", nil, 0)
		return
	}
	if !edge.IsJSON(r.Header) {
		edge.WriteError(w, r, http.StatusUnsupportedMediaType, "unsupported_media_type", "the request body must be application/json", nil, 0)
		return
	}
	if r.ContentLength > h.o.MaxBody {
		tooLarge(w, r, h.o.MaxBody)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.o.MaxBody+1))
	if err != nil {
		edge.WriteError(w, r, http.StatusBadRequest, "invalid_json", "the request body could not be read", nil, 0)
		return
	}
	if int64(len(body)) > h.o.MaxBody {
		tooLarge(w, r, h.o.MaxBody)
		return
	}
	// The body may have taken seconds to arrive: the key must still be
	// valid, and the address allowed, when the request is handed on. A
	// revocation in the meantime has reached this gateway's cache over
	// pub/sub; a cached key costs no look-up.
	key, ok := h.authenticate(w, r, secrets[0], ip, ipErr)
	if !ok {
		return
	}

	cctx, cancel := context.WithTimeout(ctx, h.o.Timeout)
	defer cancel()
	cctx, err = h.o.Keyring.AppendToOutgoing(cctx, &authzv1.Principal{
		Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_API_KEY, OrgId: key.OrgID, ApiKeyId: key.ID,
		Environment: key.Environment, RequestId: rid, ClientIp: ip.String(), UserAgent: principal.UserAgent(r.UserAgent()),
	})
	if err != nil {
		h.o.Logger.Error("sign api key principal", "request_id", rid, "error", err.Error())
		edge.WriteError(w, r, http.StatusInternalServerError, "internal", "internal error", nil, 0)
		return
	}
	res, err := h.o.Ingestion.Ingest(cctx, &ingestionv1.IngestRequest{IdempotencyKey: idem[0], Body: body})
	if err != nil {
		h.writeErr(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	if res.GetReplayed() {
		hd.Set(HeaderReplayed, "true")
	}
	if s := res.GetRetryAfterSeconds(); s > 0 {
		hd.Set("Retry-After", strconv.Itoa(int(s)))
	}
	w.WriteHeader(int(res.GetHttpStatus()))
	_, _ = w.Write(res.GetBody())
}

// authenticate verifies the key and the client's address against its
// allow-lists, or writes the refusal.
func (h *handler) authenticate(w http.ResponseWriter, r *http.Request, secret string, ip netip.Addr, ipErr error) (*apikeyauth.Key, bool) {
	key, err := h.o.Keys.Verify(r.Context(), secret, edge.RequestID(r.Context()))
	switch {
	case errors.Is(err, apikeyauth.ErrInvalid):
		edge.WriteError(w, r, http.StatusUnauthorized, "invalid_api_key", "the API key is not valid", nil, 0)
		return nil, false
	case err != nil:
		edge.WriteError(w, r, http.StatusServiceUnavailable, "unavailable", "a dependency is unavailable; retry later", nil, 1)
		return nil, false
	}
	if ipErr != nil || !key.Allows(ip) {
		edge.WriteError(w, r, http.StatusForbidden, "ip_not_allowed", "this address may not use this API key", nil, 0)
		return nil, false
	}
	return key, true
}

func tooLarge(w http.ResponseWriter, r *http.Request, limit int64) {
	edge.WriteError(w, r, http.StatusRequestEntityTooLarge, "payload_too_large", "the request body exceeds the limit", map[string]any{"limitBytes": limit}, 0)
}

// writeErr renders a gRPC error; idempotency_key_reused is API.md's 422,
// everything else follows the gateway's one mapping.
func (h *handler) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	if st, ok := status.FromError(err); ok {
		if e, ok := apperr.FromStatus(st); ok && e.Reason == "idempotency_key_reused" {
			edge.WriteError(w, r, http.StatusUnprocessableEntity, e.Reason, st.Message(), nil, 0)
			return
		}
	}
	edge.WriteStatusError(w, r, h.o.Logger, err)
}

func validIdempotencyKey(k string) bool {
	if k == "" || len(k) > MaxIdempotencyKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}
