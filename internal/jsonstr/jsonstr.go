// Package jsonstr reads JSON string literals, for the hand-written scanners
// that pick a few fields out of many FHIR resources without decoding whole
// trees (the master patient index, de-identification). It unescapes
// exactly as encoding/json does.
package jsonstr

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Unquote reads the string literal whose opening quote is b[i] and returns
// its value and the index just past its closing quote. ok is false when
// b[i:] does not start with a valid JSON string.
func Unquote(b []byte, i int) (s string, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return "", i, false
	}
	i++
	start := i
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return string(b[start:i]), i + 1, true
		case c == '\\':
			return escaped(b, start, i)
		case c < 0x20:
			return "", i, false
		}
	}
	return "", i, false
}

// escaped finishes a literal begun at start whose first escape is at i.
func escaped(b []byte, start, i int) (string, int, bool) {
	buf := append([]byte(nil), b[start:i]...)
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return string(buf), i + 1, true
		case c < 0x20:
			return "", i, false
		case c != '\\':
			buf = append(buf, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			return "", i, false
		}
		e := b[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(b, i)
			if !ok {
				return "", i, false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				// A pair decodes to one rune; anything else is U+FFFD, and
				// what follows is read on its own (as encoding/json does).
				dec := utf8.RuneError
				if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
					lo, ok := hex4(b, i+2)
					if !ok {
						return "", i, false
					}
					if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
						dec = d
						i += 6
					}
				}
				r = dec
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", i, false
		}
	}
	return "", i, false
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[i:i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}
