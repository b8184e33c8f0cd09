package ingest

import (
	"context"
	"hash/maphash"
	"slices"
	"strings"
	"sync"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// foundRef is a literal reference ("Type/id") met in a loaded resource,
// with where it was.
type foundRef struct {
	ref   string
	src   *source
	line  int64
	entry int
}

// refTracker follows references during a load in little memory: the
// resources loaded are kept as 8-byte hashes, and a reference is kept
// (as text, with where it was first seen) only while its target has not
// been loaded in this run. Since referenced types are mostly loaded first,
// few are kept; the store is asked about those at the end.
type refTracker struct {
	mu      sync.Mutex
	seed    maphash.Seed
	loaded  map[uint64]struct{}
	pending map[uint64]foundRef
	// refs counts the references met.
	refs int64
}

func newRefTracker() *refTracker {
	return &refTracker{seed: maphash.MakeSeed(), loaded: map[uint64]struct{}{}, pending: map[uint64]foundRef{}}
}

// add records resources loaded ("Type/id") and the references of them.
func (t *refTracker) add(loaded []string, refs []foundRef) {
	if len(loaded) == 0 && len(refs) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range loaded {
		h := maphash.String(t.seed, k)
		t.loaded[h] = struct{}{}
		delete(t.pending, h)
	}
	t.refs += int64(len(refs))
	for _, r := range refs {
		h := maphash.String(t.seed, r.ref)
		if _, ok := t.loaded[h]; ok {
			continue
		}
		if _, ok := t.pending[h]; !ok {
			t.pending[h] = r
		}
	}
}

// unresolved returns the references whose targets were not loaded in this
// run, sorted.
func (t *refTracker) unresolved() []foundRef {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]foundRef, 0, len(t.pending))
	for h, r := range t.pending {
		if _, ok := t.loaded[h]; !ok {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b foundRef) int { return strings.Compare(a.ref, b.ref) })
	return out
}

// collectRefs appends the literal references of res to refs: relative
// references "Type/id" (a version suffix dropped). Contained ("#…"),
// logical (urn:…), conditional and absolute references are not checked.
func collectRefs(res any, refs []foundRef, src *source, line int64, entry int) []foundRef {
	switch v := res.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok && k == "reference" {
				if ref, ok := literalRef(s); ok {
					refs = append(refs, foundRef{ref: ref, src: src, line: line, entry: entry})
				}
				continue
			}
			refs = collectRefs(e, refs, src, line, entry)
		}
	case []any:
		for _, e := range v {
			refs = collectRefs(e, refs, src, line, entry)
		}
	}
	return refs
}

func literalRef(s string) (string, bool) {
	if i := strings.Index(s, "/_history/"); i > 0 {
		s = s[:i]
	}
	typ, id, ok := strings.Cut(s, "/")
	if !ok || typ == "" || typ[0] < 'A' || typ[0] > 'Z' || !store.ValidID(id) {
		return "", false
	}
	for i := 0; i < len(typ); i++ {
		c := typ[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return "", false
		}
	}
	return s, true
}

// checkReferences asks the store about the references whose targets were
// not loaded in this run, and reports those that name nothing.
func (im *Importer) checkReferences(ctx context.Context, sum *Summary) error {
	refs := im.refs.unresolved()
	im.refs.mu.Lock()
	sum.References = im.refs.refs
	im.refs.mu.Unlock()
	if len(refs) == 0 {
		return nil
	}
	texts := make([]string, len(refs))
	for i, r := range refs {
		texts[i] = r.ref
	}
	missing, err := im.Store.Missing(ctx, texts)
	if err != nil {
		return err
	}
	miss := make(map[string]bool, len(missing))
	for _, m := range missing {
		miss[m] = true
	}
	for _, r := range refs {
		if !miss[r.ref] {
			continue
		}
		sum.Dangling++
		if len(sum.DanglingRefs) < im.ShowDangling {
			sum.DanglingRefs = append(sum.DanglingRefs, r.ref)
		}
		im.report.dangling(r.src.path, r.line, r.entry, r.ref,
			custodian.Errorf(custodian.ENOTFOUND, "the reference %s names no resource in the store", r.ref))
	}
	return nil
}
