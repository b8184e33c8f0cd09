package coding

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/codeset"
)

// MaxText is the longest note text Suggest reads, in bytes (1 MiB: a
// discharge summary is a few kilobytes, a long stay's every note a few
// hundred). Longer text is ETOOLARGE rather than slow.
const MaxText = 1 << 20

// Setting is the encounter setting, which decides how uncertain diagnoses
// are coded (ICD-10-CM Official Guidelines, Section II.H for inpatients:
// "probable", "suspected", "likely" at discharge are coded as if
// established; Section IV.H for outpatients: they are not, the symptoms are).
type Setting string

// The settings.
const (
	Inpatient  Setting = "inpatient"
	Outpatient Setting = "outpatient"
)

// ParseSetting reads "inpatient" or "outpatient" ("" is inpatient).
func ParseSetting(s string) (Setting, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "inpatient", "imp", "ip":
		return Inpatient, nil
	case "outpatient", "amb", "op", "emer", "emergency", "office":
		return Outpatient, nil
	}
	return "", custodian.Errorf(custodian.EINVALID, "setting %q is not inpatient or outpatient", s)
}

// Options steer one suggestion run.
type Options struct {
	Setting Setting
	// Date is the date of service codes must be valid on (zero: the latest
	// the code sets cover).
	Date codeset.Date
	// Limit caps the suggestions returned (0: 30).
	Limit int
}

// Evidence is one place in the text that supports a suggestion.
type Evidence struct {
	// Document names the note (SuggestNotes), "" for Suggest's one text.
	Document  string    `json:"document,omitempty"`
	Start     int       `json:"start"` // byte offsets [Start, End) in the text
	End       int       `json:"end"`
	Text      string    `json:"text"`
	Section   string    `json:"section"`
	Assertion Assertion `json:"assertion"`

	note int // the note's position in the input
}

// Suggestion is a candidate code with why it is suggested.
type Suggestion struct {
	System    codeset.SystemID `json:"system"`
	Code      string           `json:"code"` // as coders write it ("E11.22")
	Title     string           `json:"title"`
	Score     float64          `json:"score"`
	Principal bool             `json:"principal,omitempty"`
	// POA is the suggested present-on-admission indicator for inpatient
	// diagnoses: "N" when the text says the condition arose during the
	// stay, "" for codes exempt from POA reporting, "Y" otherwise.
	POA       string     `json:"poa,omitempty"`
	Assertion Assertion  `json:"assertion"`
	Evidence  []Evidence `json:"evidence"`
	// Concept is the code's concept in its system.
	Concept *codeset.Concept `json:"-"`

	first int // offset of the first evidence, for stable ordering
	poaN  bool
}

// Suggester suggests codes from note text. It is safe for concurrent use.
type Suggester struct {
	cm, pcs *codeset.CodeSystem

	vocabOnce sync.Once
	vocab     map[string]bool // every word of the titles and notes, lower case
}

// NewSuggester returns a suggester over the ICD-10-CM and ICD-10-PCS
// systems of set.
func NewSuggester(set *codeset.Set) (*Suggester, error) {
	cm, err := set.System(codeset.ICD10CM)
	if err != nil {
		return nil, err
	}
	pcs, err := set.System(codeset.ICD10PCS)
	if err != nil {
		return nil, err
	}
	return &Suggester{cm: cm, pcs: pcs}, nil
}

// sectionWeight is how much a mention in a section counts.
var sectionWeight = map[string]float64{
	SecPrincipal: 1, SecDiagnoses: .95, SecPreop: .9, SecAssessment: .9, SecProcedure: 1,
	SecCourse: .8, SecHPI: .75, SecPMH: .7, SecSocial: .7, SecFamily: .7,
	SecComplaint: .5, SecSubjective: .5, SecOther: .6,
}

// narrative sections are running prose rather than lists of problems.
var narrative = map[string]bool{SecCourse: true, SecHPI: true, SecOther: true, SecSubjective: true, SecComplaint: true, SecSocial: true}

// minScore is the adjusted search score a phrase needs to count as a
// mention of a code (codeset scores run to about 1 for an exact title).
const minScore = 0.6

// minListScore is the score enough in lists of diagnoses and procedures
// (discharge diagnoses, assessment items, past medical history), where
// every item names a condition and a long, exactly written diagnosis
// scores low only because the titles word it differently.
const minListScore = 0.2

// maxPhraseWords bounds the words searched as one phrase; longer pieces
// are split first (long text never matches a title as a whole). A
// procedure line is longer: it names the operation, the body part, the
// approach and the device ("insertion of a tunneled dialysis catheter
// with the tip in the right atrium").
const (
	maxPhraseWords    = 12
	maxProcedureWords = 24
)

// Suggest returns ranked code suggestions for a note's text: ICD-10-CM
// diagnoses (the principal one first, for inpatients) and ICD-10-PCS
// procedures named in procedure sections or operative notes, each with
// the evidence in the text. Empty text has no suggestions; text over
// MaxText is ETOOLARGE.
func (s *Suggester) Suggest(text string, opt Options) ([]Suggestion, error) {
	return s.SuggestNotes([]Note{{Text: text}}, opt)
}

// Note is one document of an encounter.
type Note struct {
	ID   string // "DocumentReference/id", copied to the evidence
	Text string
}

// MaxNotesText bounds the text of all the notes of one SuggestNotes call.
const MaxNotesText = 8 * MaxText

// SuggestNotes suggests codes from several notes of one encounter (the
// H&P, progress notes, operative reports, the discharge summary): mentions
// are merged across notes, and each evidence names its note.
func (s *Suggester) SuggestNotes(notes []Note, opt Options) ([]Suggestion, error) {
	total := 0
	for _, n := range notes {
		if len(n.Text) > MaxText {
			return nil, custodian.Errorf(custodian.ETOOLARGE, "a note of %d bytes is over the %d bytes (about 300 pages) suggestion reads: send one note or one encounter's notes at a time", len(n.Text), MaxText)
		}
		total += len(n.Text)
	}
	if total > MaxNotesText {
		return nil, custodian.Errorf(custodian.ETOOLARGE, "the notes total %d bytes; suggestion reads at most %d at once", total, MaxNotesText)
	}
	if opt.Setting == "" {
		opt.Setting = Inpatient
	}
	if opt.Limit <= 0 {
		opt.Limit = 30
	}
	r := run{s: s, opt: opt, byCode: map[string]*Suggestion{}}
	for i, n := range notes {
		r.text, r.doc, r.noteIndex = n.Text, n.ID, i
		r.note()
	}
	return r.finish(), nil
}

// note reads one note's text.
func (r *run) note() {
	text, s, opt := r.text, r.s, r.opt
	segs := segments(text, nil)
	operative := isOperativeNote(text)
	var toks []token
	var chs []chunk
	for _, sg := range segs {
		toks = tokenize(text, sg.start, sg.end, toks[:0])
		if len(toks) == 0 {
			continue
		}
		poaN := false
		if i := hospitalAcquired(toks); i >= 0 {
			toks, poaN = toks[:i], true
		}
		system := s.cm
		switch sg.section {
		case SecPSH:
			continue // past operations are not coded
		case SecProcedure:
			system = s.pcs
		case SecAssessment, SecDiagnoses, SecPrincipal, SecPreop:
			toks = beforePlan(toks)
		}
		if operative && sg.section == SecOther {
			continue // the narrative of an operative note
		}
		base := Present // a past medical history item is reported as history (see match)
		if sg.section == SecFamily {
			base = Family
		}
		if system == s.pcs {
			r.phrase(toks, 0, system, sg, base, poaN)
			r.procedureParts(toks, sg, base)
			continue
		}
		chs = chunks(toks, base, chs[:0])
		for _, c := range chs {
			switch c.assertion {
			case Negated:
				continue
			case Uncertain:
				if opt.Setting == Outpatient {
					continue
				}
			}
			r.phrase(c.toks, 0, system, sg, c.assertion, poaN)
		}
	}
}

// isOperativeNote reports whether the note is an operative or procedure
// report (its procedures are in the PROCEDURE section, its narrative is
// not coded).
func isOperativeNote(text string) bool {
	head := text[:min(len(text), 200)]
	return strings.Contains(head, "OPERATIVE REPORT") || strings.Contains(head, "PROCEDURE NOTE") || strings.Contains(head, "OPERATIVE NOTE")
}

// hospitalAcquired finds words saying the condition arose during the stay
// and returns where they start (-1 if none).
func hospitalAcquired(toks []token) int {
	for i := range toks {
		switch toks[i].word {
		case "developed", "hospital-acquired", "acquired", "postoperative", "post-operative":
			for j := i; j < len(toks) && j < i+5; j++ {
				if toks[j].word == "admission" || toks[j].word == "stay" || toks[j].word == "hospitalization" || toks[j].word == "hospital-acquired" || strings.HasPrefix(toks[j].word, "post") {
					k := i
					if k > 0 && toks[k-1].comma && toks[k-1].word == "(" {
						k--
					}
					return k
				}
			}
		}
	}
	return -1
}

// beforePlan cuts an assessment item "Problem: plan" to the problem.
func beforePlan(toks []token) []token {
	for i, t := range toks {
		if t.comma && t.word == ":" && i > 0 {
			return toks[:i]
		}
	}
	return toks
}

// procedureParts finds the other procedures of a line that names more
// than one ("left heart catheterization with coronary angiography"): each
// part after "with", "and" or a comma is searched alone, and kept when it
// names a procedure of another section, body system or root operation
// than the line as a whole and the parts before it (a part that only names the device or the body part of the
// whole, "with a drug-eluting stent", finds the same operation and is
// left).
func (r *run) procedureParts(toks []token, sg segment, a Assertion) {
	pcs := r.s.pcs
	search := func(ts []token) (*codeset.Concept, float64) {
		for len(ts) > 0 && isFiller(ts[0]) {
			ts = ts[1:]
		}
		if len(ts) < 2 || !hasWord(ts) {
			return nil, 0
		}
		q := r.text[ts[0].start:ts[len(ts)-1].end]
		if len(q) > codeset.MaxQuery {
			return nil, 0
		}
		res, err := pcs.Search(q, codeset.SearchOptions{Date: r.opt.Date, Billable: true, Limit: 8})
		if err != nil || len(res.Hits) == 0 {
			return nil, 0
		}
		return rerank(res.Hits, ts, false, true)
	}
	root := func(c *codeset.Concept) string { return c.Code()[:3] } // section, body system, root operation
	seen := map[string]bool{}
	if whole, _ := search(toks); whole != nil {
		seen[root(whole)] = true
	}
	s := 0
	for i := 0; i <= len(toks); i++ {
		if i < len(toks) && !(toks[i].comma || toks[i].word == "with" || toks[i].word == "and" || toks[i].word == "plus") {
			continue
		}
		part := toks[s:i]
		s = i + 1
		if len(part) == len(toks) {
			return
		}
		if len(part) == 0 || !codeset.NamesOperation(r.text[part[0].start:part[len(part)-1].end]) {
			continue
		}
		c, sc := search(part)
		if c == nil || sc < minScore || seen[root(c)] {
			continue
		}
		seen[root(c)] = true
		start, end := part[0].start, part[len(part)-1].end
		r.add(c, math.Min(sc, 1.05)*sectionWeight[sg.section], Evidence{Document: r.doc, note: r.noteIndex, Start: start, End: end,
			Text: r.text[start:end], Section: sg.section, Assertion: a}, false)
	}
}

// run is the state of one Suggest call.
type run struct {
	s         *Suggester
	text      string // the note being read
	doc       string // its id
	noteIndex int
	opt       Options
	byCode    map[string]*Suggestion
}

// fillers are words that never start or end a phrase worth searching.
var fillers = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "with": true, "of": true, "in": true, "on": true, "to": true,
	"is": true, "was": true, "are": true, "has": true, "had": true, "have": true, "patient": true, "pt": true, "he": true, "she": true,
	"his": true, "her": true, "this": true, "that": true, "at": true, "by": true, "as": true, "also": true, "known": true,
	"man": true, "woman": true, "boy": true, "girl": true, "male": true, "female": true, "year-old": true, "month-old": true,
	"day": true, "hospital": true, "improving": true, "clinically": true, "slowly": true, "stable": true, "now": true, "then": true,
	"reports": true, "reported": true, "complains": true, "c/o": true, "endorses": true, "notes": true, "presents": true,
	"same": true, "none": true, "discharge": true, "discharged": true, "n/a": true, "anticipate": true, "tomorrow": true, "today": true, "continue": true,
}

// hasWord reports whether a phrase has a word of two letters or more (a
// bare number or a lone letter names nothing).
func hasWord(toks []token) bool {
	for _, t := range toks {
		letters := 0
		for i := 0; i < len(t.word); i++ {
			if t.word[i] >= 'a' && t.word[i] <= 'z' {
				letters++
			}
		}
		if letters >= 2 && !t.comma {
			return true
		}
	}
	return false
}

func isFiller(t token) bool {
	if t.comma || fillers[t.word] {
		return true
	}
	return strings.HasSuffix(t.word, "-year-old") || strings.HasSuffix(t.word, "-month-old")
}

// phrase searches toks as one phrase; when it matches nothing well it is
// split at commas, then at "and"/"or", and the parts are tried.
func (r *run) phrase(toks []token, level int, system *codeset.CodeSystem, sg segment, a Assertion, poaN bool) {
	r.phraseAt(toks, level, false, system, sg, a, poaN)
}

// phraseAt is phrase; tried says the whole of toks was searched already.
func (r *run) phraseAt(toks []token, level int, tried bool, system *codeset.CodeSystem, sg segment, a Assertion, poaN bool) {
	for len(toks) > 0 && isFiller(toks[0]) {
		toks = toks[1:]
	}
	for len(toks) > 0 && isFiller(toks[len(toks)-1]) {
		toks = toks[:len(toks)-1]
	}
	if len(toks) == 0 || !hasWord(toks) {
		return
	}
	limit := maxPhraseWords
	if system == r.s.pcs {
		limit = maxProcedureWords
	}
	if len(toks) <= limit && !tried {
		if r.match(toks, system, sg, a, poaN) {
			return
		}
	}
	var split func(t token) bool
	switch level {
	case 0:
		split = func(t token) bool { return t.comma }
	case 1:
		split = func(t token) bool { return t.word == "and" || t.word == "or" || t.word == "&" || t.word == "with" }
	default:
		// Nothing matched whole or in parts: try the head of the phrase
		// without its first modifiers ("community-acquired pneumonia" →
		// "pneumonia"), a less specific code than the text may support.
		for drop := 1; drop <= 2 && drop < len(toks); drop++ {
			if r.match(toks[drop:], system, sg, a, poaN) {
				return
			}
		}
		return
	}
	s := 0
	for i, t := range toks {
		if split(t) {
			r.phrase(toks[s:i], level+1, system, sg, a, poaN)
			s = i + 1
		}
	}
	if s > 0 {
		r.phrase(toks[s:], level+1, system, sg, a, poaN)
	} else {
		r.phraseAt(toks, level+1, true, system, sg, a, poaN)
	}
}

// match searches one phrase and records the best hit if it is good enough.
func (r *run) match(toks []token, system *codeset.CodeSystem, sg segment, a Assertion, poaN bool) bool {
	start, end := toks[0].start, toks[len(toks)-1].end
	q := r.text[start:end]
	if len(q) > codeset.MaxQuery {
		return false
	}
	if narrative[sg.section] {
		// In prose, a long word the classification never uses (a drug
		// name, "tolerating", "deteriorated") cannot be part of a title
		// match; searching it only costs the search's misspelling pass.
		// Such words are left out of the query (lists keep them: a
		// misspelt diagnosis there is worth the search).
		var ok bool
		if q, ok = r.s.prose(r.text, toks); !ok {
			return false
		}
	}
	switch {
	case a == Family:
		q = "family history of " + q
	case a == History && isTobacco(toks):
		q = "personal history of nicotine dependence"
	case isTobacco(toks) && system == r.s.cm:
		q = "nicotine dependence, cigarettes"
	}
	res, err := system.Search(q, codeset.SearchOptions{Date: r.opt.Date, Billable: true, Limit: 8})
	if err != nil || len(res.Hits) == 0 {
		return false
	}
	best, score := rerank(res.Hits, toks, a == History || a == Family, system == r.s.pcs)
	if score < minScore && (!sg.item || score < minListScore) {
		return false
	}
	if narrative[sg.section] {
		// Running prose names treatments, tests and body parts that match
		// titles by chance ("supplemental oxygen", "blood"): only close
		// matches of diagnoses count there.
		if score < .8 || (system == r.s.cm && best.Code()[0] == 'Z' && !isTobacco(toks)) {
			return false
		}
	}
	if a == Family && !strings.HasPrefix(best.Code(), "Z8") {
		return false
	}
	w := sectionWeight[sg.section]
	if w == 0 {
		w = .6
	}
	if a == Present && sg.section == SecPMH {
		a = History // the item of a past medical history list: the section's weight says so already
		w /= .85
	}
	switch a {
	case History:
		w *= .85
	case Uncertain:
		w *= .9
	}
	r.add(best, math.Min(score, 1.05)*w, Evidence{Document: r.doc, note: r.noteIndex, Start: start, End: end, Text: r.text[start:end], Section: sg.section, Assertion: a}, poaN)
	return true
}

// prose returns the query for a phrase of running text: its words less
// the long ones no title or note uses; false when nothing is left.
func (s *Suggester) prose(text string, toks []token) (string, bool) {
	s.vocabOnce.Do(s.buildVocab)
	var b strings.Builder
	words := 0
	for _, t := range toks {
		if t.comma {
			continue
		}
		if len(t.word) > 5 && !s.known(t.word) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(text[t.start:t.end])
		words++
	}
	return b.String(), words > 0 && hasWord(toks)
}

func (s *Suggester) known(w string) bool {
	if s.vocab[w] {
		return true
	}
	for _, suf := range [...]string{"s", "es", "ed", "ing", "ic", "al"} {
		if st, ok := strings.CutSuffix(w, suf); ok && s.vocab[st] {
			return true
		}
	}
	return false
}

// buildVocab gathers the words of every title and note of both systems.
func (s *Suggester) buildVocab() {
	v := make(map[string]bool, 60000)
	add := func(text string) {
		for _, f := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-')
		}) {
			v[f] = true
			for _, p := range strings.Split(f, "-") {
				v[p] = true
			}
		}
	}
	for _, cs := range []*codeset.CodeSystem{s.cm, s.pcs} {
		for c := range cs.All {
			add(c.Title())
			for _, n := range c.OwnNotes() {
				add(n.Text)
			}
		}
	}
	s.vocab = v
}

// isTobacco reports whether a phrase is about smoking status, which the
// tabular's titles do not word the way notes do ("current smoker",
// "former smoker", "tobacco use").
func isTobacco(toks []token) bool {
	for _, t := range toks {
		switch t.word {
		case "smoker", "smoking", "tobacco", "cigarettes", "cigarette", "nicotine":
			return len(toks) <= 4
		}
	}
	return false
}

// rerank adjusts the search hits for what the text says about laterality
// and "with/without" (a title that says "without heart failure" does not
// fit text that names heart failure), defaults and history, and returns
// the best. history says the phrase is asserted as (personal or family)
// history.
func rerank(hits []codeset.Hit, toks []token, history, procedure bool) (*codeset.Concept, float64) {
	has := func(w string) bool {
		for _, t := range toks {
			if t.word == w {
				return true
			}
		}
		return false
	}
	hasPrefix := func(p string) bool {
		for _, t := range toks {
			if strings.HasPrefix(t.word, p) {
				return true
			}
		}
		return false
	}
	var best *codeset.Concept
	bestScore := -1.0
	for i, h := range hits {
		title := strings.ToLower(h.Concept.Title())
		sc := h.Score
		for _, side := range [...]string{"right", "left", "bilateral"} {
			if procedure {
				break // the procedure query words sides itself ("right and left" is bilateral; a right atrium is no side)
			}
			inTitle := strings.Contains(title, side)
			switch {
			case has(side) && inTitle:
				sc += .15
			case inTitle && !has(side):
				sc -= .15
			}
		}
		// A history code needs the text to say history; a newborn's code
		// needs the text to speak of a newborn.
		if (strings.HasPrefix(title, "personal history") || strings.HasPrefix(title, "family history")) && !history && !has("history") && !has("h/o") && !has("hx") {
			sc -= .3
		}
		if (strings.Contains(title, "neonatal") || strings.Contains(title, "newborn")) && !hasPrefix("neonat") && !hasPrefix("newborn") {
			sc -= .2
		}
		if (strings.Contains(title, "stage 5") || strings.Contains(title, "end stage")) && !has("5") && !has("esrd") && !has("end-stage") && !has("end") && !has("v") {
			sc -= .2
		}
		if (has("right") || has("left") || has("bilateral")) && strings.Contains(title, "unspecified side") {
			sc -= .1
		}
		if strings.Contains(title, "without") && !has("without") && !has("w/o") && !has("no") && !has("uncomplicated") {
			if j := strings.Index(title, "without "); j >= 0 {
				// what the title excludes, named in the text: a conflict
				rest := strings.Fields(title[j+len("without "):])
				if len(rest) > 0 && has(strings.Trim(rest[0], ",")) {
					sc -= .3
				}
			}
		}
		// Qualifiers the classification defaults away when the text does
		// not state them (the Index's defaults: migraine not intractable,
		// depression single episode).
		// (and cerebral infarction of unstated cause, not embolic or
		// thrombotic).
		for _, q := range [...]struct{ title, text string }{{"intractable", "intractable"}, {"recurrent", "recurrent"},
			{"due to embolism", "embol"}, {"due to thrombosis", "thromb"}} {
			if strings.Contains(title, q.title) && !strings.Contains(title, "not "+q.title) && !hasPrefix(q.text) {
				sc -= .15
			}
		}
		sc -= float64(i) * 0.001 // keep the search's order among equals
		if sc > bestScore {
			best, bestScore = h.Concept, sc
		}
	}
	return best, bestScore
}

// add records a mention of concept.
func (r *run) add(c *codeset.Concept, score float64, ev Evidence, poaN bool) {
	key := c.Code()
	sg, ok := r.byCode[key]
	if !ok {
		sg = &Suggestion{System: c.System().ID(), Code: c.Display(), Title: c.Label(), Concept: c, Assertion: ev.Assertion, first: r.noteIndex<<32 | ev.Start}
		r.byCode[key] = sg
	}
	if score > sg.Score {
		sg.Score = score
	}
	if rank(ev.Assertion) < rank(sg.Assertion) {
		sg.Assertion = ev.Assertion
	}
	sg.poaN = sg.poaN || poaN
	sg.Evidence = append(sg.Evidence, ev)
}

// rank orders assertions from the strongest (present) down.
func rank(a Assertion) int {
	switch a {
	case Present:
		return 0
	case Uncertain:
		return 1
	case History:
		return 2
	}
	return 3
}

// finish merges the mentions into the ranked answer.
func (r *run) finish() []Suggestion {
	r.combine()
	var out []Suggestion
	hasDefinitive := false
	for _, sg := range r.byCode {
		if sg.System == codeset.ICD10CM && !strings.HasPrefix(sg.Concept.Code(), "R") && sg.Assertion == Present {
			hasDefinitive = true
		}
	}
	for _, sg := range r.byCode {
		// more mentions, more confidence (a little)
		sg.Score += math.Min(.03*float64(len(sg.Evidence)-1), .15)
		// Signs and symptoms are not coded when a definitive diagnosis
		// explains them (Guidelines I.B.4-5): one named only in the story
		// (complaint, HPI, course) of a stay with a definitive diagnosis is
		// left out; one listed among the diagnoses goes down the list.
		if hasDefinitive && strings.HasPrefix(sg.Concept.Code(), "R") && r.opt.Setting == Inpatient {
			if !slices.ContainsFunc(sg.Evidence, func(e Evidence) bool { return !narrative[e.Section] }) {
				continue
			}
			sg.Score *= .5
		}
		sg.Score = math.Round(sg.Score*1000) / 1000
		if sg.System == codeset.ICD10CM && r.opt.Setting == Inpatient {
			switch {
			case poaExempt(sg.Concept.Code()):
				sg.POA = ""
			case sg.poaN:
				sg.POA = "N"
			default:
				sg.POA = "Y"
			}
		}
		out = append(out, *sg)
	}
	// the principal diagnosis: named in a principal-diagnosis section, else
	// the best-supported diagnosis of the assessment.
	principal := -1
	for i := range out {
		if out[i].System != codeset.ICD10CM || r.opt.Setting != Inpatient {
			continue
		}
		for _, ev := range out[i].Evidence {
			if ev.Section == SecPrincipal && (principal < 0 || out[i].Score > out[principal].Score) {
				principal = i
			}
		}
	}
	if principal < 0 && r.opt.Setting == Inpatient {
		for i := range out {
			if out[i].System != codeset.ICD10CM || strings.HasPrefix(out[i].Concept.Code(), "Z") {
				continue
			}
			for _, ev := range out[i].Evidence {
				if (ev.Section == SecAssessment || ev.Section == SecPreop) && ev.Assertion != History && (principal < 0 || out[i].Score > out[principal].Score) {
					principal = i
				}
			}
		}
	}
	if principal >= 0 {
		out[principal].Principal = true
	}
	slices.SortFunc(out, func(a, b Suggestion) int {
		if a.Principal != b.Principal {
			if a.Principal {
				return -1
			}
			return 1
		}
		if a.System != b.System {
			return cmp.Compare(a.System, b.System) // icd10cm before icd10pcs
		}
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.first, b.first)
	})
	for i := range out {
		slices.SortFunc(out[i].Evidence, func(a, b Evidence) int {
			if c := cmp.Compare(a.note, b.note); c != 0 {
				return c // notes in the order given
			}
			return cmp.Compare(a.Start, b.Start)
		})
	}
	if len(out) > r.opt.Limit {
		out = out[:r.opt.Limit]
	}
	return out
}

// poaExempt reports whether a diagnosis code is exempt from POA reporting.
// CMS's POA-exempt list (ICD-10-CM Guidelines Appendix I) is not among the
// public data this project embeds; this uses its broad lines: the external
// cause codes (V00–Y99) and the factors influencing health status (Z00–Z99)
// are exempt. The official list exempts most but not all of these and a few
// codes elsewhere; an exempt code given a Y passes the DRG grouper anyway.
func poaExempt(code string) bool {
	if code == "" {
		return false
	}
	switch code[0] {
	case 'V', 'W', 'X', 'Y', 'Z':
		return true
	}
	return false
}
