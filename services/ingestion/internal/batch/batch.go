// Package batch groups work items handed over by concurrent callers: a
// worker takes the items waiting at that moment (up to a size) and runs them
// together, so a busy service pays one round trip (or one commit) per batch
// instead of per item, and an idle one adds no delay (a lone item is a batch
// of one at once).
package batch

import (
	"context"
	"sync"
)

// Batcher hands items to its workers.
type Batcher[T any] struct {
	items   chan T
	stopped chan struct{}
}

// Start runs workers that call run with batches of at most size items until
// ctx ends. run must deal with every item of its batch (answer its caller).
func Start[T any](ctx context.Context, workers, size int, run func([]T)) *Batcher[T] {
	b := &Batcher[T]{items: make(chan T), stopped: make(chan struct{})}
	size = max(size, 1)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case first := <-b.items:
					run(b.collect(first, size))
				}
			}
		})
	}
	go func() { wg.Wait(); close(b.stopped) }()
	return b
}

// collect returns first and the items already waiting, up to size.
func (b *Batcher[T]) collect(first T, size int) []T {
	batch := []T{first}
	for len(batch) < size {
		select {
		case it := <-b.items:
			batch = append(batch, it)
		default:
			return batch
		}
	}
	return batch
}

// Submit hands item to a worker. The channel is unbuffered, so a taken item
// is always run; Submit returns false without handing it over once the
// workers have stopped, and ctx.Err() if ctx ends first.
func (b *Batcher[T]) Submit(ctx context.Context, item T) (bool, error) {
	select {
	case b.items <- item:
		return true, nil
	case <-b.stopped:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// Stopped is closed once every worker has returned.
func (b *Batcher[T]) Stopped() <-chan struct{} { return b.stopped }
