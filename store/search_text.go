package store

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Words splits text into lower-cased words of letters and digits (at most
// 64 bytes each), as _text and _content match them.
func Words(text string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		w := strings.ToLower(f)
		for len(w) > 64 {
			_, size := utf8.DecodeLastRuneInString(w)
			w = w[:len(w)-size]
		}
		out = append(out, w)
	}
	return out
}
