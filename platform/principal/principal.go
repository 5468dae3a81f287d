// Package principal signs and verifies the caller identity that travels with
// every gRPC call in the x-wt-principal metadata entry.
//
// The gateway (and a service calling as itself) signs a
// watchtower.authz.v1.Principal with HMAC-SHA256 under a key id; every
// service verifies the signature, the expiry and that the principal was
// issued for this very request (its request id equals x-request-id), so a
// caller that reaches a service port directly cannot forge a user or an org.
//
// Wire form: "v1.<kid>.<base64url(proto)>.<base64url(mac)>", where the MAC
// covers everything before the last dot.
package principal

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// MetadataKey is the gRPC metadata entry carrying the signed principal.
const MetadataKey = "x-wt-principal"

// DefaultTTL is how long a signed principal stays valid: long enough for one
// request and its internal fan-out, too short to be worth stealing.
const DefaultTTL = 30 * time.Second

// maxWireLen bounds what Verify will parse.
const maxWireLen = 4096

// MinKeyLen is the shortest signing key accepted.
const MinKeyLen = 32

var (
	// ErrMissing means no principal was attached.
	ErrMissing = errors.New("principal: missing")
	// ErrInvalid means the principal is malformed, unsigned, signed by an
	// unknown key or tampered with.
	ErrInvalid = errors.New("principal: invalid signature or encoding")
	// ErrExpired means the principal is outside its validity window.
	ErrExpired = errors.New("principal: expired")
	// ErrWrongRequest means the principal was issued for another request.
	ErrWrongRequest = errors.New("principal: issued for another request")
)

// Key is one HMAC signing key.
type Key struct {
	ID     string
	Secret []byte
}

// Keyring signs with its first key and verifies with any of them, so keys can
// be rotated by adding the new one everywhere before signing with it.
type Keyring struct {
	keys []Key
	now  func() time.Time
	ttl  time.Duration
}

// NewKeyring builds a keyring. now may be nil for time.Now.
func NewKeyring(keys []Key, now func() time.Time) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("principal: no signing key configured")
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if k.ID == "" || strings.ContainsAny(k.ID, ".") {
			return nil, fmt.Errorf("principal: key id %q must be non-empty and contain no dot", k.ID)
		}
		if len(k.Secret) < MinKeyLen {
			return nil, fmt.Errorf("principal: key %q is %d bytes, want at least %d", k.ID, len(k.Secret), MinKeyLen)
		}
		if seen[k.ID] {
			return nil, fmt.Errorf("principal: duplicate key id %q", k.ID)
		}
		seen[k.ID] = true
	}
	if now == nil {
		now = time.Now
	}
	return &Keyring{keys: keys, now: now, ttl: DefaultTTL}, nil
}

// ParseKeys reads "kid:base64secret[,kid:base64secret...]" (standard or URL
// base64, padded or not).
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, enc, ok := strings.Cut(part, ":")
		if !ok {
			return nil, errors.New("principal: key must be kid:base64secret")
		}
		secret, err := decodeAnyBase64(enc)
		if err != nil {
			return nil, fmt.Errorf("principal: key %q: %w", id, err)
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	return keys, nil
}

func decodeAnyBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// Sign stamps p with the issue and expiry times and returns its wire form.
// p.RequestId must already be set.
func (k *Keyring) Sign(p *authzv1.Principal) (string, error) {
	if p.GetRequestId() == "" {
		return "", errors.New("principal: request id is required")
	}
	now := k.now()
	p.IssuedAtUnixMs = now.UnixMilli()
	p.ExpiresAtUnixMs = now.Add(k.ttl).UnixMilli()
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("principal: marshal: %w", err)
	}
	key := k.keys[0]
	signed := "v1." + key.ID + "." + base64.RawURLEncoding.EncodeToString(body)
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac(key.Secret, signed)), nil
}

// Verify checks the wire form and returns the principal when it is
// authentic, unexpired and bound to requestID.
func (k *Keyring) Verify(wire, requestID string) (*authzv1.Principal, error) {
	if wire == "" {
		return nil, ErrMissing
	}
	if len(wire) > maxWireLen {
		return nil, ErrInvalid
	}
	cut := strings.LastIndexByte(wire, '.')
	if cut < 0 {
		return nil, ErrInvalid
	}
	signed, sigEnc := wire[:cut], wire[cut+1:]
	parts := strings.Split(signed, ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return nil, ErrInvalid
	}
	var secret []byte
	for _, key := range k.keys {
		if key.ID == parts[1] {
			secret = key.Secret
			break
		}
	}
	if secret == nil {
		return nil, ErrInvalid
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(sigEnc)
	if err != nil || !hmac.Equal(sig, mac(secret, signed)) {
		return nil, ErrInvalid
	}
	body, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil {
		return nil, ErrInvalid
	}
	p := &authzv1.Principal{}
	if err := proto.Unmarshal(body, p); err != nil {
		return nil, ErrInvalid
	}
	now := k.now().UnixMilli()
	// One second of slack for clocks of different hosts.
	if now+1000 < p.GetIssuedAtUnixMs() || now > p.GetExpiresAtUnixMs() {
		return nil, ErrExpired
	}
	if requestID == "" || p.GetRequestId() != requestID {
		return nil, ErrWrongRequest
	}
	return p, nil
}

func mac(secret []byte, msg string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

type ctxKey struct{}

// NewContext returns ctx carrying the verified principal p.
func NewContext(ctx context.Context, p *authzv1.Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the verified principal of the call, if any.
func FromContext(ctx context.Context) (*authzv1.Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(*authzv1.Principal)
	return p, ok && p != nil
}

// AppendToOutgoing signs p and attaches it, with its request id, to the
// outgoing metadata of ctx.
func (k *Keyring) AppendToOutgoing(ctx context.Context, p *authzv1.Principal) (context.Context, error) {
	wire, err := k.Sign(p)
	if err != nil {
		return ctx, err
	}
	return metadata.AppendToOutgoingContext(ctx, MetadataKey, wire, "x-request-id", p.GetRequestId()), nil
}
