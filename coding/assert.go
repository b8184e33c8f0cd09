package coding

import "strings"

// Assertion is how a note asserts a condition it mentions.
type Assertion string

// The assertions a mention can carry.
const (
	Present   Assertion = "present"
	Negated   Assertion = "negated"   // "denies chest pain", "no evidence of pneumonia"
	History   Assertion = "history"   // "history of", "s/p", a past medical history item
	Family    Assertion = "family"    // "family history of", "mother with"
	Uncertain Assertion = "uncertain" // "probable", "suspected", "rule out"
)

// token is a word of a segment with its byte offsets in the note.
type token struct {
	start, end int
	word       string // lower case
	comma      bool   // a comma (or other clause punctuation), not a word
}

// tokenize splits text[s:e] into lower-case words (letters, digits and the
// characters that belong inside clinical words: "-", "/", ".", "'") and
// commas.
func tokenize(text string, s, e int, out []token) []token {
	for i := s; i < e; {
		c := text[i]
		switch {
		case c == ',' || c == '(' || c == ')' || c == ':':
			out = append(out, token{start: i, end: i + 1, comma: true, word: string(c)})
			i++
		case isWordByte(c):
			j := i + 1
			for j < e && (isWordByte(text[j]) || ((text[j] == '-' || text[j] == '/' || text[j] == '.' || text[j] == '\'') && j+1 < e && isWordByte(text[j+1]))) {
				j++
			}
			out = append(out, token{start: i, end: j, word: strings.ToLower(text[i:j])})
			i = j
		default:
			i++
		}
	}
	return out
}

// A marker is a word sequence that changes how what follows it is read,
// up to the end of the sentence or the next marker.
type marker struct {
	words []string
	set   Assertion // "" ends the scope of the marker before it (a new clause)
	post  bool      // it follows what it applies to ("... was ruled out")
}

// markers, longest first where they share a start. They follow the NegEx
// idea (pre- and post-negation triggers, scope to the end of the sentence
// or a conjunction that starts a new clause), extended with the triggers
// for history, family history and uncertainty the coding guidelines care
// about (Section II.H and III.C: "probable", "suspected", "likely",
// "questionable", "possible", "still to be ruled out", "compatible with",
// "consistent with").
var markers = buildMarkers(map[Assertion][]string{
	Negated: {"denies", "denied", "deny", "no", "does not have", "did not have", "negative for", "no evidence of", "without evidence of", "no signs of",
		"no sign of", "free of", "absence of", "absent", "ruled out for", "resolved", "never", "without any"},
	History: {"history of", "h/o", "hx of", "s/p", "status post", "past history of", "personal history of", "previous", "prior", "former", "ex-smoker", "quit"},
	Family: {"family history of", "family hx of", "fh of", "mother with", "father with", "mother had", "father had",
		"brother with", "sister with", "mother has", "father has", "maternal", "paternal"},
	Uncertain: {"probable", "probably", "possible", "possibly", "suspected", "suspect", "suspicious for", "likely",
		"presumed", "presumptive", "questionable", "rule out", "r/o", "concern for", "concerning for", "consistent with",
		"compatible with", "cannot exclude", "differential includes", "versus", "vs"},
	"": {"who", "which", "but", "however", "although", "presents with", "presenting with", "presented with",
		"admitted with", "admitted for", "was admitted with", "who was admitted with", "admitted to", "now with", "here for",
		"seen for", "with a history of", "with history of", "on hospital day", "for"},
})

// postMarkers apply to what precedes them in the sentence.
var postMarkers = [][]string{
	{"was", "ruled", "out"}, {"ruled", "out"}, {"has", "been", "ruled", "out"}, {"is", "unlikely"}, {"unlikely"}, {"was", "excluded"},
}

func buildMarkers(m map[Assertion][]string) map[string][]marker {
	out := map[string][]marker{}
	for a, list := range m {
		for _, s := range list {
			w := strings.Fields(s)
			out[w[0]] = append(out[w[0]], marker{words: w, set: a})
		}
	}
	// "with a history of" is a history marker too: its words are a
	// boundary and then a history scope.
	for k, ms := range out {
		for i := range ms {
			if strings.Join(ms[i].words, " ") == "with a history of" || strings.Join(ms[i].words, " ") == "with history of" {
				ms[i].set = History
			}
		}
		// longest first
		for i := 1; i < len(ms); i++ {
			for j := i; j > 0 && len(ms[j].words) > len(ms[j-1].words); j-- {
				ms[j], ms[j-1] = ms[j-1], ms[j]
			}
		}
		out[k] = ms
	}
	return out
}

// matchMarker returns the marker that starts at toks[i], if any.
func matchMarker(toks []token, i int) (marker, bool) {
	for _, m := range markers[toks[i].word] {
		if i+len(m.words) > len(toks) {
			continue
		}
		ok := true
		for k, w := range m.words {
			if toks[i+k].comma || toks[i+k].word != w {
				ok = false
				break
			}
		}
		if ok {
			return m, true
		}
	}
	return marker{}, false
}

// postNegated reports whether toks[i:] begins with a post-negation
// ("... was ruled out"), returning its length.
func postNegated(toks []token, i int) int {
	for _, p := range postMarkers {
		if i+len(p) > len(toks) {
			continue
		}
		ok := true
		for k, w := range p {
			if toks[i+k].word != w {
				ok = false
				break
			}
		}
		if ok {
			return len(p)
		}
	}
	return 0
}

// A chunk is a run of words between markers, with the assertion in force.
type chunk struct {
	toks      []token
	assertion Assertion
}

// chunks cuts a sentence's tokens at markers.
func chunks(toks []token, base Assertion, out []chunk) []chunk {
	cur := base
	s := 0
	flush := func(e int) {
		if e > s {
			out = append(out, chunk{toks: toks[s:e], assertion: cur})
		}
	}
	for i := 0; i < len(toks); {
		if toks[i].comma {
			i++
			continue
		}
		if n := postNegated(toks, i); n > 0 {
			// what came just before (since the last marker) is negated
			if e := i; e > s {
				out = append(out, chunk{toks: toks[s:e], assertion: Negated})
			}
			i += n
			s = i
			continue
		}
		m, ok := matchMarker(toks, i)
		if !ok {
			i++
			continue
		}
		// "no" and "not" only negate at the start of a clause or after a
		// comma-free verb; "not" inside a title ("not elsewhere
		// classified") is rare in notes.
		flush(i)
		i += len(m.words)
		s = i
		switch {
		case m.set == "":
			cur = base
		case base == History && m.set == Negated, base == Family && m.set == Negated:
			cur = Negated
		case base == Present || base == "" || m.set == Negated:
			cur = m.set
		default:
			cur = m.set
		}
	}
	flush(len(toks))
	return out
}
