package batch

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEveryItemRunsOnceInBatchesUpToTheSize(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := make(chan struct{})
	var mu sync.Mutex
	var sizes []int
	var seen []int
	b := Start(ctx, 1, 4, func(items []int) {
		<-release // hold the only worker while callers queue up
		mu.Lock()
		sizes = append(sizes, len(items))
		seen = append(seen, items...)
		mu.Unlock()
	})

	// The first item occupies the worker; the next ten wait for it.
	taken, err := b.Submit(ctx, 0)
	require.NoError(t, err)
	require.True(t, taken)
	var wg sync.WaitGroup
	for i := 1; i <= 10; i++ {
		wg.Go(func() {
			taken, err := b.Submit(ctx, i)
			require.NoError(t, err)
			require.True(t, taken)
		})
	}
	close(release)
	wg.Wait()
	// Submit returns when a worker takes the item; wait until all ran.
	for deadline := time.Now().Add(5 * time.Second); ; {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == 11 {
			break
		}
		require.True(t, time.Now().Before(deadline), "items not run: %v", seen)
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	require.ElementsMatch(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, seen)
	for _, n := range sizes {
		require.LessOrEqual(t, n, 4)
	}
}

func TestCollectTakesWhatIsWaitingUpToTheSize(t *testing.T) {
	b := &Batcher[int]{items: make(chan int, 8)} // buffered here only, to queue items deterministically
	for i := 1; i <= 5; i++ {
		b.items <- i
	}
	require.Equal(t, []int{0, 1, 2, 3}, b.collect(0, 4))
	require.Equal(t, []int{10, 4, 5}, b.collect(10, 4), "then what is left")
	require.Equal(t, []int{9}, b.collect(9, 4), "nothing waiting: a batch of one")
}

func TestALoneItemRunsAtOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan []int, 1)
	b := Start(ctx, 1, 64, func(items []int) { got <- items })
	taken, err := b.Submit(ctx, 7)
	require.NoError(t, err)
	require.True(t, taken)
	select {
	case items := <-got:
		require.Equal(t, []int{7}, items)
	case <-time.After(5 * time.Second):
		t.Fatal("a lone item waited for company")
	}
}

func TestSubmitAfterStopAndOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	b := Start(ctx, 2, 8, func([]int) {})
	cancel()
	select {
	case <-b.Stopped():
	case <-time.After(5 * time.Second):
		t.Fatal("workers did not stop")
	}
	taken, err := b.Submit(context.Background(), 1)
	require.NoError(t, err)
	require.False(t, taken, "nobody takes items once stopped")

	// A caller whose context ends while no worker is free gets its error.
	hold := make(chan struct{})
	defer close(hold)
	bctx, bcancel := context.WithCancel(context.Background())
	defer bcancel()
	busy := Start(bctx, 1, 1, func([]int) { <-hold })
	taken, err = busy.Submit(context.Background(), 1)
	require.NoError(t, err)
	require.True(t, taken)
	cctx, ccancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer ccancel()
	taken, err = busy.Submit(cctx, 2)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, taken)
}
