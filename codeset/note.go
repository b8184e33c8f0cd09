package codeset

import "strings"

// NoteKind is the kind of a tabular note.
type NoteKind string

// The tabular's notes. Kinds marked "inherited" apply to every code below
// the one they are written under.
const (
	NoteInclusion     NoteKind = "inclusion"     // an inclusion term: a synonym or example of the code (not inherited)
	NoteIncludes      NoteKind = "includes"      // Includes: (inherited)
	NoteNote          NoteKind = "note"          // a free-text instruction (inherited)
	NoteExcludes1     NoteKind = "excludes1"     // Excludes1: never coded together (inherited)
	NoteExcludes2     NoteKind = "excludes2"     // Excludes2: not included here, may be coded together (inherited)
	NoteCodeFirst     NoteKind = "codeFirst"     // Code first (inherited)
	NoteUseAdditional NoteKind = "useAdditional" // Use additional code (inherited)
	NoteCodeAlso      NoteKind = "codeAlso"      // Code also (inherited)
	NoteSeventhNote   NoteKind = "seventhNote"   // the 7th character instruction (inherited)
	NoteSeventh       NoteKind = "seventh"       // one 7th character "A: initial encounter" (inherited)
	NoteDefinition    NoteKind = "definition"    // ICD-10-PCS root operation definition (not inherited)
)

// Inherited reports whether notes of the kind apply to the codes below.
func (k NoteKind) Inherited() bool { return k != NoteInclusion && k != NoteDefinition }

// Heading returns how the tabular prints the kind ("Excludes1").
func (k NoteKind) Heading() string {
	switch k {
	case NoteInclusion:
		return "Inclusion term"
	case NoteIncludes:
		return "Includes"
	case NoteNote:
		return "Note"
	case NoteExcludes1:
		return "Excludes1"
	case NoteExcludes2:
		return "Excludes2"
	case NoteCodeFirst:
		return "Code first"
	case NoteUseAdditional:
		return "Use additional code"
	case NoteCodeAlso:
		return "Code also"
	case NoteSeventhNote:
		return "7th character note"
	case NoteSeventh:
		return "7th character"
	case NoteDefinition:
		return "Definition"
	}
	return string(k)
}

// Note is one tabular note.
type Note struct {
	Kind NoteKind
	Text string
	// From is where the note is written: a code ("E11"), a block
	// ("block E08-E13") or a chapter ("chapter 4").
	From string
}

// CodeRange is a code or range of codes a note refers to: "E08.-" (E08 and
// everything below), "J70.2-J70.4", "P70.2". Codes are stored without dots;
// a code is in the range when its first len(Low) characters fall between
// Low and High.
type CodeRange struct {
	Low, High string
}

// Contains reports whether code (no dot) is in the range.
func (r CodeRange) Contains(code string) bool {
	n := len(r.Low)
	if len(code) < n {
		return false
	}
	p := code[:n]
	hi := r.High
	if len(hi) > n {
		hi = hi[:n]
	}
	return p >= r.Low && p <= hi
}

// String writes the range as the tabular does, without dots.
func (r CodeRange) String() string {
	if r.Low == r.High {
		return r.Low
	}
	return r.Low + "-" + r.High
}

// Refs returns the codes the note refers to, from the parenthesised lists
// the tabular puts at the end of a note: "gestational diabetes (O24.4-)",
// "hypertensive disease complicating pregnancy (O10-O11, O13-O16)".
func (n Note) Refs() []CodeRange {
	var out []CodeRange
	s := n.Text
	for {
		i := strings.IndexByte(s, '(')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			return out
		}
		inner := s[i+1 : i+j]
		s = s[i+j+1:]
		var found []CodeRange
		ok := true
		for _, part := range strings.Split(inner, ",") {
			r, good := parseRef(strings.TrimSpace(part))
			if !good {
				ok = false
				break
			}
			found = append(found, r)
		}
		if ok {
			out = append(out, found...)
		}
	}
}

// parseRef reads "E08.-", "O24.4-", "J70.2-J70.4", "O10-O11", "P70.2",
// "T51-T65 with fifth or sixth character 5" is not a reference.
func parseRef(s string) (CodeRange, bool) {
	s = strings.TrimSuffix(strings.TrimSuffix(s, "-"), ".")
	lo, hi, isRange := strings.Cut(s, "-")
	lo = strings.ReplaceAll(lo, ".", "")
	hi = strings.ReplaceAll(hi, ".", "")
	if !looksLikeCode(lo) {
		return CodeRange{}, false
	}
	if !isRange {
		return CodeRange{lo, lo}, true
	}
	if !looksLikeCode(hi) {
		return CodeRange{}, false
	}
	return CodeRange{lo, hi}, true
}

// looksLikeCode reports whether s has the shape of an ICD-10-CM code or
// category without a dot: a letter, a digit, then 1 to 5 letters or digits.
func looksLikeCode(s string) bool {
	if len(s) < 3 || len(s) > 7 || s[0] < 'A' || s[0] > 'Z' || s[1] < '0' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
