package chart

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// The consistency checks compare the signed discharge summary with the
// coded diagnoses. They are deliberately narrow, so that what they raise
// is worth a physician query:
//
//   - diagnosis-documented: a coded diagnosis whose own wording (the
//     Condition's code.text or a coding's display) appears nowhere in the
//     summary's text.
//   - diagnosis-coded: a term from the rule's list stated on a diagnosis
//     line of the summary (a line under a heading that contains
//     "DIAGNOS", or such a heading's own line), not negated on that line,
//     when no coded diagnosis starts with any of the term's code prefixes.

// summary returns the encounter's first signed discharge summary with text.
func (ev *evaluator) summary() *Note {
	for _, n := range ev.notesOf(docDischarge) {
		if n.Authenticated() && n.Text != "" {
			return n
		}
	}
	return nil
}

// normalise lower-cases s and turns punctuation into single spaces, with a
// space at each end, so that phrases match on word boundaries.
func normalise(s string) string {
	var b strings.Builder
	b.WriteByte(' ')
	space := true
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

func (ev *evaluator) dxDocumented(r *Rule) {
	ds := ev.summary()
	if ds == nil {
		return
	}
	text := normalise(ds.Text)
	for _, d := range ev.sortedConds() {
		if len(d.Texts) == 0 {
			continue
		}
		if slices.ContainsFunc(d.Texts, func(t string) bool { return strings.Contains(text, normalise(t)) }) {
			continue
		}
		ev.add(r, KindDxNotDocumented, d.Ref, d.Code, ev.owner(r, "", ""), ds.Signed, ds.Signed,
			fmt.Sprintf("Diagnosis %s (%q) is coded, but discharge summary %s does not state it.", d.Code, d.Texts[0], ds.Ref))
	}
}

func (ev *evaluator) sortedConds() []*Diagnosis {
	out := make([]*Diagnosis, 0, len(ev.e.conds))
	for _, d := range ev.e.conds {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b *Diagnosis) int { return strings.Compare(a.Ref, b.Ref) })
	return out
}

// negations, when they come before a term on its line, mean the term is
// not stated as a diagnosis.
var negations = []string{" no ", " not ", " denies ", " without ", " negative for ", " ruled out ", " rule out ", " r o ", " resolved ", " history of ", " h o "}

// diagnosisLines returns the normalised lines of text that state diagnoses.
func diagnosisLines(text string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" {
			in = false
			continue
		}
		head, _, hasColon := strings.Cut(t, ":")
		isHeading := hasColon && head == strings.ToUpper(head) && strings.IndexFunc(head, unicode.IsLetter) >= 0
		if isHeading {
			in = strings.Contains(head, "DIAGNOS")
			if in {
				out = append(out, normalise(t[len(head)+1:]))
			}
			continue
		}
		if in {
			out = append(out, normalise(t))
		}
	}
	return out
}

func (ev *evaluator) dxCoded(r *Rule) {
	ds := ev.summary()
	if ds == nil || len(r.Terms) == 0 {
		return
	}
	lines := diagnosisLines(ds.Text)
	for _, t := range r.Terms {
		term := normalise(t.Term)
		stated := slices.ContainsFunc(lines, func(l string) bool {
			i := strings.Index(l, term)
			if i < 0 {
				return false
			}
			before := l[:i+1]
			return !slices.ContainsFunc(negations, func(n string) bool { return strings.Contains(before, n) })
		})
		if !stated {
			continue
		}
		coded := false
		for _, d := range ev.e.conds {
			if slices.ContainsFunc(t.Codes, func(p string) bool { return strings.HasPrefix(d.Code, p) }) {
				coded = true
				break
			}
		}
		if coded {
			continue
		}
		ev.add(r, KindDxNotCoded, ds.Ref, strings.TrimSpace(term), ev.owner(r, "", ""), ds.Signed, ds.Signed,
			fmt.Sprintf("Discharge summary %s states %q on a diagnosis line, but no diagnosis coded on the encounter starts with %s.",
				ds.Ref, t.Term, strings.Join(t.Codes, ", ")))
	}
}
