package fhirpath

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokenKind classifies a lexical token.
type tokenKind int

const (
	tokEOF        tokenKind = iota
	tokIdent                // identifier, keyword, or `delimited identifier`
	tokDelimIdent           // `delimited identifier` (never a keyword)
	tokString               // 'string'
	tokNumber               // 12 or 1.5
	tokLong                 // 12L
	tokDate                 // @2019-01-01
	tokDateTime             // @2019-01-01T10:00
	tokTime                 // @T10:00
	tokVar                  // %name or %'name' or %`name`
	tokSpecial              // $this, $index, $total
	tokOp                   // punctuation and symbolic operators
)

// token is one lexical token with its byte offset in the source.
type token struct {
	kind tokenKind
	text string // decoded text (string contents, identifier name, operator)
	pos  int
}

// lex splits src into tokens. Comments and whitespace are dropped.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, syntaxErrorf(i, "unterminated comment")
			}
			i += end + 4
			continue
		}
		start := i
		switch {
		case isIdentStart(c):
			for i < len(src) && isIdentPart(src[i]) {
				i++
			}
			toks = append(toks, token{tokIdent, src[start:i], start})
		case c == '`':
			s, n, err := lexQuoted(src[i:], '`')
			if err != nil {
				return nil, syntaxErrorf(i, "%v", err)
			}
			i += n
			toks = append(toks, token{tokDelimIdent, s, start})
		case c == '\'':
			s, n, err := lexQuoted(src[i:], '\'')
			if err != nil {
				return nil, syntaxErrorf(i, "%v", err)
			}
			i += n
			toks = append(toks, token{tokString, s, start})
		case c >= '0' && c <= '9':
			for i < len(src) && isDigit(src[i]) {
				i++
			}
			if i+1 < len(src) && src[i] == '.' && isDigit(src[i+1]) {
				i++
				for i < len(src) && isDigit(src[i]) {
					i++
				}
			} else if i < len(src) && src[i] == 'L' && (i+1 >= len(src) || !isIdentPart(src[i+1])) {
				toks = append(toks, token{tokLong, src[start:i], start})
				i++
				continue
			}
			toks = append(toks, token{tokNumber, src[start:i], start})
		case c == '@':
			kind, n := lexDateTime(src[i:])
			if n == 0 {
				return nil, syntaxErrorf(i, "invalid date/time literal")
			}
			i += n
			toks = append(toks, token{kind, src[start+1 : i], start})
		case c == '%':
			i++
			switch {
			case i < len(src) && isIdentStart(src[i]):
				for i < len(src) && isIdentPart(src[i]) {
					i++
				}
				toks = append(toks, token{tokVar, src[start+1 : i], start})
			case i < len(src) && (src[i] == '`' || src[i] == '\''):
				s, n, err := lexQuoted(src[i:], src[i])
				if err != nil {
					return nil, syntaxErrorf(i, "%v", err)
				}
				i += n
				toks = append(toks, token{tokVar, s, start})
			default:
				return nil, syntaxErrorf(start, "invalid external constant")
			}
		case c == '$':
			i++
			for i < len(src) && isIdentPart(src[i]) {
				i++
			}
			name := src[start:i]
			if name != "$this" && name != "$index" && name != "$total" {
				return nil, syntaxErrorf(start, "unknown special variable %q", name)
			}
			toks = append(toks, token{tokSpecial, name, start})
		default:
			op := ""
			if i+1 < len(src) {
				switch two := src[i : i+2]; two {
				case "<=", ">=", "!=", "!~":
					op = two
				}
			}
			if op == "" {
				switch c {
				case '.', '[', ']', '(', ')', '{', '}', ',', '+', '-', '*', '/', '&', '|', '<', '>', '=', '~':
					op = string(c)
				default:
					r, _ := utf8.DecodeRuneInString(src[i:])
					return nil, syntaxErrorf(i, "unexpected character %q", r)
				}
			}
			i += len(op)
			toks = append(toks, token{tokOp, op, start})
		}
	}
	toks = append(toks, token{tokEOF, "", len(src)})
	return toks, nil
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }

// lexQuoted decodes a quoted string or delimited identifier starting at s[0] (the quote)
// and returns its contents and the number of bytes consumed.
func lexQuoted(s string, q byte) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c == q {
			return b.String(), i + 1, nil
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			break
		}
		switch s[i] {
		case '\'', '"', '`', '\\', '/':
			b.WriteByte(s[i])
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			if i+4 >= len(s) {
				return "", 0, fmt.Errorf("invalid unicode escape")
			}
			r, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
			if err != nil {
				return "", 0, fmt.Errorf("invalid unicode escape %q", s[i+1:i+5])
			}
			b.WriteRune(rune(r))
			i += 4
		default:
			return "", 0, fmt.Errorf("invalid escape \\%c", s[i])
		}
	}
	return "", 0, fmt.Errorf("unterminated %c", q)
}

// lexDateTime scans a date/time literal starting with '@' and returns its kind and
// length (0 if it is not a valid literal).
func lexDateTime(s string) (tokenKind, int) {
	i := 1
	digits := func(n int) bool {
		if i+n > len(s) {
			return false
		}
		for j := 0; j < n; j++ {
			if !isDigit(s[i+j]) {
				return false
			}
		}
		i += n
		return true
	}
	timePart := func() {
		if !digits(2) {
			return
		}
		if i+2 < len(s) && s[i] == ':' && isDigit(s[i+1]) {
			i++
			digits(2)
			if i+2 < len(s) && s[i] == ':' && isDigit(s[i+1]) {
				i++
				digits(2)
				if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
					i++
					for i < len(s) && isDigit(s[i]) {
						i++
					}
				}
			}
		}
	}
	if i < len(s) && s[i] == 'T' {
		i++
		start := i
		timePart()
		if i == start {
			return 0, 0
		}
		return tokTime, i
	}
	if !digits(4) {
		return 0, 0
	}
	kind := tokDate
	if i+2 < len(s) && s[i] == '-' && isDigit(s[i+1]) {
		i++
		digits(2)
		if i+2 < len(s) && s[i] == '-' && isDigit(s[i+1]) {
			i++
			digits(2)
		}
	}
	if i < len(s) && s[i] == 'T' {
		i++
		kind = tokDateTime
		timePart()
		// timezone
		if i < len(s) && s[i] == 'Z' {
			i++
		} else if i+6 <= len(s) && (s[i] == '+' || s[i] == '-') && isDigit(s[i+1]) && isDigit(s[i+2]) && s[i+3] == ':' && isDigit(s[i+4]) && isDigit(s[i+5]) {
			i += 6
		}
	}
	return kind, i
}
