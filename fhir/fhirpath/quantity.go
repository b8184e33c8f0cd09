package fhirpath

import (
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// Quantity is a FHIRPath Quantity: a decimal value with a UCUM unit or a calendar
// duration keyword ("year", "days", ...).
type Quantity struct {
	Value Decimal
	Unit  string
}

// String formats the quantity as a FHIRPath literal would be written: 4.5 'mg', 3 days.
func (q Quantity) String() string {
	if _, ok := calendarUnits[q.Unit]; ok {
		return q.Value.String() + " " + q.Unit
	}
	return q.Value.String() + " '" + q.Unit + "'"
}

func newRatMul(r *big.Rat, num, den int64) *big.Rat {
	return new(big.Rat).Mul(r, big.NewRat(num, den))
}

// ucumBase lists the UCUM atoms this engine can canonicalise: factor to the base unit,
// and the base dimension. It covers the units common in clinical data, not all of UCUM.
var ucumBase = map[string]struct {
	num, den int64
	dim      string
}{
	"g": {1, 1, "g"}, "m": {1, 1, "m"}, "s": {1, 1, "s"}, "l": {1, 1000, "m3"}, "L": {1, 1000, "m3"},
	"mol": {1, 1, "mol"}, "eq": {1, 1, "eq"}, "K": {1, 1, "K"}, "Cel": {1, 1, "K"}, "U": {1, 1, "U"},
	"min": {60, 1, "s"}, "h": {3600, 1, "s"}, "d": {86400, 1, "s"}, "wk": {604800, 1, "s"},
	"a": {31557600, 1, "s"}, "mo": {2629800, 1, "s"},
	"[in_i]": {254, 10000, "m"}, "[ft_i]": {3048, 10000, "m"}, "[lb_av]": {45359237, 100000, "g"},
	"[oz_av]": {28349523125, 1000000000, "g"}, "[degF]": {5, 9, "K"},
	"%": {1, 100, ""}, "1": {1, 1, ""}, "[iU]": {1, 1, "[iU]"}, "[IU]": {1, 1, "[iU]"},
	"mm[Hg]": {133322, 1, "g/m.s2"}, "Pa": {1000, 1, "g/m.s2"}, "bar": {100000000, 1, "g/m.s2"},
}

var ucumPrefixes = map[string]struct{ num, den int64 }{
	"k": {1000, 1}, "h": {100, 1}, "da": {10, 1}, "d": {1, 10}, "c": {1, 100}, "m": {1, 1000},
	"u": {1, 1000000}, "n": {1, 1000000000}, "p": {1, 1000000000000}, "M": {1000000, 1}, "G": {1000000000, 1},
}

// calendarToUCUM maps calendar keywords to UCUM for comparison. Per FHIRPath § 5.6.1,
// calendar durations from weeks down are equal to their UCUM counterparts; years and
// months are not definite durations and only compare with themselves.
var calendarToUCUM = map[string]string{
	"week": "wk", "weeks": "wk", "day": "d", "days": "d", "hour": "h", "hours": "h",
	"minute": "min", "minutes": "min", "second": "s", "seconds": "s", "millisecond": "ms", "milliseconds": "ms",
	"year": "year", "years": "year", "month": "month", "months": "month",
}

// canonical converts q to a value in base units and a dimension string; ok is false if a
// unit is not understood.
func (q Quantity) canonical() (*big.Rat, string, bool) {
	unit := q.Unit
	if u, ok := calendarToUCUM[unit]; ok {
		unit = u
	}
	if unit == "year" || unit == "month" {
		return q.Value.rat(), unit, true
	}
	factor, dims, ok := parseUCUM(unit)
	if !ok {
		return nil, "", false
	}
	return new(big.Rat).Mul(q.Value.rat(), factor), dims, true
}

// parseUCUM parses a unit term such as "mg/dL", "mmol/L", "kg.m-2" or "/min".
func parseUCUM(unit string) (*big.Rat, string, bool) {
	factor := big.NewRat(1, 1)
	exps := map[string]int{}
	if unit == "" {
		return factor, "", true
	}
	sign := 1
	start := 0
	for i := 0; i <= len(unit); i++ {
		if i < len(unit) && unit[i] != '.' && unit[i] != '/' {
			if unit[i] == '[' {
				if j := strings.IndexByte(unit[i:], ']'); j > 0 {
					i += j
				}
			}
			continue
		}
		term := unit[start:i]
		if term != "" {
			f, dim, exp, ok := parseUCUMTerm(term)
			if !ok {
				return nil, "", false
			}
			exp *= sign
			for k := 0; k < abs(exp); k++ {
				if exp > 0 {
					factor.Mul(factor, f)
				} else {
					factor.Quo(factor, f)
				}
			}
			for _, d := range strings.Split(dim, ".") {
				if d == "" {
					continue
				}
				base, e := splitExp(d)
				exps[base] += e * exp
			}
		} else if i > 0 && i < len(unit) {
			return nil, "", false
		}
		if i < len(unit) && unit[i] == '/' {
			sign = -1
		}
		start = i + 1
	}
	keys := make([]string, 0, len(exps))
	for k, e := range exps {
		if e != 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(strconv.Itoa(exps[k]))
		b.WriteByte('.')
	}
	return factor, b.String(), true
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// splitExp splits "s2" into ("s", 2) and "m" into ("m", 1).
func splitExp(s string) (string, int) {
	i := len(s)
	for i > 0 && (isDigit(s[i-1]) || s[i-1] == '-') {
		i--
	}
	if i == len(s) || i == 0 {
		return s, 1
	}
	e, err := strconv.Atoi(s[i:])
	if err != nil {
		return s, 1
	}
	return s[:i], e
}

// parseUCUMTerm parses one prefixed atom with an optional exponent, e.g. "cm2".
func parseUCUMTerm(term string) (*big.Rat, string, int, bool) {
	atom, exp := term, 1
	if !strings.HasSuffix(term, "]") {
		atom, exp = splitExp(term)
	}
	if b, ok := ucumBase[atom]; ok {
		return big.NewRat(b.num, b.den), dimString(b.dim), exp, true
	}
	for _, plen := range []int{2, 1} {
		if len(atom) <= plen {
			continue
		}
		p, ok := ucumPrefixes[atom[:plen]]
		if !ok {
			continue
		}
		if b, ok := ucumBase[atom[plen:]]; ok {
			f := big.NewRat(p.num*1, p.den)
			f.Mul(f, big.NewRat(b.num, b.den))
			return f, dimString(b.dim), exp, true
		}
	}
	return nil, "", 0, false
}

// dimString turns a base dimension like "g/m.s2" into "g.m-1.s-2".
func dimString(dim string) string {
	num, den, ok := strings.Cut(dim, "/")
	if !ok {
		return dim
	}
	parts := []string{num}
	for _, d := range strings.Split(den, ".") {
		b, e := splitExp(d)
		parts = append(parts, b+strconv.Itoa(-e))
	}
	return strings.Join(parts, ".")
}

// compareQuantity compares two quantities after unit conversion; ok is false if their
// units are not comparable.
func compareQuantity(a, b Quantity) (int, bool) {
	if a.Unit == b.Unit {
		return a.Value.Cmp(b.Value), true
	}
	ra, da, ok1 := a.canonical()
	rb, db, ok2 := b.canonical()
	if !ok1 || !ok2 || da != db {
		return 0, false
	}
	return ra.Cmp(rb), true
}
