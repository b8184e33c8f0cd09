package codeset

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
)

// searchIndex returns the system's text index, building it on first use.
func (cs *CodeSystem) searchIndex() *searchIndex {
	cs.indexOnce.Do(func() { cs.idx = buildIndex(cs, nil) })
	return cs.idx
}

// Document kinds: what text of a concept a document holds.
const (
	docTitle uint8 = iota
	docInclusion
	docIncludes
)

var docHow = [...]string{"title", "inclusion term", "includes"}

type doc struct {
	concept int32
	kind    uint8
	marker  bool    // says "NOS" or "unspecified"
	req     []int32 // tokens that count against a partial match
	opt     []int32 // nonessential modifiers
	text    string
}

// searchIndex is an inverted index from token to the documents (titles
// and terms) that hold it.
type searchIndex struct {
	cs     *CodeSystem
	vocab  map[string]int32
	words  []string
	idf    []float32
	post   [][]int32
	docs   []doc
	byLen  [][]int32
	sorted []int32 // word ids in word order, for prefix ranges
	// qualifier marks the words of qualifierWords
	qualifier []bool
	scratch   sync.Pool
}

// buildIndex indexes every title, inclusion term and Includes note of cs;
// skip, if set, leaves documents out (the evaluation holds some out).
func buildIndex(cs *CodeSystem, skip func(c *Concept, kind uint8, text string) bool) *searchIndex {
	ix := &searchIndex{cs: cs, vocab: map[string]int32{}}
	var seen []int32
	type token struct {
		text     string
		optional bool
	}
	var toks []token
	var req, opt, arena []int32 // a document's words, then every document's
	ix.docs = make([]doc, 0, len(cs.concepts)*6/5)
	add := func(ci int32, kind uint8, text string) {
		if text == "" || skip != nil && skip(&cs.concepts[ci], kind, text) {
			return
		}
		d := doc{concept: ci, kind: kind, text: text}
		seen, req, opt = seen[:0], req[:0], opt[:0]
		toks = toks[:0]
		tokens(strings.ToLower(text), func(tok string, optional bool) {
			toks = append(toks, token{stem(tok), optional})
		})
		for i, tk := range toks {
			tok := tk.text
			switch {
			case stopWords[tok]:
				continue
			case markers[tok], tok == "not" && i+1 < len(toks) && toks[i+1].text == "specified",
				tok == "specified" && i > 0 && toks[i-1].text == "not":
				d.marker = true
				continue
			case genericWords[tok] && (i > 0 && markers[toks[i-1].text] || i+1 < len(toks) && toks[i+1].text == "not"):
				// "unspecified organism", "site not specified": the
				// default, said at length
				tk.optional = true
			}
			id, ok := ix.vocab[tok]
			if !ok {
				id = int32(len(ix.words))
				ix.vocab[tok] = id
				ix.words = append(ix.words, tok)
				ix.post = append(ix.post, nil)
			}
			if slices.Contains(seen, id) {
				continue
			}
			seen = append(seen, id)
			if tk.optional {
				opt = append(opt, id)
			} else {
				req = append(req, id)
			}
		}
		if cap(arena)-len(arena) < len(req)+len(opt) {
			arena = make([]int32, 0, 1<<16)
		}
		arena = append(arena, req...)
		d.req = arena[len(arena)-len(req) : len(arena) : len(arena)]
		arena = append(arena, opt...)
		d.opt = arena[len(arena)-len(opt) : len(arena) : len(arena)]
		di := int32(len(ix.docs))
		for _, id := range seen {
			ix.post[id] = append(ix.post[id], di)
		}
		ix.docs = append(ix.docs, d)
	}
	for i := range cs.concepts {
		c := &cs.concepts[i]
		add(int32(i), docTitle, c.title)
		for _, n := range c.notes {
			switch n.Kind {
			case NoteInclusion:
				add(int32(i), docInclusion, n.Text)
			case NoteIncludes:
				add(int32(i), docIncludes, n.Text)
			}
		}
	}
	n := float64(len(ix.docs))
	ix.idf = make([]float32, len(ix.words))
	for id, p := range ix.post {
		ix.idf[id] = float32(math.Log(1 + n/float64(len(p))))
		l := len(ix.words[id])
		for len(ix.byLen) <= l {
			ix.byLen = append(ix.byLen, nil)
		}
		ix.byLen[l] = append(ix.byLen[l], int32(id))
	}
	ix.qualifier = make([]bool, len(ix.words))
	for w := range qualifierWords {
		if id, ok := ix.vocab[w]; ok {
			ix.qualifier[id] = true
		}
	}
	ix.sorted = make([]int32, len(ix.words))
	for i := range ix.sorted {
		ix.sorted[i] = int32(i)
	}
	sort.Slice(ix.sorted, func(a, b int) bool { return ix.words[ix.sorted[a]] < ix.words[ix.sorted[b]] })
	ix.scratch.New = func() any {
		s := &scratch{slot: make([]int32, len(ix.docs)), best: make([]int32, len(cs.concepts)), said: make([]bool, len(ix.words))}
		for i := range s.slot {
			s.slot[i] = -1
		}
		for i := range s.best {
			s.best[i] = -1
		}
		return s
	}
	return ix
}

// maxPositions bounds the words of a query that are matched.
const maxPositions = 24
