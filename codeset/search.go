package codeset

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/custodian-him/custodian"
)

// SearchOptions narrow and page a search.
type SearchOptions struct {
	// Date keeps codes that exist on the date of service (the zero Date:
	// the latest covered).
	Date Date
	// Billable keeps only codes reportable on Date.
	Billable bool
	// Under keeps only the code (as Lookup reads it) and codes below it.
	Under string
	// Offset skips that many hits; Limit returns at most that many (0: 20).
	Offset, Limit int
}

// Hit is one search result.
type Hit struct {
	Concept *Concept
	Score   float64
	// Matched is the text the query matched: the title, an inclusion term,
	// or, for a code typed as such, the code.
	Matched string
	How     string // "title", "inclusion term", "includes", "code", "default"
}

// Result is a page of hits and how many there are in all.
type Result struct {
	Hits  []Hit
	Total int
}

// MaxQuery is the longest search text accepted, in bytes.
const MaxQuery = 500

// Search finds the codes that best match text written the way clinicians
// write (see the package doc): a code typed as such ("e11.9", "S72.001")
// gives that code then the codes below it; other text is matched word by
// word against titles and inclusion terms, with abbreviations expanded,
// plurals folded, misspellings forgiven, nonessential modifiers (the
// tabular's parenthesised words) optional, and the unspecified default
// preferred when the text names nothing more specific. Empty or over-long
// text is EINVALID.
func (cs *CodeSystem) Search(text string, opt SearchOptions) (Result, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Result{}, custodian.Errorf(custodian.EINVALID, "no search text given")
	}
	if len(text) > MaxQuery {
		return Result{}, custodian.Errorf(custodian.EINVALID, "the search text is %d bytes long; at most %d are searched", len(text), MaxQuery)
	}
	if opt.Limit <= 0 {
		opt.Limit = 20
	}
	if opt.Offset < 0 {
		return Result{}, custodian.Errorf(custodian.EINVALID, "offset must not be negative")
	}
	if err := cs.checkDate(opt.Date); err != nil {
		return Result{}, err
	}
	var under *Concept
	if opt.Under != "" {
		c, err := cs.Lookup(opt.Under)
		if err != nil {
			return Result{}, err
		}
		under = c
	}
	keep := func(c *Concept) bool {
		if under != nil && !c.IsA(under) {
			return false
		}
		if opt.Billable {
			return c.Billable(opt.Date)
		}
		return c.Exists(opt.Date)
	}
	hits := cs.codeHits(text, keep)
	if hits == nil {
		hits = cs.searchIndex().search(text, opt.Date, keep)
	}
	res := Result{Total: len(hits)}
	if opt.Offset < len(hits) {
		hits = hits[opt.Offset:]
		res.Hits = hits[:min(len(hits), opt.Limit)]
	}
	return res, nil
}

// codeHits answers text that is a code, or the start of codes: the code
// itself, then every code below it in code order. It returns nil if text is
// not code-like or matches no code.
func (cs *CodeSystem) codeHits(text string, keep func(*Concept) bool) []Hit {
	q := strings.ToUpper(strings.ReplaceAll(text, " ", ""))
	if len(q) < 3 || !strings.ContainsAny(q, "0123456789") {
		return nil
	}
	code, err := cs.Normalize(q)
	if err != nil {
		return nil
	}
	c, ok := cs.Concept(code)
	if !ok {
		if c = cs.withPlaceholders(code); c == nil {
			return cs.prefixHits(code, keep)
		}
	}
	var hits []Hit
	if keep(c) {
		hits = append(hits, Hit{Concept: c, Score: 1, Matched: c.Display(), How: "code"})
	}
	c.Descendants(func(d *Concept) bool {
		if keep(d) {
			hits = append(hits, Hit{Concept: d, Score: 0.9, Matched: c.Display(), How: "code"})
		}
		return true
	})
	if hits == nil {
		hits = []Hit{}
	}
	return hits
}

// prefixHits lists the codes that begin with prefix, which is not itself a
// code ("0DTJ" of ICD-10-PCS, the start of a code being typed); nil if none.
func (cs *CodeSystem) prefixHits(prefix string, keep func(*Concept) bool) []Hit {
	i, _ := slices.BinarySearchFunc(cs.concepts, prefix, func(c Concept, p string) int { return strings.Compare(c.code, p) })
	var hits []Hit
	for ; i < len(cs.concepts) && strings.HasPrefix(cs.concepts[i].code, prefix); i++ {
		if c := &cs.concepts[i]; keep(c) {
			hits = append(hits, Hit{Concept: c, Score: 0.9, Matched: prefix, How: "code"})
		}
	}
	return hits
}

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
	cs      *CodeSystem
	vocab   map[string]int32
	words   []string
	idf     []float32
	post    [][]int32
	docs    []doc
	byLen   [][]int32
	sorted  []int32 // word ids in word order, for prefix ranges
	scratch sync.Pool
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

// position is one word of a query with the tokens that may match it.
type position struct {
	alts   []int32
	factor []float32
	weight float32
}

type docState struct {
	doc int32
	got [maxPositions]float32
}

type scratch struct {
	slot   []int32 // doc → index in states, -1
	states []docState
	best   []int32 // concept → index in cands, -1
	cands  []Hit
	said   []bool // token → matched by the query being scored
}

// plan turns query text into positions; it also reports whether the text
// carries an unspecified marker ("NOS").
func (ix *searchIndex) plan(words []string) []position {
	var ps []position
	seen := map[string]bool{}
	for _, w := range words {
		t := stem(w)
		if stopWords[t] || markers[t] || seen[t] || len(ps) == maxPositions {
			continue
		}
		seen[t] = true
		var p position
		if id, ok := ix.vocab[t]; ok {
			p.alts, p.factor, p.weight = append(p.alts, id), append(p.factor, 1), ix.idf[id]
		}
		for _, group := range synonyms {
			if !slices.Contains(group, t) {
				continue
			}
			for _, s := range group {
				if id, ok := ix.vocab[stem(s)]; ok && s != t && !slices.Contains(p.alts, id) {
					p.alts, p.factor = append(p.alts, id), append(p.factor, 0.85)
				}
			}
		}
		// other forms of the same word: tuberculosis and tuberculous,
		// syphilis and syphilitic (a long shared beginning)
		for _, id := range ix.related(t) {
			if !slices.Contains(p.alts, id) {
				p.alts, p.factor = append(p.alts, id), append(p.factor, 0.8)
			}
		}
		if len(p.alts) == 0 {
			for _, id := range ix.fuzzy(t) {
				p.alts, p.factor = append(p.alts, id), append(p.factor, 0.75)
			}
		}
		if len(p.alts) == 0 && len(t) >= 3 {
			for _, id := range ix.prefixed(t, 12) {
				p.alts, p.factor = append(p.alts, id), append(p.factor, 0.7)
			}
		}
		if p.weight == 0 {
			var sum float32
			for _, id := range p.alts {
				sum += ix.idf[id]
			}
			if len(p.alts) > 0 {
				p.weight = sum / float32(len(p.alts))
			} else {
				p.weight = 1 // a word nothing matches still counts against every match
			}
		}
		ps = append(ps, p)
	}
	return ps
}

// search ranks the documents for text and returns one hit per concept, best
// first.
func (ix *searchIndex) search(text string, on Date, keep func(*Concept) bool) []Hit {
	s := ix.scratch.Get().(*scratch)
	defer ix.scratch.Put(s)
	words := expandQuery(text)
	ix.score(s, ix.plan(words), on)
	// An abbreviation that is also a word of the classification ("stroke"
	// in heat stroke) is tried as written too.
	if raw := rawWords(text); !slices.Equal(raw, words) {
		for _, w := range raw {
			if _, abbr := abbreviations[w]; abbr {
				if _, ok := ix.vocab[stem(w)]; ok {
					ix.score(s, ix.plan(raw), on)
					break
				}
			}
		}
	}
	// Keep the hits within reach of the best, rank them, and let the
	// headers near the top lead to their default codes.
	top := 0.0
	for _, h := range s.cands {
		top = max(top, h.Score)
	}
	out := make([]Hit, 0, 64)
	for _, h := range s.cands {
		if h.Score >= top*0.5 {
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return better(out[i], out[j], on) })
	out = ix.defaults(s, out, on)
	kept := out[:0]
	for _, h := range out {
		if keep(h.Concept) {
			kept = append(kept, h)
		}
	}
	for i := range s.cands {
		s.best[s.cands[i].Concept.index()] = -1
	}
	s.cands = s.cands[:0]
	return kept
}

func (c *Concept) index() int32 { return c.self }

func better(a, b Hit, on Date) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	ab, bb := a.Concept.Billable(on), b.Concept.Billable(on)
	if ab != bb {
		return ab
	}
	if len(a.Concept.code) != len(b.Concept.code) {
		return len(a.Concept.code) < len(b.Concept.code)
	}
	return a.Concept.code < b.Concept.code
}

func rawWords(text string) []string {
	var out []string
	tokens(text, func(tok string, _ bool) { out = append(out, tok) })
	return out
}

// score adds the documents matching ps to s.cands (best per concept).
func (ix *searchIndex) score(s *scratch, ps []position, on Date) {
	if len(ps) == 0 {
		return
	}
	var total float32
	for _, p := range ps {
		total += p.weight
	}
	// Rare words first: once the words left weigh less than half the
	// query, a document none of the earlier words found cannot reach the
	// half the query a match needs, so common words only add to documents
	// already found.
	order := make([]int, len(ps))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return ps[order[a]].weight > ps[order[b]].weight })
	left := total
	for _, pi := range order {
		p := ps[pi]
		open := left >= total*0.5
		left -= p.weight
		for ai, id := range p.alts {
			f := p.factor[ai]
			for _, d := range ix.post[id] {
				si := s.slot[d]
				if si < 0 {
					if !open {
						continue
					}
					si = int32(len(s.states))
					s.slot[d] = si
					s.states = append(s.states, docState{doc: d})
				}
				if st := &s.states[si]; st.got[pi] < f {
					st.got[pi] = f
				}
			}
		}
	}
	diabetesDefault := ix.diabetesDefault(ps)
	// said marks the vocabulary the query matches (and the words taken as
	// said: the type 2 diabetes default)
	var marked []int32
	for _, p := range ps {
		marked = append(marked, p.alts...)
	}
	if diabetesDefault {
		for _, w := range []string{"type", "2", "mellitus"} {
			if id, ok := ix.vocab[w]; ok {
				marked = append(marked, id)
			}
		}
	}
	for _, id := range marked {
		s.said[id] = true
	}
	defer func() {
		for _, id := range marked {
			s.said[id] = false
		}
	}()
	for i := range s.states {
		st := &s.states[i]
		s.slot[st.doc] = -1
		var got float32
		for pi, p := range ps {
			got += p.weight * st.got[pi]
		}
		qcov := float64(got / total)
		if qcov < 0.5 {
			continue
		}
		d := &ix.docs[st.doc]
		var reqW, reqGot float32
		for _, t := range d.req {
			reqW += ix.idf[t]
			if s.said[t] {
				reqGot += ix.idf[t]
			}
		}
		dcov := 1.0
		if reqW > 0 {
			dcov = float64(reqGot / reqW)
		}
		score := qcov * qcov * (0.35 + 0.65*dcov)
		score *= [...]float64{1, 0.98, 0.96}[d.kind]
		c := &ix.cs.concepts[d.concept]
		if d.marker {
			score += 0.03 * qcov
		}
		if diabetesDefault && strings.HasPrefix(c.code, "E11") {
			score += 0.02
		}
		if c.Billable(on) {
			score += 0.01
		}
		ci := d.concept
		if bi := s.best[ci]; bi >= 0 {
			if score > s.cands[bi].Score {
				s.cands[bi] = Hit{Concept: c, Score: score, Matched: d.text, How: docHow[d.kind]}
			}
			continue
		}
		s.best[ci] = int32(len(s.cands))
		s.cands = append(s.cands, Hit{Concept: c, Score: score, Matched: d.text, How: docHow[d.kind]})
	}
	s.states = s.states[:0]
}

// diabetesDefault reports whether the query names diabetes without its
// type: the Alphabetic Index then defaults to type 2 (E11), per the
// ICD-10-CM guidelines (I.C.4.a.2).
func (ix *searchIndex) diabetesDefault(ps []position) bool {
	named := false
	for _, p := range ps {
		for _, id := range p.alts {
			switch ix.words[id] {
			case "diabete", "diabetic":
				named = true
			}
		}
		if len(p.alts) == 0 || p.factor[0] != 1 {
			continue
		}
		switch ix.words[p.alts[0]] {
		case "type", "1", "2", "secondary", "gestational", "drug", "chemical", "underlying", "neonatal", "pregnancy", "postprocedural", "childbirth", "puerperium", "insipidu", "insipidus", "other":
			return false
		}
	}
	return named
}

// defaults puts the default code of a header that matched just above it:
// a query that matches a category ("pneumonia", "diabetes NOS") is answered
// with the code the category defaults to — the 7th character A (initial
// encounter) where one is required, otherwise its unspecified code (.9 or
// the one titled "unspecified").
func (ix *searchIndex) defaults(s *scratch, hits []Hit, on Date) []Hit {
	const reach = 50
	changed := false
	for i := 0; i < min(len(hits), reach); i++ {
		h := hits[i]
		if !h.Concept.Header() {
			continue
		}
		d := h.Concept.defaultCode(on)
		if d == nil {
			continue
		}
		score := h.Score + 0.001
		changed = true
		if bi := s.best[d.index()]; bi >= 0 && s.cands[bi].Score >= score {
			continue
		}
		found := false
		for j := range hits {
			if hits[j].Concept == d {
				hits[j].Score, hits[j].Matched, hits[j].How = score, h.Matched, "default"
				found = true
				break
			}
		}
		if !found {
			hits = append(hits, Hit{Concept: d, Score: score, Matched: h.Matched, How: "default"})
		}
	}
	if changed {
		sort.SliceStable(hits, func(i, j int) bool { return better(hits[i], hits[j], on) })
	}
	return hits
}

// defaultCode returns the reportable code a header defaults to on the
// date, nil if none is evident. Among the children the choice is, in
// order: the 7th character A (initial encounter) where the category takes
// 7th characters; the unspecified code (the one ending in 9); the one
// titled unspecified; the one "without" a complication.
func (c *Concept) defaultCode(on Date) *Concept {
	for depth := 0; c != nil && depth < 5; depth++ {
		if c.Billable(on) {
			return c
		}
		var next *Concept
		rank := 99
		seventh := c.SeventhCharacters() != nil
		for _, ch := range c.Children() {
			if !ch.Exists(on) {
				continue
			}
			title := strings.ToLower(ch.title)
			r := 99
			switch {
			case seventh && len(ch.code) == 7 && ch.code[6] == 'A':
				r = 0
			case strings.HasSuffix(ch.code, "9") && len(ch.code) == len(c.code)+1:
				r = 1
			case strings.HasSuffix(title, "unspecified"):
				r = 2
			case strings.Contains(title, "unspecified") && !strings.Contains(title, "with unspecified"):
				r = 3
			case strings.Contains(title, "without"):
				r = 4
			}
			if r < rank {
				next, rank = ch, r
			}
		}
		c = next
	}
	return nil
}

// fuzzy returns the vocabulary tokens nearest t (edit distance 1 for words
// up to 5 letters, 2 for longer; transpositions count once), at most 4.
func (ix *searchIndex) fuzzy(t string) []int32 {
	if len(t) < 4 {
		return nil
	}
	maxD := 1
	if len(t) > 5 {
		maxD = 2
	}
	best := maxD
	var out []int32
	for l := len(t) - maxD; l <= len(t)+maxD; l++ {
		if l < 0 || l >= len(ix.byLen) {
			continue
		}
		for _, id := range ix.byLen[l] {
			d := editDistance(t, ix.words[id], best+1) // best+1: "more than best"
			if d > best {
				continue
			}
			if d < best {
				best, out = d, out[:0]
			}
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(ix.post[out[i]]) > len(ix.post[out[j]]) })
	if len(out) > 4 {
		out = out[:4]
	}
	return out
}

// related returns the words that share a long beginning with t (7
// letters, and all but the last 3 of the shorter word), at most 4.
func (ix *searchIndex) related(t string) []int32 {
	const shared = 7
	if len(t) < shared+1 {
		return nil
	}
	stemOf := t[:shared]
	i := sort.Search(len(ix.sorted), func(i int) bool { return ix.words[ix.sorted[i]] >= stemOf })
	var out []int32
	for ; i < len(ix.sorted) && strings.HasPrefix(ix.words[ix.sorted[i]], stemOf) && len(out) < 4; i++ {
		w := ix.words[ix.sorted[i]]
		n := min(len(w), len(t)) - 3
		if w != t && len(w) > shared && w[:max(n, shared)] == t[:max(n, shared)] {
			out = append(out, ix.sorted[i])
		}
	}
	return out
}

// prefixed returns up to n vocabulary tokens that start with t, most
// frequent first.
func (ix *searchIndex) prefixed(t string, n int) []int32 {
	var out []int32
	for l := len(t) + 1; l < len(ix.byLen); l++ {
		for _, id := range ix.byLen[l] {
			if strings.HasPrefix(ix.words[id], t) {
				out = append(out, id)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(ix.post[out[i]]) > len(ix.post[out[j]]) })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// editDistance is the optimal-string-alignment distance between a and b,
// or limit if it is limit or more.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	var rows [3][32]int
	if len(b) >= 31 || len(a) >= 31 {
		return limit
	}
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin >= limit {
			return limit
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit)
}
