package identity

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/apperr"
)

func TestRestAfter(t *testing.T) {
	for _, tt := range []struct {
		name  string
		busy  time.Duration
		duty  int
		wantD time.Duration
	}{
		{name: "half duty rests as long as it hashed", busy: 30 * time.Millisecond, duty: 50, wantD: 30 * time.Millisecond},
		{name: "quarter duty rests three times as long", busy: 40 * time.Millisecond, duty: 25, wantD: 120 * time.Millisecond},
		{name: "three quarters rests a third", busy: 30 * time.Millisecond, duty: 75, wantD: 10 * time.Millisecond},
		{name: "full duty never rests", busy: 30 * time.Millisecond, duty: 100, wantD: 0},
		{name: "nothing held, nothing owed", busy: 0, duty: 50, wantD: 0},
		{name: "a clock going backwards owes nothing", busy: -time.Second, duty: 50, wantD: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.wantD, restAfter(tt.busy, tt.duty))
		})
	}
}

// fakeSlots is a Service with one hashing slot, a clock the test moves and
// a scheduler that records the rest instead of waiting it out.
type fakeSlots struct {
	*Service
	now    time.Time
	rests  []time.Duration
	wakeup []func()
}

func newFakeSlots(duty int) *fakeSlots {
	f := &fakeSlots{now: time.Unix(1_800_000_000, 0)}
	f.Service = &Service{
		slots:    make(chan struct{}, 1),
		hashWait: 10 * time.Millisecond,
		hashDuty: duty,
		clock:    func() time.Time { return f.now },
		afterFunc: func(d time.Duration, fn func()) {
			f.rests = append(f.rests, d)
			f.wakeup = append(f.wakeup, fn)
		},
	}
	return f
}

func TestHashSlotRestsAfterUse(t *testing.T) {
	f := newFakeSlots(25)
	ctx := context.Background()

	release, err := f.acquireHashSlot(ctx)
	require.NoError(t, err)
	f.now = f.now.Add(40 * time.Millisecond) // the hash took 40 ms
	release()
	require.Equal(t, []time.Duration{120 * time.Millisecond}, f.rests)

	// While the slot rests, the next caller waits and is refused.
	_, err = f.acquireHashSlot(ctx)
	e, ok := apperr.As(err)
	require.True(t, ok, "want rate limited, got %v", err)
	require.Equal(t, apperr.KindRateLimited, e.Kind)

	f.wakeup[0]() // the rest is over
	release, err = f.acquireHashSlot(ctx)
	require.NoError(t, err)
	release()
}

func TestHashSlotAtFullDutyIsFreedAtOnce(t *testing.T) {
	f := newFakeSlots(100)
	ctx := context.Background()
	for range 3 {
		release, err := f.acquireHashSlot(ctx)
		require.NoError(t, err)
		f.now = f.now.Add(40 * time.Millisecond)
		release()
	}
	require.Empty(t, f.rests)
}

func TestNewServiceRefusesBadDuty(t *testing.T) {
	for _, duty := range []int{-1, 101} {
		_, err := NewService(Options{Store: nilStore{}, Hasher: nilHasher{}, HashDutyPercent: duty})
		require.ErrorContains(t, err, "hash duty")
	}
}

// nilStore and nilHasher satisfy the interfaces for tests that must fail
// before either is used (any call panics).
type nilStore struct{ Store }
type nilHasher struct{ PasswordHasher }
