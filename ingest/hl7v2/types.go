package hl7v2

import (
	"net/url"
	"strconv"
	"strings"
)

// obj is a FHIR JSON object under construction.
type obj = map[string]any

// put sets k to v unless v is empty (""、nil, an empty list or object).
func put(o obj, k string, v any) {
	switch x := v.(type) {
	case nil:
		return
	case string:
		if x == "" {
			return
		}
	case []any:
		if len(x) == 0 {
			return
		}
	case obj:
		if len(x) == 0 {
			return
		}
	}
	o[k] = v
}

// DateTime converts a v2 date/time (DTM/TS: YYYY[MM[DD[HH[MM[SS[.S+]]]]]]
// [+/-ZZZZ]) to a FHIR dateTime with the precision it was written with.
// FHIR needs a time zone with a time, so a time without one is cut to the
// day. ok is false when s is not a date/time.
func DateTime(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	tz := ""
	if i := strings.IndexAny(s, "+-"); i >= 0 {
		s, tz = s[:i], s[i:]
		if len(tz) != 5 || !allDigits(tz[1:]) {
			return "", false
		}
		tz = tz[:3] + ":" + tz[3:]
	}
	frac := ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s, frac = s[:i], s[i+1:]
		if !allDigits(frac) || len(s) != 14 {
			return "", false
		}
	}
	if !allDigits(s) {
		return "", false
	}
	switch len(s) {
	case 4, 6, 8, 10, 12, 14:
	default:
		return "", false
	}
	y := s[0:4]
	out := y
	if len(s) >= 6 {
		mo, _ := strconv.Atoi(s[4:6])
		if mo < 1 || mo > 12 {
			return "", false
		}
		out += "-" + s[4:6]
	}
	if len(s) >= 8 {
		d, _ := strconv.Atoi(s[6:8])
		if d < 1 || d > 31 {
			return "", false
		}
		out += "-" + s[6:8]
	}
	if len(s) <= 8 {
		return out, true
	}
	if tz == "" {
		return out, true
	}
	h, _ := strconv.Atoi(s[8:10])
	mi, sec := 0, 0
	if len(s) >= 12 {
		mi, _ = strconv.Atoi(s[10:12])
	}
	if len(s) >= 14 {
		sec, _ = strconv.Atoi(s[12:14])
	}
	if h > 23 || mi > 59 || sec > 59 {
		return "", false
	}
	out += "T" + s[8:10] + ":"
	if len(s) >= 12 {
		out += s[10:12]
	} else {
		out += "00"
	}
	out += ":"
	if len(s) >= 14 {
		out += s[12:14]
	} else {
		out += "00"
	}
	if frac != "" {
		out += "." + frac
	}
	return out + tz, true
}

// Date converts a v2 date or date/time to a FHIR date (the day part).
func Date(s string) (string, bool) {
	v, ok := DateTime(s)
	if !ok {
		return "", false
	}
	if len(v) > 10 {
		v = v[:10]
	}
	return v, true
}

func dateTimeOr(s string) string {
	v, _ := DateTime(s)
	return v
}

// codeable converts a CE/CWE (code^text^system^altCode^altText^altSystem)
// to a CodeableConcept.
func (mp *Mapper) codeable(c Component) obj {
	if c.Empty() {
		return nil
	}
	cc := obj{}
	var codings []any
	for _, o := range []int{0, 3} {
		code, text, sys := c.At(o+1), c.At(o+2), c.At(o+3)
		if code == "" {
			continue
		}
		cd := obj{"code": code}
		put(cd, "system", mp.Tables.codeSystem(sys))
		put(cd, "display", text)
		codings = append(codings, cd)
	}
	put(cc, "coding", codings)
	text := c.At(9) // CWE-9 original text
	if text == "" {
		text = c.At(2)
	}
	if text == "" {
		text = c.At(5)
	}
	put(cc, "text", text)
	return cc
}

// coded returns a CodeableConcept with one coding.
func coded(system, code, display string) obj {
	if code == "" {
		return nil
	}
	cd := obj{"system": system, "code": code}
	put(cd, "display", display)
	return obj{"coding": []any{cd}}
}

// humanName converts an XPN (family^given^middle^suffix^prefix^degree^type).
// The family name's first sub-component is the surname.
func humanName(c Component) obj {
	if c.Empty() {
		return nil
	}
	n := obj{}
	put(n, "family", c.At(1))
	var given []any
	for _, g := range []string{c.At(2), c.At(3)} {
		if g != "" {
			given = append(given, g)
		}
	}
	put(n, "given", given)
	if s := c.At(4); s != "" {
		n["suffix"] = []any{s}
	}
	if p := c.At(5); p != "" {
		n["prefix"] = []any{p}
	}
	switch c.At(7) {
	case "L":
		n["use"] = "official"
	case "D":
		n["use"] = "usual"
	case "A":
		n["use"] = "anonymous"
	case "M":
		n["use"] = "maiden"
	case "N":
		n["use"] = "nickname"
	}
	if len(n) == 0 {
		return nil
	}
	return n
}

// xcnName is the name part of an XCN (id^family^given^middle^suffix^prefix).
func xcnName(c Component) obj {
	return humanName(Component(c[min(1, len(c)):]))
}

// address converts an XAD (street^other^city^state^zip^country^type).
func address(c Component) obj {
	if c.Empty() {
		return nil
	}
	a := obj{}
	var lines []any
	for _, l := range []string{c.At(1), c.At(2)} {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	put(a, "line", lines)
	put(a, "city", strings.TrimSpace(c.At(3)))
	put(a, "state", c.At(4))
	put(a, "postalCode", c.At(5))
	put(a, "country", c.At(6))
	switch c.At(7) {
	case "H", "HOME":
		a["use"] = "home"
	case "B", "O":
		a["use"] = "work"
	case "C":
		a["use"] = "temp"
	case "M":
		a["type"] = "postal"
	}
	if len(a) == 0 {
		return nil
	}
	return a
}

// telecom converts an XTN: the number written in component 1 or built from
// country^area^local (5, 6, 7); email in component 4.
func telecom(c Component) obj {
	if c.Empty() {
		return nil
	}
	t := obj{}
	use, equip := c.At(2), c.At(3)
	if equip == "Internet" || equip == "X.400" {
		if c.At(4) == "" {
			return nil
		}
		t["system"] = "email"
		t["value"] = c.At(4)
		return t
	}
	val := strings.TrimSpace(c.At(1))
	if val == "" && c.At(7) != "" {
		val = c.At(7)
		if c.At(6) != "" {
			val = "(" + c.At(6) + ")" + val
		}
		if c.At(5) != "" {
			val = "+" + c.At(5) + " " + val
		}
	}
	if val == "" {
		return nil
	}
	t["value"] = val
	switch equip {
	case "FX":
		t["system"] = "fax"
	case "BP":
		t["system"] = "pager"
	default:
		t["system"] = "phone"
	}
	switch use {
	case "PRN":
		t["use"] = "home"
	case "WPN":
		t["use"] = "work"
	case "ORN", "VHN":
		t["use"] = "temp"
	}
	if equip == "CP" {
		t["use"] = "mobile"
	}
	return t
}

// Identifier is an identifier system and value: a patient's MRN, a visit
// number, a document's unique number.
type Identifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

// Query returns the identifier as a search value for a query string:
// system|value with commas escaped for FHIR search and the whole
// URL-encoded, so values holding "&", "+" or "%" survive.
func (id Identifier) Query() string {
	return url.QueryEscape(escapeComma(id.System) + "|" + escapeComma(id.Value))
}

// escapeComma escapes the commas of a search value (FHIR's "\,").
func escapeComma(s string) string {
	if !strings.Contains(s, ",") {
		return s
	}
	return strings.ReplaceAll(s, ",", `\,`)
}

func (id Identifier) fhir() obj { return obj{"system": id.System, "value": id.Value} }

// cx converts a CX (id^check^scheme^authority^type) to an identifier.
// fallback is the system when no authority or type names one.
func (mp *Mapper) cx(c Component, fallback string) Identifier {
	sys := mp.Tables.identifierSystem(c.Sub(4, 1), c.Sub(4, 2), c.Sub(4, 3), c.At(5), fallback)
	return Identifier{System: sys, Value: strings.TrimSpace(c.At(1))}
}
