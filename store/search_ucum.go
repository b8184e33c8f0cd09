package store

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// UCUM is the system of UCUM units in FHIR.
const UCUM = "http://unitsofmeasure.org"

// ucumAtoms are the UCUM units Custodian canonicalises: the factor to the
// base unit and its dimension. They cover the units common in clinical data,
// not all of UCUM; other units are compared as written.
var ucumAtoms = map[string]struct {
	f   float64
	dim string
}{
	"g": {1, "g"}, "m": {1, "m"}, "s": {1, "s"}, "l": {1e-3, "m3"}, "L": {1e-3, "m3"},
	"mol": {1, "mol"}, "eq": {1, "eq"}, "K": {1, "K"}, "U": {1, "U"},
	"min": {60, "s"}, "h": {3600, "s"}, "d": {86400, "s"}, "wk": {604800, "s"},
	"a": {31557600, "s"}, "mo": {2629800, "s"},
	"[in_i]": {0.0254, "m"}, "[ft_i]": {0.3048, "m"}, "[lb_av]": {453.59237, "g"},
	"[oz_av]": {28.349523125, "g"}, "%": {0.01, ""}, "1": {1, ""},
	"[iU]": {1, "[iU]"}, "[IU]": {1, "[iU]"}, "mm[Hg]": {133322, "g.m-1.s-2"},
	"Pa": {1000, "g.m-1.s-2"}, "kat": {1, "mol.s-1"}, "10*3": {1e3, ""}, "10*6": {1e6, ""},
	"10*9": {1e9, ""}, "10*12": {1e12, ""},
}

var ucumPrefixes = map[string]float64{
	"k": 1e3, "h": 1e2, "da": 10, "d": 0.1, "c": 0.01, "m": 1e-3, "u": 1e-6, "n": 1e-9,
	"p": 1e-12, "f": 1e-15, "M": 1e6, "G": 1e9,
}

// CanonicalUnit converts value in the UCUM unit to its base units: 5 mg is
// 0.005 g, 1 h is 3600 s. The canonical unit is a dimension string ("g",
// "g.m-3" for mg/dL). ok is false for a unit Custodian does not know.
func CanonicalUnit(value float64, unit string) (float64, string, bool) {
	if unit == "" || strings.ContainsAny(unit, "{}") && !strings.HasPrefix(unit, "{") {
		return 0, "", false
	}
	exps := map[string]int{}
	factor := 1.0
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
			return 0, "", false
		case strings.HasPrefix(term, "{") && strings.HasSuffix(term, "}"): // annotation: 1
		default:
			f, dim, exp, ok := ucumTerm(term)
			if !ok {
				return 0, "", false
			}
			exp *= sign
			factor *= math.Pow(f, float64(exp))
			for _, d := range strings.Split(dim, ".") {
				if d == "" {
					continue
				}
				base, e := splitUnitExp(d)
				exps[base] += e * exp
			}
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
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(k)
		if e := exps[k]; e != 1 {
			b.WriteString(strconv.Itoa(e))
		}
	}
	if b.Len() == 0 {
		b.WriteString("1")
	}
	return value * factor, b.String(), true
}

// ucumTerm parses one term: an atom with an optional prefix and exponent
// ("mg", "m2", "10*3").
func ucumTerm(term string) (float64, string, int, bool) {
	body, exp := term, 1
	if a, ok := ucumAtoms[term]; ok {
		return a.f, a.dim, 1, true
	}
	if i := strings.LastIndexFunc(term, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '-') }); i >= 0 && i < len(term)-1 && term[i] != '*' {
		n, err := strconv.Atoi(term[i+1:])
		if err != nil {
			return 0, "", 0, false
		}
		body, exp = term[:i+1], n
	}
	if a, ok := ucumAtoms[body]; ok {
		return a.f, a.dim, exp, true
	}
	for _, plen := range []int{2, 1} {
		if len(body) <= plen {
			continue
		}
		p, ok := ucumPrefixes[body[:plen]]
		if !ok {
			continue
		}
		if a, ok := ucumAtoms[body[plen:]]; ok && !strings.HasPrefix(body[plen:], "10*") && body[plen:] != "%" && body[plen:] != "1" {
			return p * a.f, a.dim, exp, true
		}
	}
	return 0, "", 0, false
}

func splitUnitExp(d string) (string, int) {
	i := len(d)
	for i > 0 && (d[i-1] >= '0' && d[i-1] <= '9' || d[i-1] == '-') {
		i--
	}
	if i == len(d) {
		return d, 1
	}
	n, err := strconv.Atoi(d[i:])
	if err != nil {
		return d, 1
	}
	return d[:i], n
}
