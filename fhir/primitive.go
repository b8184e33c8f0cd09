package fhir

import (
	"encoding/json"
	"strconv"
	"strings"
)

// primKind identifies a primitive type's JSON representation and format.
type primKind uint8

const (
	primNone primKind = iota
	primBoolean
	primInteger
	primPositiveInt
	primUnsignedInt
	primDecimal
	primString
	primMarkdown
	primCode
	primID
	primURI // also url and canonical
	primOID
	primUUID
	primDate
	primDateTime
	primInstant
	primTime
	primBase64Binary
	primXHTML
)

// primitiveKinds maps each R4 primitive type to its check. It is read-only.
var primitiveKinds = map[string]primKind{
	"boolean":      primBoolean,
	"integer":      primInteger,
	"positiveInt":  primPositiveInt,
	"unsignedInt":  primUnsignedInt,
	"decimal":      primDecimal,
	"string":       primString,
	"markdown":     primMarkdown,
	"code":         primCode,
	"id":           primID,
	"uri":          primURI,
	"url":          primURI,
	"canonical":    primURI,
	"oid":          primOID,
	"uuid":         primUUID,
	"date":         primDate,
	"dateTime":     primDateTime,
	"instant":      primInstant,
	"time":         primTime,
	"base64Binary": primBase64Binary,
	"xhtml":        primXHTML,
}

// maxStringLen is the largest string the R4 spec allows (1 MiB).
const maxStringLen = 1 << 20

// checkPrimitive checks the JSON value v of a primitive of kind k against
// the R4 JSON representation and the type's format (the regexes of the R4
// datatypes page, written out by hand for speed). It returns an issue code
// and message, or "" when v is valid. Messages never quote the value.
func checkPrimitive(k primKind, v any) (code, msg string) {
	switch k {
	case primBoolean:
		if _, ok := v.(bool); !ok {
			return "structure", "expected a JSON boolean"
		}
		return "", ""
	case primInteger, primPositiveInt, primUnsignedInt, primDecimal:
		return checkNumber(k, v)
	}
	s, ok := v.(string)
	if !ok {
		return "structure", "expected a JSON string"
	}
	if s == "" {
		return "value", "empty string is not allowed"
	}
	if hasControl(s) {
		return "value", "characters below U+0020 other than tab, carriage return and line feed are not allowed"
	}
	var valid bool
	switch k {
	case primString, primMarkdown:
		if len(s) > maxStringLen {
			return "value", "string is longer than 1 MiB"
		}
		valid = true
	case primCode:
		valid = isCode(s)
	case primID:
		valid = isID(s)
	case primURI:
		valid = !hasSpace(s)
	case primOID:
		valid = isOID(s)
	case primUUID:
		valid = isUUID(s)
	case primDate:
		valid = isDateTime(s, false, false)
	case primDateTime:
		valid = isDateTime(s, true, false)
	case primInstant:
		valid = isDateTime(s, true, true)
	case primTime:
		n := timeLen(s)
		valid = n == len(s)
	case primBase64Binary:
		valid = isBase64(s)
	case primXHTML:
		if !strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), "<div") {
			return "value", "xhtml must be a <div> element"
		}
		return "", ""
	}
	if !valid {
		return "value", "invalid " + primNames[k]
	}
	return "", ""
}

// primNames names each kind in messages.
var primNames = [...]string{
	primCode: "code", primID: "id", primURI: "uri", primOID: "oid", primUUID: "uuid",
	primDate: "date", primDateTime: "dateTime", primInstant: "instant", primTime: "time",
	primBase64Binary: "base64Binary", primString: "string", primMarkdown: "markdown",
	primInteger: "integer", primPositiveInt: "positiveInt", primUnsignedInt: "unsignedInt",
	primDecimal: "decimal",
}

func checkNumber(k primKind, v any) (code, msg string) {
	var s string
	switch n := v.(type) {
	case json.Number:
		s = string(n)
	case float64:
		s = strconv.FormatFloat(n, 'f', -1, 64)
	case int:
		s = strconv.Itoa(n)
	case int64:
		s = strconv.FormatInt(n, 10)
	default:
		return "structure", "expected a JSON number"
	}
	if k == primDecimal {
		if !isDecimal(s) {
			return "value", "invalid decimal"
		}
		return "", ""
	}
	n, err := strconv.ParseInt(s, 10, 64)
	digits := strings.TrimPrefix(s, "-")
	if err != nil || (len(digits) > 1 && digits[0] == '0') {
		return "value", "invalid " + primNames[k]
	}
	switch {
	case n > 2147483647 || n < -2147483648:
		return "value", primNames[k] + " out of range"
	case k == primPositiveInt && n < 1:
		return "value", "positiveInt must be 1 or more"
	case k == primUnsignedInt && n < 0:
		return "value", "unsignedInt must not be negative"
	}
	return "", ""
}

// Character classes, looked up by byte: cheaper than comparisons on long
// values such as base64 attachments.
const (
	classSpace uint8 = 1 << iota
	classBase64
	classID
)

var charClass = func() (t [256]uint8) {
	for _, c := range []byte(" \t\n\r\f\v") {
		t[c] |= classSpace | classBase64
	}
	for c := 0; c < 256; c++ {
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			t[c] |= classBase64 | classID
		}
	}
	t['+'] |= classBase64
	t['/'] |= classBase64
	t['='] |= classBase64
	t['-'] |= classID
	t['.'] |= classID
	return t
}()

// hasControl reports whether s holds a character below U+0020 other than
// tab, carriage return and line feed, which no R4 primitive may contain
// (PostgreSQL, for one, cannot store U+0000 in text).
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\r' && c != '\n' {
			return true
		}
	}
	return false
}

func isSpace(c byte) bool { return charClass[c]&classSpace != 0 }

func hasSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) {
			return true
		}
	}
	return false
}

// isCode matches [^\s]+(\s[^\s]+)*: no leading, trailing or doubled whitespace.
func isCode(s string) bool {
	if isSpace(s[0]) || isSpace(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if isSpace(s[i]) && isSpace(s[i-1]) {
			return false
		}
	}
	return true
}

// isID matches [A-Za-z0-9\-\.]{1,64}.
func isID(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if charClass[s[i]]&classID == 0 {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isOID matches urn:oid:[0-2](\.(0|[1-9][0-9]*))+.
func isOID(s string) bool {
	rest, ok := strings.CutPrefix(s, "urn:oid:")
	if !ok || len(rest) < 3 || rest[0] < '0' || rest[0] > '2' || rest[1] != '.' {
		return false
	}
	for _, arc := range strings.Split(rest[2:], ".") {
		if arc == "" || (len(arc) > 1 && arc[0] == '0') {
			return false
		}
		for i := 0; i < len(arc); i++ {
			if !isDigit(arc[i]) {
				return false
			}
		}
	}
	return true
}

// isUUID matches urn:uuid: followed by a lower-case 8-4-4-4-12 hex UUID.
func isUUID(s string) bool {
	rest, ok := strings.CutPrefix(s, "urn:uuid:")
	if !ok || len(rest) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := rest[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isDigit(c) && !(c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// isDecimal matches -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == start || (i-start > 1 && s[start] == '0') {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(s)
}

// isBase64 accepts the base64 alphabet, padding and whitespace.
func isBase64(s string) bool {
	for i := 0; i < len(s); i++ {
		if charClass[s[i]]&classBase64 == 0 {
			return false
		}
	}
	return true
}

// num reads n digits at s[i:] and returns their value, or -1.
func num(s string, i, n int) int {
	if i+n > len(s) {
		return -1
	}
	v := 0
	for j := i; j < i+n; j++ {
		if !isDigit(s[j]) {
			return -1
		}
		v = v*10 + int(s[j]-'0')
	}
	return v
}

// isDateTime checks the R4 date (withTime false), dateTime and instant
// (full false/true) formats: YYYY, YYYY-MM, YYYY-MM-DD, then for dateTime
// optionally Thh:mm:ss(.sss)?(Z|+hh:mm|-hh:mm). An instant needs all parts.
// Days are checked against the month's length.
func isDateTime(s string, withTime, full bool) bool {
	year := num(s, 0, 4)
	if year <= 0 {
		return false // the R4 regex has no year 0000
	}
	if len(s) == 4 {
		return !full
	}
	if s[4] != '-' {
		return false
	}
	month := num(s, 5, 2)
	if month < 1 || month > 12 {
		return false
	}
	if len(s) == 7 {
		return !full
	}
	if len(s) < 10 || s[7] != '-' {
		return false
	}
	day := num(s, 8, 2)
	if day < 1 || day > daysIn(year, month) {
		return false
	}
	if len(s) == 10 {
		return !full
	}
	if !withTime || s[10] != 'T' {
		return false
	}
	i := 11
	n := timeLen(s[i:])
	if n < 0 {
		return false
	}
	i += n
	return tzLen(s[i:]) == len(s)-i
}

// timeLen returns the length of a time hh:mm:ss(.f+)? at the start of s,
// or -1.
func timeLen(s string) int {
	if len(s) < 8 {
		return -1
	}
	h, m, sec := num(s, 0, 2), num(s, 3, 2), num(s, 6, 2)
	if h < 0 || h > 23 || s[2] != ':' || m < 0 || m > 59 || s[5] != ':' || sec < 0 || sec > 60 {
		return -1
	}
	i := 8
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == j {
			return -1
		}
	}
	return i
}

// tzLen returns the length of a zone Z or (+|-)hh:mm (up to 14:00) at the
// start of s, or -1.
func tzLen(s string) int {
	if s == "Z" {
		return 1
	}
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return -1
	}
	h, m := num(s, 1, 2), num(s, 4, 2)
	if h < 0 || m < 0 || m > 59 || h > 14 || (h == 14 && m != 0) {
		return -1
	}
	return 6
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
