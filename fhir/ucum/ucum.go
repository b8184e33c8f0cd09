// Package ucum converts quantities written in the UCUM units common in
// clinical data to base units, so that 5 mg and 0.005 g compare equal. It
// is the one unit converter of Custodian: search indexing and FHIRPath
// both use it. It covers the units that clinical data carries, not the
// whole of UCUM; a unit it does not know is reported as such and callers
// then compare values only when the units are written the same.
package ucum

import (
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// System is the FHIR code system URI of UCUM.
const System = "http://unitsofmeasure.org"

// atoms are the units understood: the factor to the base unit (as a
// fraction) and the base dimension.
var atoms = map[string]struct {
	num, den int64
	dim      string
}{
	"g": {1, 1, "g"}, "m": {1, 1, "m"}, "s": {1, 1, "s"}, "l": {1, 1000, "m3"}, "L": {1, 1000, "m3"},
	"mol": {1, 1, "mol"}, "eq": {1, 1, "eq"}, "K": {1, 1, "K"}, "U": {1, 1, "U"},
	"min": {60, 1, "s"}, "h": {3600, 1, "s"}, "d": {86400, 1, "s"}, "wk": {604800, 1, "s"},
	"a": {31557600, 1, "s"}, "mo": {2629800, 1, "s"},
	"[in_i]": {254, 10000, "m"}, "[ft_i]": {3048, 10000, "m"}, "[lb_av]": {45359237, 100000, "g"},
	"[oz_av]": {28349523125, 1000000000, "g"}, "%": {1, 100, ""}, "1": {1, 1, ""},
	"[iU]": {1, 1, "[iU]"}, "[IU]": {1, 1, "[iU]"}, "mm[Hg]": {133322, 1, "g.m-1.s-2"},
	"Pa": {1000, 1, "g.m-1.s-2"}, "bar": {100000000, 1, "g.m-1.s-2"}, "kat": {1, 1, "mol.s-1"},
	"10*3": {1000, 1, ""}, "10*6": {1000000, 1, ""}, "10*9": {1000000000, 1, ""}, "10*12": {1000000000000, 1, ""},
}

// unprefixable atoms take no metric prefix ("m%" is not a unit).
var unprefixable = map[string]bool{"%": true, "1": true, "10*3": true, "10*6": true, "10*9": true, "10*12": true}

var prefixes = map[string]struct{ num, den int64 }{
	"k": {1000, 1}, "h": {100, 1}, "da": {10, 1}, "d": {1, 10}, "c": {1, 100}, "m": {1, 1000},
	"u": {1, 1000000}, "n": {1, 1000000000}, "p": {1, 1000000000000}, "f": {1, 1000000000000000},
	"M": {1000000, 1}, "G": {1000000000, 1},
}

// Parse returns the factor that converts a value in unit to base units and
// the dimension of the base units: "mg/dL" is 10 g.m-3 (the factor is 10,
// the dimension "g.m-3"); dimensionless units have the dimension "1". ok is
// false for a unit this package does not know. Curly-brace annotations
// ("{beats}/min") count as 1.
func Parse(unit string) (factor *big.Rat, dim string, ok bool) {
	if unit == "" || strings.ContainsAny(unit, "{}") && !strings.HasPrefix(unit, "{") {
		return nil, "", false
	}
	exps := map[string]int{}
	factor = big.NewRat(1, 1)
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
		switch {
		case term == "" && i == 0 && i < len(unit) && unit[i] == '/': // "/min"
		case term == "":
			return nil, "", false
		case strings.HasPrefix(term, "{") && strings.HasSuffix(term, "}"): // annotation: 1
		default:
			f, d, exp, ok := parseTerm(term)
			if !ok {
				return nil, "", false
			}
			exp *= sign
			for range abs(exp) {
				if exp > 0 {
					factor.Mul(factor, f)
				} else {
					factor.Quo(factor, f)
				}
			}
			for _, part := range strings.Split(d, ".") {
				if part != "" {
					base, e := splitExp(part)
					exps[base] += e * exp
				}
			}
		}
		if i < len(unit) && unit[i] == '/' {
			sign = -1
		}
		start = i + 1
	}
	return factor, dimension(exps), true
}

// Canonical converts value in unit to base units: 5 mg is 0.005 g, 1 h is
// 3600 s. ok is false for a unit this package does not know.
func Canonical(value float64, unit string) (float64, string, bool) {
	f, dim, ok := Factor(unit)
	return value * f, dim, ok
}

// Factor is what Canonical multiplies by for unit, and the base units'
// dimension: parse a unit once to convert several values in it (a range's
// low and high). ok is false for a unit this package does not know.
func Factor(unit string) (float64, string, bool) {
	f, dim, ok := Parse(unit)
	if !ok {
		return 0, "", false
	}
	ff, _ := f.Float64()
	return ff, dim, true
}

// dimension writes exponents as "g.m-3": bases sorted, exponent 1 left
// out, "1" when nothing remains.
func dimension(exps map[string]int) string {
	keys := make([]string, 0, len(exps))
	for k, e := range exps {
		if e != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "1"
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(k)
		if e := exps[k]; e != 1 {
			b.WriteString(strconv.Itoa(e))
		}
	}
	return b.String()
}

// parseTerm parses one atom with an optional prefix and exponent ("mg",
// "cm2", "10*3").
func parseTerm(term string) (*big.Rat, string, int, bool) {
	if a, ok := atoms[term]; ok {
		return big.NewRat(a.num, a.den), a.dim, 1, true
	}
	body, exp := term, 1
	if !strings.HasSuffix(term, "]") {
		if i := strings.LastIndexFunc(term, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '-') }); i >= 0 && i < len(term)-1 && term[i] != '*' {
			n, err := strconv.Atoi(term[i+1:])
			if err != nil {
				return nil, "", 0, false
			}
			body, exp = term[:i+1], n
		}
	}
	if a, ok := atoms[body]; ok {
		return big.NewRat(a.num, a.den), a.dim, exp, true
	}
	for _, plen := range []int{2, 1} {
		if len(body) <= plen {
			continue
		}
		p, ok := prefixes[body[:plen]]
		if !ok {
			continue
		}
		if a, ok := atoms[body[plen:]]; ok && !unprefixable[body[plen:]] {
			f := big.NewRat(p.num, p.den)
			return f.Mul(f, big.NewRat(a.num, a.den)), a.dim, exp, true
		}
	}
	return nil, "", 0, false
}

// splitExp splits "s-2" into ("s", -2) and "m" into ("m", 1).
func splitExp(s string) (string, int) {
	i := len(s)
	for i > 0 && (s[i-1] >= '0' && s[i-1] <= '9' || s[i-1] == '-') {
		i--
	}
	if i == len(s) || i == 0 {
		return s, 1
	}
	n, err := strconv.Atoi(s[i:])
	if err != nil {
		return s, 1
	}
	return s[:i], n
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
