package audit

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The canonical bytes of an entry are its JSON as encoding/json writes it
// (field order of Entry, HTML characters escaped, invalid UTF-8 replaced),
// so entries written before this encoder existed and after it hash alike.
// Writing them by hand is several times faster than reflection, and every
// audited read pays for it.

// AppendCanonical appends the canonical bytes of e to dst.
func AppendCanonical(dst []byte, e *Entry) []byte {
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendInt(dst, e.Seq, 10)
	return appendAfterSeq(dst, e)
}

// CanonicalTail returns the canonical bytes of e that follow its position:
// Canonical is `{"seq":` + the position + the tail. An appender computes
// the tail before it knows the position (outside its transaction).
func CanonicalTail(e *Entry) []byte {
	return appendAfterSeq(make([]byte, 0, 256), e)
}

// AppendTail appends CanonicalTail(e) to dst, for a caller with a buffer
// of its own.
func AppendTail(dst []byte, e *Entry) []byte {
	return appendAfterSeq(dst, e)
}

// AppendWithSeq appends the canonical bytes of an entry at position seq
// whose tail (CanonicalTail) is tail.
func AppendWithSeq(dst []byte, seq int64, tail []byte) []byte {
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	return append(dst, tail...)
}

func appendAfterSeq(dst []byte, e *Entry) []byte {
	dst = append(dst, `,"time":"`...)
	dst = e.Time.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","action":`...)
	dst = appendString(dst, e.Action)
	dst = append(dst, `,"outcome":`...)
	dst = appendString(dst, e.Outcome)
	dst = appendField(dst, "actor", e.Actor)
	dst = appendField(dst, "actorKind", e.ActorKind)
	dst = appendList(dst, "roles", e.Roles)
	dst = appendField(dst, "address", e.Address)
	dst = appendField(dst, "purpose", e.Purpose)
	dst = appendList(dst, "resources", e.Resources)
	dst = appendList(dst, "patients", e.Patients)
	dst = appendField(dst, "query", e.Query)
	if e.BreakGlass {
		dst = append(dst, `,"breakGlass":true`...)
	}
	dst = appendField(dst, "reason", e.Reason)
	return append(dst, '}')
}

// appendField appends ,"name":"value" unless value is empty (omitempty).
func appendField(dst []byte, name, value string) []byte {
	if value == "" {
		return dst
	}
	dst = append(dst, `,"`...)
	dst = append(dst, name...)
	dst = append(dst, `":`...)
	return appendString(dst, value)
}

// appendList appends ,"name":[…] unless list is empty (omitempty).
func appendList(dst []byte, name string, list []string) []byte {
	if len(list) == 0 {
		return dst
	}
	dst = append(dst, `,"`...)
	dst = append(dst, name...)
	dst = append(dst, `":[`...)
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

const hexDigits = "0123456789abcdef"

// plain marks the bytes a JSON string holds as they are: printable ASCII
// other than the quote, the backslash and the HTML characters encoding/json
// escapes. One table look-up per byte instead of six comparisons: every
// audited read encodes a few hundred such bytes.
var plain = func() (t [256]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// appendString appends s as a JSON string escaped exactly as encoding/json
// escapes it.
func appendString(dst []byte, s string) []byte {
	i := 0
	for i < len(s) && plain[s[i]] {
		i++
	}
	if i == len(s) { // the common case: nothing to escape
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	dst = append(dst, '"')
	start := 0
	for i < len(s) {
		if b := s[i]; b < utf8.RuneSelf {
			if plain[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
