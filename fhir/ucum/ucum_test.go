package ucum_test

import (
	"math/big"
	"testing"

	"github.com/custodian-him/custodian/fhir/ucum"
)

func TestCanonical(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		unit string
		want float64
		dim  string
	}{
		{5, "mg", 0.005, "g"},
		{1, "h", 3600, "s"},
		{100, "mg/dL", 1000, "g.m-3"},
		{1, "g/L", 1000, "g.m-3"},
		{70, "kg", 70000, "g"},
		{60, "/min", 1, "s-1"},
		{72, "{beats}/min", 1.2, "s-1"},
		{2, "10*3/uL", 2e12, "m-3"},
		{50, "%", 0.5, "1"},
		{120, "mm[Hg]", 120 * 133322, "g.m-1.s-2"},
		{25, "kg/m2", 25000, "g.m-2"},
		{1, "[lb_av]", 453.59237, "g"},
		{2, "wk", 1209600, "s"},
		{5, "mmol/L", 5, "m-3.mol"},
		{3, "[iU]/mL", 3e6, "[iU].m-3"},
	} {
		got, dim, ok := ucum.Canonical(tc.v, tc.unit)
		if !ok || dim != tc.dim || !near(got, tc.want) {
			t.Errorf("Canonical(%v, %q) = %v %q %v, want %v %q", tc.v, tc.unit, got, dim, ok, tc.want, tc.dim)
		}
	}
	for _, u := range []string{"", "foo", "mg//dL", "{beats}/x", "m%", "k10*3", "Cel", "[degF]"} {
		if _, _, ok := ucum.Canonical(1, u); ok {
			t.Errorf("Canonical(1, %q) ok, want not", u)
		}
	}
}

// Factors are exact fractions, so conversions FHIRPath compares for
// equality come out equal.
func TestParseExact(t *testing.T) {
	for _, tc := range []struct{ a, b string }{{"1000 mg", "1 g"}, {"7 d", "1 wk"}, {"100 cm", "1 m"}, {"1000 mL", "1 L"}} {
		qa, qb := quantity(t, tc.a), quantity(t, tc.b)
		if qa.Cmp(qb) != 0 {
			t.Errorf("%s = %s, want equal to %s = %s", tc.a, qa.RatString(), tc.b, qb.RatString())
		}
	}
}

func quantity(t *testing.T, s string) *big.Rat {
	var v int64
	var unit string
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			unit = s[i+1:]
			break
		}
		v = v*10 + int64(s[i]-'0')
	}
	f, _, ok := ucum.Parse(unit)
	if !ok {
		t.Fatalf("unit %q not understood", unit)
	}
	return f.Mul(f, big.NewRat(v, 1))
}

func near(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-9*max(1, b)
}
