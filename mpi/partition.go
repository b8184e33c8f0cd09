package mpi

import (
	"context"
	"slices"
	"sync"
)

// Parallel sorting of packed integers. A batch run sorts tens of millions
// of (key, record) and (record, record) integers; slices.Sort uses one
// core. Here the integers are first scattered into buckets by a function
// that preserves order (every integer of bucket i is below every integer
// of bucket i+1), then the buckets are sorted on all workers at once.

// buckets is values scattered into nb ordered buckets: bucket i is
// vals[bounds[i]:bounds[i+1]].
type buckets[T any] struct {
	vals   []T
	bounds []int
}

func (p *buckets[T]) bucket(i int) []T { return p.vals[p.bounds[i]:p.bounds[i+1]] }

func (p *buckets[T]) len() int { return len(p.bounds) - 1 }

// partitioned is packed integers in buckets.
type partitioned = buckets[uint64]

// partition scatters the integers of parts into nb buckets by bucketOf,
// which must be monotonic (x <= y implies bucketOf(x) <= bucketOf(y))
// and return a value in [0, nb). The result has its own backing array.
func partition[T any](parts [][]T, nb int, bucketOf func(T) int) buckets[T] {
	counts := make([]int, nb+1)
	for _, xs := range parts {
		for _, x := range xs {
			counts[bucketOf(x)+1]++
		}
	}
	for i := 1; i <= nb; i++ {
		counts[i] += counts[i-1]
	}
	bounds := slices.Clone(counts)
	out := make([]T, counts[nb])
	for _, xs := range parts {
		for _, x := range xs {
			b := bucketOf(x)
			out[counts[b]] = x
			counts[b]++
		}
	}
	return buckets[T]{vals: out, bounds: bounds}
}

// eachBucket calls fn for every bucket index on workers goroutines, the
// largest buckets first so that one big bucket does not finish last.
func eachBucket[T any](ctx context.Context, p *buckets[T], workers int, fn func(i int)) error {
	nb := p.len()
	order := make([]int, nb)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return len(p.bucket(b)) - len(p.bucket(a)) })
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for _, i := range order {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return ctx.Err()
}

// parallelSort returns the integers of parts sorted, in buckets as in
// partition (in a new array; parts are left as they were).
func parallelSort(ctx context.Context, parts [][]uint64, nb, workers int, bucketOf func(uint64) int) (partitioned, error) {
	p := partition(parts, nb, bucketOf)
	err := eachBucket(ctx, &p, workers, func(i int) { slices.Sort(p.bucket(i)) })
	return p, err
}
