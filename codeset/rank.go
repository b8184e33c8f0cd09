package codeset

import (
	"slices"
	"sort"
	"strings"
)

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
	var words []string
	if ix.cs.id == ICD10PCS {
		words = expandProcedure(text)
	} else {
		words = expandQuery(text, nil)
	}
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
		for _, t := range d.req {
			if ix.qualifier[t] && !s.said[t] {
				score *= 0.7
				break
			}
		}
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
				// A default already raised by a better header keeps its
				// score ("cholelithiasis": K80 leads to K80.20 before the
				// inclusion term under K80.2 does, lower).
				if hits[j].Score < score {
					hits[j].Score, hits[j].Matched, hits[j].How = score, h.Matched, "default"
				}
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
// 7th characters; the uncomplicated one or the unspecified one (ending in
// 9), whichever comes first; the one
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
			case strings.Contains(title, "uncomplicated"):
				r = 1
			case strings.HasSuffix(ch.code, "9") && len(ch.code) == len(c.code)+1:
				r = 1
			case strings.HasSuffix(title, "unspecified"):
				r = 2
			case strings.Contains(title, "unspecified") && !strings.Contains(title, "with unspecified"),
				strings.Contains(title, "not specified"):
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
