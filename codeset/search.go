package codeset

import (
	"slices"
	"strings"

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
