package mpi

import (
	"cmp"
	"context"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/custodian-him/custodian"
)

// Options tune a batch run. The zero value is ready to use.
type Options struct {
	// Threshold is the lowest match probability reported (default: the
	// model's ReviewThreshold).
	Threshold float64
	// MaxBlock is the largest block compared (default DefaultMaxBlock).
	MaxBlock int
	// Model scores the pairs; nil fits one to the data (unsupervised).
	Model *Model
	// USamples is how many random pairs estimate u (default 200,000).
	USamples int
	// Workers is how many goroutines compare (default GOMAXPROCS).
	Workers int
}

// Pair is a scored pair of records.
type Pair struct {
	A, B        string // record ids (in Link: A from the left, B from the right)
	Probability float64
	Weight      float64 // log2 odds
	Class       Class
}

// Result is the outcome of a batch run.
type Result struct {
	Pairs []Pair // at or above the threshold, best first
	Model *Model
	// Records is how many records were read, Candidates how many pairs
	// blocking proposed, SkippedBlocks how many blocks exceeded MaxBlock.
	Records, Candidates, SkippedBlocks int
	// candidates, for tests: the blocked pairs as index pairs.
	candidates []uint64
	entries    []entry
}

// EachCandidate calls fn with every pair blocking proposed, as positions
// in the input (in Link, the right side's positions follow the left's):
// for measuring how many true pairs blocking keeps.
func (r *Result) EachCandidate(fn func(a, b int)) {
	for _, p := range r.candidates {
		fn(int(p>>32), int(uint32(p)))
	}
}

// Dedupe finds the pairs of records in recs that refer to the same
// person. It returns EINVALID if two records share an id.
func Dedupe(ctx context.Context, recs []Record, opt Options) (*Result, error) {
	es, err := entries(ctx, recs, opt.workers())
	if err != nil {
		return nil, err
	}
	if err := uniqueIDs(es, "record"); err != nil {
		return nil, err
	}
	return run(ctx, es, -1, opt)
}

// Link finds the pairs of a record in left and a record in right that
// refer to the same person. Ids must be unique within each side.
func Link(ctx context.Context, left, right []Record, opt Options) (*Result, error) {
	es, err := entries(ctx, append(slices.Clip(left), right...), opt.workers())
	if err != nil {
		return nil, err
	}
	if err := uniqueIDs(es[:len(left)], "left record"); err != nil {
		return nil, err
	}
	if err := uniqueIDs(es[len(left):], "right record"); err != nil {
		return nil, err
	}
	return run(ctx, es, len(left), opt)
}

func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

func uniqueIDs(es []entry, what string) error {
	seen := make(map[string]struct{}, len(es))
	for i := range es {
		if _, dup := seen[es[i].id]; dup {
			return custodian.Errorf(custodian.EINVALID, "mpi: two %ss have the id %q", what, es[i].id)
		}
		seen[es[i].id] = struct{}{}
	}
	return nil
}

// parallelChunk is how many items parallel hands a worker at a time.
const parallelChunk = 4096

// parallel runs fn over [0, n) in chunks of parallelChunk (each starting at
// a multiple of it) on workers goroutines.
func parallel(ctx context.Context, n, workers int, fn func(lo, hi int)) error {
	const chunk = parallelChunk
	var wg sync.WaitGroup
	next := make(chan int, workers)
	go func() {
		defer close(next)
		for lo := 0; lo < n; lo += chunk {
			if ctx.Err() != nil {
				return
			}
			next <- lo
		}
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lo := range next {
				fn(lo, min(lo+chunk, n))
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

func entries(ctx context.Context, recs []Record, workers int) ([]entry, error) {
	es := make([]entry, len(recs))
	err := parallel(ctx, len(recs), workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			es[i] = newEntry(&recs[i])
		}
	})
	return es, err
}

// candidates returns the blocked pairs (i<j packed as i<<32|j), sorted and
// unique. With nLeft >= 0 only pairs across the sides are kept. Keys are
// made, sorted and turned into pairs on all workers.
func candidates(ctx context.Context, es []entry, nLeft, maxBlock, workers int) ([]uint64, int, error) {
	// Each (key, record) is packed in one uint64: the key's top bits above
	// the record's index, so one integer sort groups the blocks. Two keys
	// that agree in their top bits merge their blocks, which only adds
	// candidates (about one spurious merge per 10^12 key pairs).
	idxBits := uint(bits.Len(uint(len(es))))
	if idxBits < 1 {
		idxBits = 1
	}
	if idxBits > 32 {
		return nil, 0, custodian.Errorf(custodian.EINVALID, "mpi: too many records for one run")
	}
	idxMask := uint64(1)<<idxBits - 1
	parts := make([][]uint64, (len(es)+parallelChunk-1)/parallelChunk)
	err := parallel(ctx, len(es), workers, func(lo, hi int) {
		var ks []uint64
		kv := make([]uint64, 0, (hi-lo)*16)
		for i := lo; i < hi; i++ {
			ks = blockKeys(&es[i], ks[:0])
			for _, k := range ks {
				kv = append(kv, k&^idxMask|uint64(i))
			}
		}
		parts[lo/parallelChunk] = kv
	})
	if err != nil {
		return nil, 0, err
	}
	// Buckets by the key's top byte: a block never spans two buckets.
	const keyBuckets = 256
	kv, err := parallelSort(ctx, parts, keyBuckets, workers, func(x uint64) int { return int(x >> 56) })
	if err != nil {
		return nil, 0, err
	}
	parts = nil
	pairParts := make([][]uint64, keyBuckets)
	var skipped atomic.Int64
	idxOf := func(x uint64) int32 { return int32(x & idxMask) }
	err = eachBucket(ctx, &kv, workers, func(bk int) {
		b := kv.bucket(bk)
		var pairs []uint64
		for lo := 0; lo < len(b); {
			hi := lo + 1
			for hi < len(b) && b[hi]&^idxMask == b[lo]&^idxMask {
				hi++
			}
			if hi-lo > maxBlock {
				skipped.Add(1)
				lo = hi
				continue
			}
			for i := lo; i < hi; i++ {
				for j := i + 1; j < hi; j++ {
					a, b := idxOf(b[i]), idxOf(b[j])
					if a == b {
						continue // one record with the key twice (two phones)
					}
					if nLeft >= 0 && (a < int32(nLeft)) == (b < int32(nLeft)) {
						continue
					}
					pairs = append(pairs, uint64(a)<<32|uint64(b))
				}
			}
			lo = hi
		}
		pairParts[bk] = pairs
	})
	if err != nil {
		return nil, 0, err
	}
	kv = partitioned{}
	// Buckets by the first record: equal pairs meet in one bucket.
	const pairBuckets = 256
	n := uint64(len(es))
	sorted, err := parallelSort(ctx, pairParts, pairBuckets, workers, func(x uint64) int { return int((x >> 32) * pairBuckets / n) })
	if err != nil {
		return nil, 0, err
	}
	return slices.Compact(sorted.vals), int(skipped.Load()), nil
}

func run(ctx context.Context, es []entry, nLeft int, opt Options) (*Result, error) {
	workers := opt.workers()
	maxBlock := opt.MaxBlock
	if maxBlock <= 0 {
		maxBlock = DefaultMaxBlock
	}
	pairs, skipped, err := candidates(ctx, es, nLeft, maxBlock, workers)
	if err != nil {
		return nil, err
	}
	// The name frequencies are counted while the pairs are compared.
	pop := newPopulation()
	popDone := make(chan struct{})
	go func() {
		defer close(popDone)
		for i := range es {
			pop.add(&es[i], 1)
		}
	}()
	vecs := make([]vector, len(pairs))
	counts := map[vector]int{}
	var countsMu sync.Mutex
	err = parallel(ctx, len(pairs), workers, func(lo, hi int) {
		local := map[vector]int{}
		for k := lo; k < hi; k++ {
			p := pairs[k]
			vecs[k] = compare(&es[p>>32], &es[uint32(p)])
			local[vecs[k]]++
		}
		countsMu.Lock()
		for v, n := range local {
			counts[v] += n
		}
		countsMu.Unlock()
	})
	<-popDone
	if err != nil {
		return nil, err
	}
	model := opt.Model
	if model == nil {
		samples := opt.USamples
		if samples <= 0 {
			samples = 200_000
		}
		u := estimateU(es, samples, 1)
		m, lambda, rounds := fitEM(counts, u)
		all := float64(len(es)) * float64(len(es)-1) / 2
		if nLeft >= 0 {
			all = float64(nLeft) * float64(len(es)-nLeft)
		}
		lambda = min(lambda*float64(len(pairs))/max(all, 1), 0.5)
		model = newModel(m, u, max(lambda, 1e-12))
		model.Iterations = rounds
	}
	threshold := opt.Threshold
	if threshold <= 0 {
		threshold = model.ReviewThreshold
	}
	var mu sync.Mutex
	var out []Pair
	if err := parallel(ctx, len(pairs), workers, func(lo, hi int) {
		var local []Pair
		for k := lo; k < hi; k++ {
			a, b := &es[pairs[k]>>32], &es[uint32(pairs[k])]
			w, p := model.score(vecs[k], a, b, pop)
			if p < threshold {
				continue
			}
			local = append(local, Pair{A: a.id, B: b.id, Probability: p, Weight: w, Class: model.classify(p, vecs[k], a, b, pop)})
		}
		mu.Lock()
		out = append(out, local...)
		mu.Unlock()
	}); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(x, y Pair) int {
		if c := cmp.Compare(y.Weight, x.Weight); c != 0 {
			return c
		}
		if c := cmp.Compare(x.A, y.A); c != 0 {
			return c
		}
		return cmp.Compare(x.B, y.B)
	})
	return &Result{Pairs: out, Model: model, Records: len(es), Candidates: len(pairs), SkippedBlocks: skipped,
		candidates: pairs, entries: es}, nil
}
