package mpi

import "strings"

// Phonetic codes for blocking: two spellings that sound alike get the same
// code, so a typo or a variant spelling does not put a true pair in
// different blocks. Both functions take a folded name (ASCII lower case,
// spaces allowed) and ignore everything but letters.

// metaphoneLen is the length of a Double Metaphone code.
const metaphoneLen = 4

// dmWord is a word being encoded, upper case, with bounds-checked access.
type dmWord struct {
	s    string
	last int
	slav bool // Slavo-Germanic spelling (w, k, cz, witz)
}

func (w *dmWord) at(i int) byte {
	if i < 0 || i >= len(w.s) {
		return 0
	}
	return w.s[i]
}

// is reports whether one of subs starts at position i.
func (w *dmWord) is(i int, subs ...string) bool {
	if i < 0 {
		return false
	}
	for _, s := range subs {
		if strings.HasPrefix(w.s[i:], s) {
			return true
		}
	}
	return false
}

func isVowel(c byte) bool {
	switch c {
	case 'A', 'E', 'I', 'O', 'U', 'Y':
		return true
	}
	return false
}

// dmCode accumulates the primary and alternate codes.
type dmCode struct{ p, a strings.Builder }

func (c *dmCode) add(p, a string) {
	c.p.WriteString(p)
	c.a.WriteString(a)
}

func (c *dmCode) both(s string) { c.add(s, s) }

// DoubleMetaphone returns the primary and alternate Double Metaphone codes
// of a name (Lawrence Philips, 2000), four characters at most. The
// alternate equals the primary when the spelling has one reading.
func DoubleMetaphone(name string) (primary, alternate string) {
	up := strings.ToUpper(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return -1
	}, name))
	if up == "" {
		return "", ""
	}
	w := &dmWord{s: up, last: len(up) - 1}
	w.slav = strings.ContainsAny(up, "WK") || strings.Contains(up, "CZ") || strings.Contains(up, "WITZ")
	var c dmCode
	i := 0
	if w.is(0, "GN", "KN", "PN", "WR", "PS") {
		i = 1
	}
	if w.at(0) == 'X' {
		c.both("S")
		i = 1
	}
	for i <= w.last && (c.p.Len() < metaphoneLen || c.a.Len() < metaphoneLen) {
		i = dmStep(w, &c, i)
	}
	primary, alternate = c.p.String(), c.a.String()
	if len(primary) > metaphoneLen {
		primary = primary[:metaphoneLen]
	}
	if len(alternate) > metaphoneLen {
		alternate = alternate[:metaphoneLen]
	}
	return primary, alternate
}

// dmStep encodes the letter at i and returns the position of the next.
func dmStep(w *dmWord, c *dmCode, i int) int {
	ch := w.at(i)
	switch ch {
	case 'A', 'E', 'I', 'O', 'U', 'Y':
		if i == 0 {
			c.both("A")
		}
		return i + 1
	case 'B':
		c.both("P")
		if w.at(i+1) == 'B' {
			return i + 2
		}
		return i + 1
	case 'C':
		return dmC(w, c, i)
	case 'D':
		if w.is(i, "DG") {
			if w.is(i+2, "I", "E", "Y") {
				c.both("J")
				return i + 3
			}
			c.both("TK")
			return i + 2
		}
		c.both("T")
		if w.is(i, "DT", "DD") {
			return i + 2
		}
		return i + 1
	case 'F', 'K', 'N', 'Q', 'V':
		code := map[byte]string{'F': "F", 'K': "K", 'N': "N", 'Q': "K", 'V': "F"}[ch]
		c.both(code)
		if w.at(i+1) == ch {
			return i + 2
		}
		return i + 1
	case 'G':
		return dmG(w, c, i)
	case 'H':
		if (i == 0 || isVowel(w.at(i-1))) && isVowel(w.at(i+1)) {
			c.both("H")
			return i + 2
		}
		return i + 1
	case 'J':
		return dmJ(w, c, i)
	case 'L':
		if w.at(i+1) == 'L' {
			if (i == w.last-2 && w.is(i-1, "ILLO", "ILLA", "ALLE")) ||
				((w.is(w.last-1, "AS", "OS") || w.is(w.last, "A", "O")) && w.is(i-1, "ALLE")) {
				c.add("L", "")
				return i + 2
			}
			c.both("L")
			return i + 2
		}
		c.both("L")
		return i + 1
	case 'M':
		c.both("M")
		if (w.is(i-1, "UMB") && (i+1 == w.last || w.is(i+2, "ER"))) || w.at(i+1) == 'M' {
			return i + 2
		}
		return i + 1
	case 'P':
		if w.at(i+1) == 'H' {
			c.both("F")
			return i + 2
		}
		c.both("P")
		if w.is(i+1, "P", "B") {
			return i + 2
		}
		return i + 1
	case 'R':
		if i == w.last && !w.slav && w.is(i-2, "IE") && !w.is(i-4, "ME", "MA") {
			c.add("", "R")
		} else {
			c.both("R")
		}
		if w.at(i+1) == 'R' {
			return i + 2
		}
		return i + 1
	case 'S':
		return dmS(w, c, i)
	case 'T':
		switch {
		case w.is(i, "TION", "TIA", "TCH"):
			if w.is(i, "TCH") {
				c.both("X")
				return i + 3
			}
			c.both("X")
			return i + 3
		case w.is(i, "TH", "TTH"):
			if w.is(i+2, "OM", "AM") || w.is(0, "VAN ", "VON ", "SCH") {
				c.both("T")
			} else {
				c.add("0", "T")
			}
			return i + 2
		}
		c.both("T")
		if w.is(i+1, "T", "D") {
			return i + 2
		}
		return i + 1
	case 'W':
		if w.is(i, "WR") {
			c.both("R")
			return i + 2
		}
		if i == 0 && (isVowel(w.at(1)) || w.is(0, "WH")) {
			if isVowel(w.at(1)) {
				c.add("A", "F")
			} else {
				c.both("A")
			}
		}
		if (i == w.last && isVowel(w.at(i-1))) || w.is(i-1, "EWSKI", "EWSKY", "OWSKI", "OWSKY") || w.is(0, "SCH") {
			c.add("", "F")
			return i + 1
		}
		if w.is(i, "WICZ", "WITZ") {
			c.add("TS", "FX")
			return i + 4
		}
		return i + 1
	case 'X':
		if !(i == w.last && (w.is(i-3, "IAU", "EAU") || w.is(i-2, "AU", "OU"))) {
			c.both("KS")
		}
		if w.is(i+1, "C", "X") {
			return i + 2
		}
		return i + 1
	case 'Z':
		if w.at(i+1) == 'H' {
			c.both("J")
			return i + 2
		}
		if w.is(i+1, "ZO", "ZI", "ZA") || (w.slav && i > 0 && w.at(i-1) != 'T') {
			c.add("S", "TS")
		} else {
			c.both("S")
		}
		if w.at(i+1) == 'Z' {
			return i + 2
		}
		return i + 1
	}
	return i + 1
}

func dmC(w *dmWord, c *dmCode, i int) int {
	switch {
	case i > 1 && !isVowel(w.at(i-2)) && w.is(i-1, "ACH") && w.at(i+2) != 'I' && (w.at(i+2) != 'E' || w.is(i-2, "BACHER", "MACHER")):
		c.both("K")
		return i + 2
	case i == 0 && w.is(0, "CAESAR"):
		c.both("S")
		return i + 2
	case w.is(i, "CHIA"):
		c.both("K")
		return i + 2
	case w.is(i, "CH"):
		if i > 0 && w.is(i, "CHAE") {
			c.add("K", "X")
			return i + 2
		}
		if i == 0 && (w.is(1, "HARAC", "HARIS") || w.is(1, "HOR", "HYM", "HIA", "HEM")) && !w.is(0, "CHORE") {
			c.both("K")
			return i + 2
		}
		if w.is(0, "VAN ", "VON ", "SCH") || w.is(i-2, "ORCHES", "ARCHIT", "ORCHID") || w.is(i+2, "T", "S") ||
			((i == 0 || w.is(i-1, "A", "O", "U", "E")) && w.is(i+2, "L", "R", "N", "M", "B", "H", "F", "V", "W", " ")) {
			c.both("K")
		} else if i > 0 {
			if w.is(0, "MC") {
				c.both("K")
			} else {
				c.add("X", "K")
			}
		} else {
			c.both("X")
		}
		return i + 2
	case w.is(i, "CZ") && !w.is(i-2, "WICZ"):
		c.add("S", "X")
		return i + 2
	case w.is(i+1, "CIA"):
		c.both("X")
		return i + 3
	case w.is(i, "CC") && !(i == 1 && w.at(0) == 'M'):
		if w.is(i+2, "I", "E", "H") && !w.is(i+2, "HU") {
			if (i == 1 && w.at(0) == 'A') || w.is(i-1, "UCCEE", "UCCES") {
				c.both("KS")
			} else {
				c.both("X")
			}
			return i + 3
		}
		c.both("K")
		return i + 2
	case w.is(i, "CK", "CG", "CQ"):
		c.both("K")
		return i + 2
	case w.is(i, "CI", "CE", "CY"):
		if w.is(i, "CIO", "CIE", "CIA") {
			c.add("S", "X")
		} else {
			c.both("S")
		}
		return i + 2
	}
	c.both("K")
	if w.is(i+1, " C", " Q", " G") {
		return i + 3
	}
	if w.is(i+1, "C", "K", "Q") && !w.is(i+1, "CE", "CI") {
		return i + 2
	}
	return i + 1
}

func dmG(w *dmWord, c *dmCode, i int) int {
	next := w.at(i + 1)
	switch {
	case next == 'H':
		if i > 0 && !isVowel(w.at(i-1)) {
			c.both("K")
			return i + 2
		}
		if i == 0 {
			if w.at(i+2) == 'I' {
				c.both("J")
			} else {
				c.both("K")
			}
			return i + 2
		}
		if (i > 1 && w.is(i-2, "B", "H", "D")) || (i > 2 && w.is(i-3, "B", "H", "D")) || (i > 3 && w.is(i-4, "B", "H")) {
			return i + 2
		}
		if i > 2 && w.at(i-1) == 'U' && w.is(i-3, "C", "G", "L", "R", "T") {
			c.both("F")
		} else if i > 0 && w.at(i-1) != 'I' {
			c.both("K")
		}
		return i + 2
	case next == 'N':
		if i == 1 && isVowel(w.at(0)) && !w.slav {
			c.add("KN", "N")
		} else if !w.is(i+2, "EY") && next != 'Y' && !w.slav {
			c.add("N", "KN")
		} else {
			c.both("KN")
		}
		return i + 2
	case w.is(i+1, "LI") && !w.slav:
		c.add("KL", "L")
		return i + 2
	case i == 0 && (next == 'Y' || w.is(1, "ES", "EP", "EB", "EL", "EY", "IB", "IL", "IN", "IE", "EI", "ER")):
		c.add("K", "J")
		return i + 2
	case (w.is(i+1, "ER") || next == 'Y') && !w.is(0, "DANGER", "RANGER", "MANGER") && !w.is(i-1, "E", "I") && !w.is(i-1, "RGY", "OGY"):
		c.add("K", "J")
		return i + 2
	case w.is(i+1, "E", "I", "Y") || w.is(i-1, "AGGI", "OGGI"):
		if w.is(0, "VAN ", "VON ", "SCH") || w.is(i+1, "ET") {
			c.both("K")
		} else if w.is(i+1, "IER") {
			c.both("J")
		} else {
			c.add("J", "K")
		}
		return i + 2
	}
	c.both("K")
	if next == 'G' {
		return i + 2
	}
	return i + 1
}

func dmJ(w *dmWord, c *dmCode, i int) int {
	if w.is(i, "JOSE") || w.is(0, "SAN ") {
		if (i == 0 && w.at(i+4) == ' ') || w.is(0, "SAN ") {
			c.both("H")
		} else {
			c.add("J", "H")
		}
		return i + 1
	}
	switch {
	case i == 0 && !w.is(i, "JOSE"):
		c.add("J", "A")
	case isVowel(w.at(i-1)) && !w.slav && (w.at(i+1) == 'A' || w.at(i+1) == 'O'):
		c.add("J", "H")
	case i == w.last:
		c.add("J", "")
	case !w.is(i+1, "L", "T", "K", "S", "N", "M", "B", "Z") && !w.is(i-1, "S", "K", "L"):
		c.both("J")
	}
	if w.at(i+1) == 'J' {
		return i + 2
	}
	return i + 1
}

func dmS(w *dmWord, c *dmCode, i int) int {
	switch {
	case w.is(i-1, "ISL", "YSL"):
		return i + 1
	case i == 0 && w.is(0, "SUGAR"):
		c.add("X", "S")
		return i + 1
	case w.is(i, "SH"):
		if w.is(i+1, "HEIM", "HOEK", "HOLM", "HOLZ") {
			c.both("S")
		} else {
			c.both("X")
		}
		return i + 2
	case w.is(i, "SIO", "SIA", "SIAN"):
		if w.slav {
			c.both("S")
		} else {
			c.add("S", "X")
		}
		return i + 3
	case (i == 0 && w.is(1, "M", "N", "L", "W")) || w.is(i+1, "Z"):
		c.add("S", "X")
		if w.is(i+1, "Z") {
			return i + 2
		}
		return i + 1
	case w.is(i, "SC"):
		if w.at(i+2) == 'H' {
			if w.is(i+3, "OO", "ER", "EN", "UY", "ED", "EM") {
				if w.is(i+3, "ER", "EN") {
					c.add("X", "SK")
				} else {
					c.both("SK")
				}
			} else if i == 0 && !isVowel(w.at(3)) && w.at(3) != 'W' {
				c.add("X", "S")
			} else {
				c.both("X")
			}
			return i + 3
		}
		if w.is(i+2, "I", "E", "Y") {
			c.both("S")
		} else {
			c.both("SK")
		}
		return i + 3
	}
	if i == w.last && w.is(i-2, "AI", "OI") {
		c.add("", "S")
	} else {
		c.both("S")
	}
	if w.is(i+1, "S", "Z") {
		return i + 2
	}
	return i + 1
}

// NYSIIS returns the New York State Identification and Intelligence System
// code of a name (Taft, 1970), six characters at most.
func NYSIIS(name string) string {
	b := []byte(strings.ToUpper(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return -1
	}, name)))
	if len(b) == 0 {
		return ""
	}
	s := string(b)
	for _, p := range [][2]string{{"MAC", "MCC"}, {"KN", "NN"}, {"K", "C"}, {"PH", "FF"}, {"PF", "FF"}, {"SCH", "SSS"}} {
		if strings.HasPrefix(s, p[0]) {
			s = p[1] + s[len(p[0]):]
			break
		}
	}
	for _, p := range [][2]string{{"EE", "Y"}, {"IE", "Y"}, {"DT", "D"}, {"RT", "D"}, {"RD", "D"}, {"NT", "D"}, {"ND", "D"}} {
		if strings.HasSuffix(s, p[0]) {
			s = s[:len(s)-len(p[0])] + p[1]
			break
		}
	}
	b = []byte(s)
	out := []byte{b[0]}
	for i := 1; i < len(b); i++ {
		var rep []byte
		switch c := b[i]; {
		case c == 'E' && i+1 < len(b) && b[i+1] == 'V':
			rep = []byte("AF")
			b[i+1] = 'F'
		case isVowel(c) && c != 'Y':
			rep = []byte{'A'}
		case c == 'Q':
			rep = []byte{'G'}
		case c == 'Z':
			rep = []byte{'S'}
		case c == 'M':
			rep = []byte{'N'}
		case c == 'K':
			if i+1 < len(b) && b[i+1] == 'N' {
				rep = []byte{'N'}
			} else {
				rep = []byte{'C'}
			}
		case c == 'S' && i+2 < len(b) && b[i+1] == 'C' && b[i+2] == 'H':
			rep = []byte("SSS")
			b[i+1], b[i+2] = 'S', 'S'
		case c == 'P' && i+1 < len(b) && b[i+1] == 'H':
			rep = []byte("FF")
			b[i+1] = 'F'
		case c == 'H' && (!isVowel(b[i-1]) || (i+1 < len(b) && !isVowel(b[i+1]))):
			rep = []byte{b[i-1]}
		case c == 'W' && isVowel(b[i-1]):
			rep = []byte{b[i-1]}
		default:
			rep = []byte{c}
		}
		b[i] = rep[0] // a two-letter replacement has rewritten the next letters already
		if rep[0] != out[len(out)-1] {
			out = append(out, rep[0])
		}
	}
	if n := len(out); n > 1 && out[n-1] == 'S' {
		out = out[:n-1]
	}
	if n := len(out); n > 2 && out[n-2] == 'A' && out[n-1] == 'Y' {
		out = append(out[:n-2], 'Y')
	}
	if n := len(out); n > 1 && out[n-1] == 'A' {
		out = out[:n-1]
	}
	if len(out) > 6 {
		out = out[:6]
	}
	return string(out)
}
