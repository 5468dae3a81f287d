// Package apikeyauth authenticates the x-api-key of the ingestion route.
//
// A secret is first checked for format and checksum locally (no network);
// a well-formed one is resolved by ingestion.VerifyApiKey and the answer is
// cached in process, keyed by the SHA-256 of the secret, for at most a few
// seconds (and never beyond a rotated-out secret's grace period). The cache
// is dropped whole whenever the ingestion service announces a key change on
// the Redis channel <prefix>apikeys:invalidate, and it is bypassed whenever
// that subscription is not confirmed, so a revocation or rotation is in
// force on every replica at once.
package apikeyauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/watchtower/authplane/platform/principal"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	ingestionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/ingestion/v1"
	"github.com/watchtower/authplane/services/ingestion/apikey"
	"golang.org/x/sync/singleflight"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// InvalidateChannel is the channel (after the Redis key prefix) the
// ingestion service publishes key changes on.
const InvalidateChannel = "apikeys:invalidate"

// MaxTTL bounds how long a verification is cached.
const MaxTTL = 5 * time.Second

var (
	// ErrInvalid means the key is malformed, unknown, revoked or rotated out.
	ErrInvalid = errors.New("apikeyauth: invalid API key")
	// ErrUnavailable means the key could not be checked.
	ErrUnavailable = errors.New("apikeyauth: key verification unavailable")
)

// Key is a verified API key.
type Key struct {
	ID          string
	OrgID       string
	Environment string
	// AllowedCIDRs and OrgCIDRs are the key's and the org's allow-lists;
	// an empty list allows every address.
	AllowedCIDRs []netip.Prefix
	OrgCIDRs     []netip.Prefix
}

// Allows reports whether ip may use the key under both allow-lists.
func (k *Key) Allows(ip netip.Addr) bool {
	return within(k.AllowedCIDRs, ip) && within(k.OrgCIDRs, ip)
}

func within(list []netip.Prefix, ip netip.Addr) bool {
	if len(list) == 0 {
		return true
	}
	ip = ip.Unmap()
	for _, p := range list {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Options configures a Verifier.
type Options struct {
	Ingestion ingestionv1.IngestionServiceClient
	// Keyring signs the gateway's SERVICE principal for VerifyApiKey.
	Keyring *principal.Keyring
	// Redis and Prefix name the invalidation channel. Without Redis the
	// cache is never used.
	Redis  redis.UniversalClient
	Prefix string
	// TTL of a cached verification (default and maximum MaxTTL).
	TTL    time.Duration
	Logger *slog.Logger
	Now    func() time.Time
}

type entry struct {
	key     *Key // nil: invalid
	expires time.Time
}

// Verifier verifies secrets through a short, invalidated cache.
type Verifier struct {
	o       Options
	mu      sync.Mutex
	cache   map[[32]byte]entry
	gen     uint64
	healthy atomic.Bool
	group   singleflight.Group
	lookups atomic.Int64
}

// New returns a Verifier; call Run to keep its cache coherent.
func New(o Options) *Verifier {
	if o.TTL <= 0 || o.TTL > MaxTTL {
		o.TTL = MaxTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Verifier{o: o, cache: map[[32]byte]entry{}}
}

// Lookups is how many times the ingestion service was asked.
func (v *Verifier) Lookups() int64 { return v.lookups.Load() }

// Caching reports whether verifications are cached: only while the
// invalidation subscription is confirmed (so never before Run has
// subscribed, and not while it reconnects).
func (v *Verifier) Caching() bool { return v.healthy.Load() }

// Run listens for invalidations until ctx ends, resubscribing after a
// failure. The cache is used only while the subscription is confirmed.
func (v *Verifier) Run(ctx context.Context) {
	if v.o.Redis == nil {
		return
	}
	channel := v.o.Prefix + InvalidateChannel
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		v.listen(ctx, channel)
		v.setHealthy(false)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

func (v *Verifier) listen(ctx context.Context, channel string) {
	sub := v.o.Redis.Subscribe(ctx, channel)
	// Closing the subscription is what unblocks a pending receive.
	stop := context.AfterFunc(ctx, func() { _ = sub.Close() })
	defer func() {
		if stop() {
			_ = sub.Close()
		}
	}()
	for {
		msg, err := sub.ReceiveTimeout(ctx, 15*time.Second)
		if err != nil {
			var netErr interface{ Timeout() bool }
			if errors.As(err, &netErr) && netErr.Timeout() && ctx.Err() == nil {
				// Quiet channel: make sure the connection is alive.
				if perr := sub.Ping(ctx); perr == nil {
					continue
				}
			}
			if ctx.Err() == nil {
				v.o.Logger.Warn("api key invalidation subscription lost", "error", err.Error())
			}
			return
		}
		switch msg.(type) {
		case *redis.Subscription:
			v.setHealthy(true)
		case *redis.Message:
			v.flush()
		}
	}
}

func (v *Verifier) setHealthy(ok bool) {
	v.flush()
	v.healthy.Store(ok)
}

func (v *Verifier) flush() {
	v.mu.Lock()
	clear(v.cache)
	v.gen++
	v.mu.Unlock()
}

// Verify returns the key of secret, ErrInvalid or ErrUnavailable.
// requestID binds the signed principal of the look-up to the request.
func (v *Verifier) Verify(ctx context.Context, secret, requestID string) (*Key, error) {
	if _, err := apikey.Parse(secret); err != nil {
		return nil, ErrInvalid
	}
	h := sha256.Sum256([]byte(secret))
	useCache := v.healthy.Load()
	if useCache {
		v.mu.Lock()
		e, ok := v.cache[h]
		v.mu.Unlock()
		if ok && v.o.Now().Before(e.expires) {
			if e.key == nil {
				return nil, ErrInvalid
			}
			return e.key, nil
		}
	}
	res, err, _ := v.group.Do(string(h[:]), func() (any, error) {
		v.mu.Lock()
		gen := v.gen
		v.mu.Unlock()
		k, ttl, err := v.lookup(ctx, secret, requestID)
		if err != nil && !errors.Is(err, ErrInvalid) {
			return nil, err
		}
		if useCache && v.healthy.Load() {
			v.mu.Lock()
			if v.gen == gen {
				if len(v.cache) > 100_000 {
					clear(v.cache)
				}
				v.cache[h] = entry{key: k, expires: v.o.Now().Add(ttl)}
			}
			v.mu.Unlock()
		}
		return k, err
	})
	if err != nil {
		return nil, err
	}
	return res.(*Key), nil
}

func (v *Verifier) lookup(ctx context.Context, secret, requestID string) (*Key, time.Duration, error) {
	v.lookups.Add(1)
	ctx, err := v.o.Keyring.AppendToOutgoing(ctx, &authzv1.Principal{
		Kind: authzv1.PrincipalKind_PRINCIPAL_KIND_SERVICE, Service: "gateway", RequestId: requestID,
	})
	if err != nil {
		return nil, 0, ErrUnavailable
	}
	res, err := v.o.Ingestion.VerifyApiKey(ctx, &ingestionv1.VerifyApiKeyRequest{Secret: secret})
	if status.Code(err) == codes.Unauthenticated {
		return nil, v.o.TTL, ErrInvalid
	}
	if err != nil {
		v.o.Logger.Warn("verify api key", "request_id", requestID, "grpc_code", status.Code(err).String())
		return nil, 0, ErrUnavailable
	}
	k := &Key{ID: res.GetApiKeyId(), OrgID: res.GetOrgId(), Environment: res.GetEnvironment(),
		AllowedCIDRs: prefixes(res.GetAllowedCidrs()), OrgCIDRs: prefixes(res.GetOrgAllowedCidrs())}
	ttl := v.o.TTL
	if until := res.GetValidUntilUnixMs(); until != 0 {
		ttl = min(ttl, time.UnixMilli(until).Sub(v.o.Now()))
	}
	return k, ttl, nil
}

// prefixes parses the allow-lists; an entry that does not parse matches
// nothing (so a list of only bad entries refuses every address).
func prefixes(in []string) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(in))
	for _, s := range in {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			p = netip.PrefixFrom(netip.IPv6Unspecified(), 128)
		}
		out = append(out, p)
	}
	return out
}
