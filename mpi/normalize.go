package mpi

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// foldTable maps accented Latin letters to their unaccented spelling. It
// covers Latin-1 Supplement and Latin Extended-A, the letters names and
// addresses use in practice; anything else outside ASCII becomes a
// separator.
var foldTable = func() map[rune]string {
	groups := []struct{ from, to string }{
		{"àáâãäåāăą", "a"}, {"çćĉċč", "c"}, {"ďđð", "d"}, {"èéêëēĕėęě", "e"},
		{"ĝğġģ", "g"}, {"ĥħ", "h"}, {"ìíîïĩīĭįı", "i"}, {"ĵ", "j"}, {"ķ", "k"},
		{"ĺļľŀł", "l"}, {"ñńņňŉ", "n"}, {"òóôõöøōŏő", "o"}, {"ŕŗř", "r"},
		{"śŝşš", "s"}, {"ţťŧ", "t"}, {"ùúûüũūŭůűų", "u"}, {"ŵ", "w"},
		{"ýÿŷ", "y"}, {"źżž", "z"},
	}
	m := map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'þ': "th", 'ĳ': "ij"}
	for _, g := range groups {
		for _, r := range g.from {
			m[r] = g.to
		}
	}
	return m
}()

// fold lower-cases s, removes accents, drops apostrophes and turns every
// other run of characters that are not letters or digits into one space.
// The result is ASCII, trimmed.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		c := s[i]
		var out string
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
				out = string(rune(c))
			case c >= 'A' && c <= 'Z':
				out = string(rune(c + 'a' - 'A'))
			case c == '\'' || c == '`':
				continue // O'Brien is obrien
			}
		} else {
			r, n := utf8.DecodeRuneInString(s[i:])
			i += n
			if r == '’' || r == '‘' {
				continue
			}
			lr := unicode.ToLower(r)
			out = foldTable[lr]
		}
		if out == "" {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteString(out)
	}
	return b.String()
}

// compact removes the spaces of a folded string.
func compact(s string) string {
	if strings.IndexByte(s, ' ') < 0 {
		return s
	}
	return strings.ReplaceAll(s, " ", "")
}

// digits keeps only the ASCII digits of s.
func digits(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	if n == len(s) {
		return s
	}
	b := make([]byte, 0, n)
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// normPhone keeps a phone number's digits, without the North American
// country code; fewer than 7 digits is no usable number.
func normPhone(s string) string {
	d := digits(s)
	if len(d) == 11 && d[0] == '1' {
		d = d[1:]
	}
	if len(d) < 7 || allSame(d) {
		return ""
	}
	return d
}

// normSSN keeps an identifier's digits; placeholders (all one digit, too
// short) are no identifier.
func normSSN(s string) string {
	d := digits(s)
	if len(d) < 4 || allSame(d) || d == "123456789" {
		return ""
	}
	return d
}

func allSame(s string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] != s[0] {
			return false
		}
	}
	return true
}

// nameTitles are honorifics dropped from names.
var nameTitles = map[string]bool{"mr": true, "mrs": true, "ms": true, "miss": true, "dr": true, "prof": true, "rev": true, "mx": true}

// nameSuffixes are generational suffixes, kept apart from the name: they
// tell a junior from a senior.
var nameSuffixes = map[string]string{"jr": "jr", "junior": "jr", "sr": "sr", "senior": "sr",
	"ii": "ii", "2nd": "ii", "iii": "iii", "3rd": "iii", "iv": "iv", "4th": "iv"}

// normName folds a name, drops titles and returns the generational suffix
// it carried, if any. Tokens are kept separated by single spaces.
func normName(s string) (name, suffix string) {
	f := fold(s)
	if f == "" {
		return "", ""
	}
	toks := strings.Fields(f)
	out := toks[:0]
	for _, t := range toks {
		if nameTitles[t] {
			continue
		}
		if sx, ok := nameSuffixes[t]; ok && len(toks) > 1 {
			suffix = sx
			continue
		}
		out = append(out, t)
	}
	return strings.Join(out, " "), suffix
}

// streetWords maps address abbreviations to one spelling (USPS and
// Australia Post street types, directions, unit designators).
var streetWords = map[string]string{
	"st": "street", "str": "street", "rd": "road", "ave": "avenue", "av": "avenue", "avn": "avenue",
	"dr": "drive", "drv": "drive", "ln": "lane", "ct": "court", "crt": "court", "pl": "place",
	"blvd": "boulevard", "bvd": "boulevard", "hwy": "highway", "pkwy": "parkway", "cres": "crescent",
	"cr": "crescent", "cct": "circuit", "cir": "circle", "tce": "terrace", "ter": "terrace", "terr": "terrace",
	"sq": "square", "trl": "trail", "wy": "way", "cl": "close", "gr": "grove", "pde": "parade",
	"esp": "esplanade", "hts": "heights", "mt": "mount", "ctr": "centre", "center": "centre",
	"n": "north", "s": "south", "e": "east", "w": "west", "ne": "northeast", "nw": "northwest",
	"se": "southeast", "sw": "southwest", "apt": "unit", "apartment": "unit", "ste": "unit", "suite": "unit",
	"flat": "unit", "fl": "floor", "bldg": "building", "po": "po", "vlge": "village", "vill": "village",
	"retrmnt": "retirement", "ret": "retirement",
}

// normAddress folds an address and spells its abbreviations out.
func normAddress(s string) []string {
	toks := strings.Fields(fold(s))
	for i, t := range toks {
		if w, ok := streetWords[t]; ok {
			toks[i] = w
		}
	}
	return toks
}

// normSex reads the usual codings of sex and gender: M, F, male, female,
// man, woman; anything else is unknown ("").
func normSex(s string) byte {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "m", "male", "man", "1":
		return 'm'
	case "f", "female", "woman", "2":
		return 'f'
	}
	return 0
}
