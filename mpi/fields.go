package mpi

import (
	"strings"
	"time"
)

// Compared fields, in vector order.
const (
	fGiven = iota
	fFamily
	fBirth
	fSex
	fNumber
	fStreet
	fLocality
	fPhone
	fSSN
	fMiddle
	numFields
)

// fieldInfo names a field and its agreement levels, best first.
var fieldInfo = [numFields]struct {
	name   string
	levels []string
}{
	fGiven:    {"given", []string{"exact", "nickname", "jaro-winkler>=0.92", "jaro-winkler>=0.80", "different"}},
	fFamily:   {"family", []string{"exact", "jaro-winkler>=0.92", "jaro-winkler>=0.80", "different"}},
	fBirth:    {"birth-date", []string{"exact", "transposed-one-typo-or-one-day", "partial", "different"}},
	fSex:      {"sex", []string{"same", "different"}},
	fNumber:   {"street-number", []string{"same", "different"}},
	fStreet:   {"street", []string{"exact", "tokens>=0.90", "tokens>=0.75", "different"}},
	fLocality: {"locality", []string{"postcode-and-city", "postcode", "city", "state", "different"}},
	fPhone:    {"phone", []string{"same", "one-typo", "different"}},
	fSSN:      {"ssn", []string{"same", "one-typo", "different"}},
	fMiddle:   {"middle-name", []string{"exact", "one-typo", "initial", "different"}},
}

// Email is used for blocking, not as evidence: families share an address,
// and addresses made from a name (ann.lee@…) are shared by namesakes, so
// its agreement says "same household or same name" as often as "same
// person".

// vector is a comparison vector: a 4-bit agreement level per field
// (level 0 is the best; null means a side has no value).
type vector uint64

const null = 0xF

func (v vector) level(f int) int { return int(v>>(4*f)) & 0xF }

func (v *vector) set(f, level int) { *v = *v&^(0xF<<(4*f)) | vector(level)<<(4*f) }

// allNull is the vector of two empty records.
const allNull = vector(1<<(4*numFields) - 1)

// compare builds the comparison vector of a and b. A given and family
// name written in each other's places (a swap) count as agreeing.
func compare(a, b *entry) vector {
	v := allNull
	g, f := cmpGiven(a, b), cmpFamily(a.family, b.family)
	if g > 0 && f > 0 {
		// A swap: a's given name where b has the family name and back.
		sg, sf := cmpFamily(a.first, b.family), cmpFamily(a.family, b.first)
		if sg >= 0 && sf >= 0 && sg <= 1 && sf <= 1 {
			if sg == 1 {
				sg = 2 // the family scale's close level is the given scale's level 2
			}
			if sg+sf < g+f {
				g, f = sg, sf
			}
		}
	}
	if g >= 0 {
		v.set(fGiven, g)
	}
	if f >= 0 {
		v.set(fFamily, f)
	}
	if l := cmpBirth(a, b); l >= 0 {
		v.set(fBirth, l)
	}
	if a.sex != 0 && b.sex != 0 {
		v.set(fSex, b2i(a.sex != b.sex))
	}
	if a.number != "" && b.number != "" {
		v.set(fNumber, b2i(a.number != b.number))
	}
	if l := cmpStreet(a, b); l >= 0 {
		v.set(fStreet, l)
	}
	if l := cmpLocality(a, b); l >= 0 {
		v.set(fLocality, l)
	}
	if l := cmpPhone(a.phones, b.phones); l >= 0 {
		v.set(fPhone, l)
	}
	if l := cmpMiddle(a.middle, b.middle); l >= 0 {
		v.set(fMiddle, l)
	}
	if a.ssn != "" && b.ssn != "" {
		switch {
		case a.ssn == b.ssn:
			v.set(fSSN, 0)
		case withinOneEdit(a.ssn, b.ssn):
			v.set(fSSN, 1)
		default:
			v.set(fSSN, 2)
		}
	}
	return v
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func cmpGiven(a, b *entry) int {
	if a.first == "" || b.first == "" {
		return -1
	}
	if a.given == b.given || a.first == b.first {
		return 0
	}
	if a.canon == b.canon || sameNickname(a.first, b.first) {
		return 1
	}
	s := max(JaroWinkler(a.first, b.first), JaroWinkler(a.given, b.given))
	if s >= 0.92 || (min(len(a.first), len(b.first)) >= 4 && withinOneEdit(a.first, b.first)) {
		return 2 // one keying error (in a short name, one letter is too much: Lei, Wei)
	}
	if nicknameClose(a.first, b.first) || nicknameClose(b.first, a.first) {
		return 2 // a mistyped nickname
	}
	switch {
	case s >= 0.80 || withinOneEdit(a.first, b.first):
		return 3 // alike, or one typo in a short name
	case (len(a.first) == 1 || len(b.first) == 1) && a.first[0] == b.first[0]:
		return 3 // an initial
	case a.first == b.middle || b.first == a.middle:
		return 3 // registered under the middle name
	}
	return 4
}

// cmpMiddle compares first middle names: the same, one keying error
// apart, an initial that agrees with the other's first letter, or
// different (-1 when one side has none).
func cmpMiddle(a, b string) int {
	switch {
	case a == "" || b == "":
		return -1
	case a == b && len(a) > 1:
		return 0
	case len(a) > 1 && len(b) > 1 && (withinOneEdit(a, b) || JaroWinkler(a, b) >= 0.92):
		return 1
	case a[0] == b[0] && (len(a) == 1 || len(b) == 1):
		return 2
	}
	return 3
}

func cmpFamily(a, b string) int {
	if a == "" || b == "" {
		return -1
	}
	if a == b {
		return 0
	}
	s := JaroWinkler(a, b)
	switch {
	case s >= 0.92 || withinOneEdit(a, b):
		return 1
	case s >= 0.80:
		return 2
	}
	// A double-barrelled name that keeps one part.
	if len(a) >= 4 && len(b) >= 4 && (strings.HasPrefix(a, b) || strings.HasPrefix(b, a) || strings.HasSuffix(a, b) || strings.HasSuffix(b, a)) {
		return 2
	}
	return 3
}

func cmpBirth(a, b *entry) int {
	if a.year == 0 || b.year == 0 {
		return -1
	}
	if a.dob != "" && a.dob == b.dob {
		return 0
	}
	if a.dob != "" && b.dob != "" {
		if a.year == b.year && a.month == b.day && a.day == b.month {
			return 1 // day and month transposed
		}
		if withinOneEdit(a.dob, b.dob) || daysApart(a, b) <= 1 {
			return 1
		}
		if a.month == b.month && a.day == b.day && (a.year-b.year == 1 || b.year-a.year == 1) {
			return 1
		}
		if a.year == b.year && (a.month == b.month || a.day == b.day) || DamerauLevenshtein(a.dob, b.dob) <= 2 {
			return 2
		}
		return 3
	}
	// A partial date on one side: what both have must agree.
	if a.year != b.year {
		return 3
	}
	if a.month != 0 && b.month != 0 && a.month != b.month {
		return 3
	}
	return 2
}

// daysApart is the number of days between two complete birth dates.
func daysApart(a, b *entry) int {
	da := time.Date(a.year, time.Month(a.month), a.day, 0, 0, 0, 0, time.UTC)
	db := time.Date(b.year, time.Month(b.month), b.day, 0, 0, 0, 0, time.UTC)
	d := int(da.Sub(db).Hours() / 24)
	if d < 0 {
		d = -d
	}
	return d
}

func cmpStreet(a, b *entry) int {
	if len(a.street) == 0 || len(b.street) == 0 {
		return -1
	}
	if a.streetKey == b.streetKey {
		return 0
	}
	s := max(tokenSetSimilarity(a.street, b.street), JaroWinkler(a.streetKey, b.streetKey))
	switch {
	case s >= 0.90:
		return 1
	case s >= 0.75:
		return 2
	}
	return 3
}

func cmpLocality(a, b *entry) int {
	pc := a.postcode != "" && b.postcode != ""
	city := a.city != "" && b.city != ""
	st := a.state != "" && b.state != ""
	if !pc && !city && !st {
		return -1
	}
	pcSame := pc && a.postcode == b.postcode
	citySame := city && (a.city == b.city || JaroWinkler(a.city, b.city) >= 0.9)
	switch {
	case pcSame && citySame:
		return 0
	case pcSame:
		return 1
	case citySame:
		return 2
	case st && a.state == b.state:
		return 3
	}
	return 4
}

func cmpPhone(a, b []string) int {
	if len(a) == 0 || len(b) == 0 {
		return -1
	}
	best := 2
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return 0
			}
			if len(x) == len(y) && withinOneEdit(x, y) {
				best = 1
			}
		}
	}
	return best
}
