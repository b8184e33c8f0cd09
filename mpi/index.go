package mpi

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"sync"

	"github.com/custodian-him/custodian"
)

// Index is a live master patient index: records are added, replaced and
// removed one at a time, and any record can be matched against all of
// them with the same blocking, comparison and model as a batch run. It is
// safe for concurrent use.
type Index struct {
	maxBlock int

	mu      sync.RWMutex
	model   *Model
	entries []entry
	live    []bool
	free    []int32
	byID    map[string]int32
	// Most keys belong to one record: those live in single (no pointers
	// for the collector to scan, a third of the memory); keys shared by
	// several records live in multi.
	single  map[uint64]int32
	multi   map[uint64][]int32
	pop     *population
	keysBuf []uint64
}

// NewIndex returns an empty index that scores with m.
func NewIndex(m *Model) *Index {
	return &Index{model: m, maxBlock: DefaultMaxBlock, byID: map[string]int32{}, single: map[uint64]int32{},
		multi: map[uint64][]int32{}, pop: newPopulation()}
}

// Model returns the model the index scores with.
func (ix *Index) Model() *Model {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.model
}

// SetModel makes the index score with m from now on (a model fitted once
// enough records are in).
func (ix *Index) SetModel(m *Model) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.model = m
}

// Add puts r in the index unless a record with its id is there already,
// and reports whether it did: a bulk load running beside live updates
// (Put) must not overwrite a newer version with the older one it read.
func (ix *Index) Add(r Record) (bool, error) {
	return ix.put(r, false)
}

// AddAll adds recs as Add does (a record whose id the index holds
// already is left as it is; of two records with one id in recs the first
// is kept) and returns how many it added. Records are normalised and
// their blocking keys made on workers goroutines (GOMAXPROCS if 0) before
// the index is locked, so a bulk load takes a fraction of the time of
// one Add after another. It returns EINVALID, adding nothing, if a record
// has no id.
func (ix *Index) AddAll(ctx context.Context, recs []Record, workers int) (int, error) {
	for i := range recs {
		if recs[i].ID == "" {
			return 0, custodian.Errorf(custodian.EINVALID, "mpi: a record needs an id to be indexed")
		}
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	es, err := entries(ctx, recs, workers)
	if err != nil {
		return 0, err
	}
	// Every (key, record) of the batch, sorted by key on all workers, so
	// that each key goes into the maps once: adding records one at a
	// time moves a key shared by several from single to multi, and the
	// deletions leave the map slow to search.
	refs := make([][]keyRef, (len(es)+parallelChunk-1)/parallelChunk)
	err = parallel(ctx, len(es), workers, func(lo, hi int) {
		var ks []uint64
		out := make([]keyRef, 0, (hi-lo)*16)
		for i := lo; i < hi; i++ {
			ks = blockKeys(&es[i], ks[:0])
			for _, k := range ks {
				out = append(out, keyRef{k, int32(i)})
			}
		}
		refs[lo/parallelChunk] = out
	})
	if err != nil {
		return 0, err
	}
	sorted := partition(refs, 256, func(r keyRef) int { return int(r.key >> 56) })
	refs = nil
	if err := eachBucket(ctx, &sorted, workers, func(i int) {
		slices.SortFunc(sorted.bucket(i), func(a, b keyRef) int {
			if c := cmp.Compare(a.key, b.key); c != 0 {
				return c
			}
			return cmp.Compare(a.rec, b.rec)
		})
	}); err != nil {
		return 0, err
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if len(ix.byID) == 0 && len(ix.free) == 0 {
		// An empty index: size the maps once instead of growing them.
		ix.byID = make(map[string]int32, len(es))
		ix.entries = slices.Grow(ix.entries, len(es))
		ix.live = slices.Grow(ix.live, len(es))
	}
	// Each record of the batch gets its place (-1: its id is indexed).
	slot := make([]int32, len(es))
	added := 0
	for i := range es {
		if _, ok := ix.byID[es[i].id]; ok {
			slot[i] = -1
			continue
		}
		slot[i] = ix.insertLocked(es[i], nil)
		added++
	}
	// Into an index with no keys yet, keys go in without looking for
	// them first (one map operation a key: at a million records the maps
	// are far larger than the caches, and each lookup is a memory miss).
	fresh := len(ix.single) == 0 && len(ix.multi) == 0
	if fresh {
		ones := 0
		for lo := 0; lo < len(sorted.vals); {
			hi := lo + 1
			for hi < len(sorted.vals) && sorted.vals[hi].key == sorted.vals[lo].key {
				hi++
			}
			if hi-lo == 1 {
				ones++
			}
			lo = hi
		}
		ix.single = make(map[uint64]int32, ones)
	}
	var group []int32
	for lo := 0; lo < len(sorted.vals); {
		k := sorted.vals[lo].key
		group = group[:0]
		hi := lo
		for ; hi < len(sorted.vals) && sorted.vals[hi].key == k; hi++ {
			if j := slot[sorted.vals[hi].rec]; j >= 0 && (len(group) == 0 || group[len(group)-1] != j) {
				group = append(group, j)
			}
		}
		lo = hi
		switch {
		case !fresh:
			ix.addKeys(k, group)
		case len(group) == 1:
			ix.single[k] = group[0]
		case len(group) > 1:
			ix.multi[k] = slices.Clone(group)
		}
	}
	return added, nil
}

// keyRef is a blocking key of the record at position rec of a batch.
type keyRef struct {
	key uint64
	rec int32
}

// Len is the number of records in the index.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.byID)
}

// Put adds r, or replaces the record with r's id. It returns EINVALID if
// r has no id.
func (ix *Index) Put(r Record) error {
	_, err := ix.put(r, true)
	return err
}

func (ix *Index) put(r Record, replace bool) (bool, error) {
	if r.ID == "" {
		return false, custodian.Errorf(custodian.EINVALID, "mpi: a record needs an id to be indexed")
	}
	e := newEntry(&r)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if i, ok := ix.byID[r.ID]; ok {
		if !replace {
			return false, nil
		}
		ix.removeLocked(i)
	}
	ix.keysBuf = blockKeys(&e, ix.keysBuf[:0])
	ix.insertLocked(e, ix.keysBuf)
	return true, nil
}

// insertLocked stores e with its blocking keys and returns its place.
func (ix *Index) insertLocked(e entry, keys []uint64) int32 {
	var i int32
	if n := len(ix.free); n > 0 {
		i = ix.free[n-1]
		ix.free = ix.free[:n-1]
		ix.entries[i], ix.live[i] = e, true
	} else {
		i = int32(len(ix.entries))
		ix.entries = append(ix.entries, e)
		ix.live = append(ix.live, true)
	}
	ix.byID[e.id] = i
	ix.pop.add(&ix.entries[i], 1)
	for _, k := range keys {
		ix.addKey(k, i)
	}
	return i
}

// addKeys files the records at places is (ascending, none indexed under
// k yet) under key k.
func (ix *Index) addKeys(k uint64, is []int32) {
	switch {
	case len(is) == 0:
		return
	case len(is) == 1:
		ix.addKey(k, is[0])
		return
	}
	if b, ok := ix.multi[k]; ok {
		ix.multi[k] = append(b, is...)
		return
	}
	b := make([]int32, 0, len(is)+1)
	if j, ok := ix.single[k]; ok {
		delete(ix.single, k)
		b = append(b, j)
	}
	ix.multi[k] = append(b, is...)
}

func (ix *Index) addKey(k uint64, i int32) {
	if b, ok := ix.multi[k]; ok {
		if !slices.Contains(b, i) {
			ix.multi[k] = append(b, i)
		}
		return
	}
	if j, ok := ix.single[k]; ok {
		if j != i {
			delete(ix.single, k)
			ix.multi[k] = []int32{j, i}
		}
		return
	}
	ix.single[k] = i
}

func (ix *Index) removeKey(k uint64, i int32) {
	if j, ok := ix.single[k]; ok {
		if j == i {
			delete(ix.single, k)
		}
		return
	}
	b := ix.multi[k]
	if j := slices.Index(b, i); j >= 0 {
		b = slices.Delete(b, j, j+1)
		switch len(b) {
		case 0:
			delete(ix.multi, k)
		case 1:
			delete(ix.multi, k)
			ix.single[k] = b[0]
		default:
			ix.multi[k] = b
		}
	}
}

// Remove takes the record with id out of the index (no error if absent).
func (ix *Index) Remove(id string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if i, ok := ix.byID[id]; ok {
		ix.removeLocked(i)
	}
}

func (ix *Index) removeLocked(i int32) {
	e := &ix.entries[i]
	ix.keysBuf = blockKeys(e, ix.keysBuf[:0])
	for _, k := range ix.keysBuf {
		ix.removeKey(k, i)
	}
	ix.pop.add(e, -1)
	delete(ix.byID, e.id)
	ix.entries[i], ix.live[i] = entry{}, false
	ix.free = append(ix.free, i)
}

// Match is an indexed record scored against a query record.
type Match struct {
	ID          string
	Probability float64
	Weight      float64 // log2 odds
	Class       Class
	Evidence    []Evidence
}

// Evidence is what one field contributed to a match.
type Evidence struct {
	Field  string
	Level  string  // the agreement level ("exact", "different", …)
	Weight float64 // log2 of m/u (term-frequency adjusted for names)
}

// MatchRecord scores r against the indexed records that share a blocking
// key with it and returns those at or above threshold (the model's review
// threshold if 0), best first, at most limit (all if limit <= 0). A
// record with r's id is left out: a record does not match itself.
func (ix *Index) MatchRecord(ctx context.Context, r Record, threshold float64, limit int) ([]Match, error) {
	q := newEntry(&r)
	keys := blockKeys(&q, nil)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if threshold <= 0 {
		threshold = ix.model.ReviewThreshold
	}
	var cand []int32
	for _, k := range keys {
		if j, ok := ix.single[k]; ok {
			cand = append(cand, j)
		} else if b := ix.multi[k]; len(b) <= ix.maxBlock {
			cand = append(cand, b...)
		}
	}
	slices.Sort(cand)
	cand = slices.Compact(cand)
	var out []Match
	for n, i := range cand {
		if n%256 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		e := &ix.entries[i]
		if !ix.live[i] || (r.ID != "" && e.id == r.ID) {
			continue
		}
		v := compare(&q, e)
		w, p := ix.model.score(v, e, &q, ix.pop)
		if p < threshold {
			continue
		}
		out = append(out, Match{ID: e.id, Probability: p, Weight: w, Class: ix.model.classify(p, v, &q, e, ix.pop),
			Evidence: ix.model.evidence(v, e, ix.pop)})
	}
	slices.SortFunc(out, func(a, b Match) int {
		if c := cmp.Compare(b.Weight, a.Weight); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// evidence lists the fields compared in v with their level and weight.
func (m *Model) evidence(v vector, a *entry, p *population) []Evidence {
	var out []Evidence
	for f := 0; f < numFields; f++ {
		l := v.level(f)
		if l == null {
			continue
		}
		w := m.weights[f][l]
		var one vector = allNull
		one.set(f, l)
		w += m.tfAdjust(one, a, p)
		out = append(out, Evidence{Field: m.Fields[f].Name, Level: m.Fields[f].Levels[l], Weight: w})
	}
	return out
}

// Fit estimates a model from recs without labels: blocking, comparison
// and EM as in Dedupe. It returns EINVALID with fewer than two records.
func Fit(ctx context.Context, recs []Record, opt Options) (*Model, error) {
	if len(recs) < 2 {
		return nil, custodian.Errorf(custodian.EINVALID, "mpi: a model needs at least two records to fit")
	}
	opt.Model = nil
	opt.Threshold = 1 // no pairs are kept: only the model is wanted
	res, err := Dedupe(ctx, recs, opt)
	if err != nil {
		return nil, err
	}
	return res.Model, nil
}
