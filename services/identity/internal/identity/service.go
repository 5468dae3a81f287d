package identity

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/watchtower/authplane/platform/apperr"
)

// DefaultHashWait is how long a call waits for a password-hashing slot before
// it is refused as rate limited.
const DefaultHashWait = 2 * time.Second

// DefaultMaxConcurrentHashes leaves half the CPUs to everything else.
func DefaultMaxConcurrentHashes() int { return max(1, runtime.NumCPU()/2) }

// DefaultHashDutyPercent keeps hashing to half of its slots' time.
const DefaultHashDutyPercent = 50

// Options configures NewService. Store and Hasher are required.
type Options struct {
	Store  Store
	Hasher PasswordHasher
	// MaxConcurrentHashes bounds password hashes running at once (default
	// DefaultMaxConcurrentHashes()).
	MaxConcurrentHashes int
	// HashWait is how long to wait for a slot (default DefaultHashWait).
	HashWait time.Duration
	// HashDutyPercent is the share of a slot's time spent hashing (1-100,
	// default DefaultHashDutyPercent): after a hash that took d, the slot
	// stays taken for d*(100-p)/p more, so a flood of sign-ins costs at most
	// MaxConcurrentHashes*p/100 CPUs and leaves the rest to session checks.
	// The caller is not delayed: the slot rests after it has its answer.
	HashDutyPercent int
	// Now and Rand default to time.Now and crypto/rand.
	Now  func() time.Time
	Rand io.Reader
}

// Service implements the identity use cases.
type Service struct {
	store    Store
	hasher   PasswordHasher
	slots    chan struct{}
	hashWait time.Duration
	hashDuty int
	// clock times how long a slot is held and afterFunc schedules the end
	// of its rest (time.Now and time.AfterFunc; replaced in tests).
	clock     func() time.Time
	afterFunc func(time.Duration, func())
	now       func() time.Time
	rand      io.Reader
	// dummyHash is verified for unknown emails so that they cost one full
	// hash, like a known email does. It is made at start-up with the
	// hasher's own parameters.
	dummyHash string
}

// NewService builds the service and computes its dummy hash.
func NewService(o Options) (*Service, error) {
	if o.Store == nil || o.Hasher == nil {
		return nil, errors.New("identity: store and hasher are required")
	}
	if o.MaxConcurrentHashes <= 0 {
		o.MaxConcurrentHashes = DefaultMaxConcurrentHashes()
	}
	if o.HashWait <= 0 {
		o.HashWait = DefaultHashWait
	}
	if o.HashDutyPercent == 0 {
		o.HashDutyPercent = DefaultHashDutyPercent
	}
	if o.HashDutyPercent < 1 || o.HashDutyPercent > 100 {
		return nil, fmt.Errorf("identity: hash duty %d%%: want 1-100", o.HashDutyPercent)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	secret := make([]byte, 24)
	if _, err := io.ReadFull(o.Rand, secret); err != nil {
		return nil, fmt.Errorf("identity: dummy password: %w", err)
	}
	dummy, err := o.Hasher.Hash(idEncoding.EncodeToString(secret))
	if err != nil {
		return nil, fmt.Errorf("identity: dummy hash: %w", err)
	}
	return &Service{
		store:     o.Store,
		hasher:    o.Hasher,
		slots:     make(chan struct{}, o.MaxConcurrentHashes),
		hashWait:  o.HashWait,
		hashDuty:  o.HashDutyPercent,
		clock:     time.Now,
		afterFunc: func(d time.Duration, f func()) { time.AfterFunc(d, f) },
		now:       o.Now,
		rand:      o.Rand,
		dummyHash: dummy,
	}, nil
}

// acquireHashSlot waits up to hashWait for a hashing slot; the caller must
// call the returned release once, when its hashing is done. A caller that
// gets none is told to retry in 1 s.
func (s *Service) acquireHashSlot(ctx context.Context) (release func(), err error) {
	select {
	case s.slots <- struct{}{}:
		return s.releaser(), nil
	default:
	}
	t := time.NewTimer(s.hashWait)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		return s.releaser(), nil
	case <-t.C:
		return nil, apperr.RateLimited(time.Second)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// releaser returns the release of a slot just taken: the slot is freed after
// a rest proportional to the time it was held (see Options.HashDutyPercent).
func (s *Service) releaser() func() {
	start := s.clock()
	return func() {
		rest := restAfter(s.clock().Sub(start), s.hashDuty)
		if rest <= 0 {
			<-s.slots
			return
		}
		s.afterFunc(rest, func() { <-s.slots })
	}
}

// restAfter is how long a slot rests after being held for busy, so that it
// is busy dutyPercent of the time.
func restAfter(busy time.Duration, dutyPercent int) time.Duration {
	if busy <= 0 || dutyPercent >= 100 {
		return 0
	}
	return busy * time.Duration(100-dutyPercent) / time.Duration(dutyPercent)
}
