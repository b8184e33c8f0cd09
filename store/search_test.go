package store

import (
	"strings"
	"testing"
)

func TestNormalizeString(t *testing.T) {
	for _, s := range []string{"", "abc", "Abc", " a  b ", "a\tb\nC", "Ünïcode  Straße", "x ", " x", "a b", "ΣΑΣ", "x\x00y"} {
		want := strings.Join(strings.Fields(strings.ToLower(s)), " ")
		if got := NormalizeString(s); got != want {
			t.Errorf("NormalizeString(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestCanonicalUnit(t *testing.T) {
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
		{2, "10*3/uL", 2e12, "m-3"},
		{50, "%", 0.5, "1"},
		{120, "mm[Hg]", 120 * 133322, "g.m-1.s-2"},
		{25, "kg/m2", 25000, "g.m-2"},
	} {
		got, dim, ok := CanonicalUnit(tc.v, tc.unit)
		if !ok || dim != tc.dim || !near(got, tc.want) {
			t.Errorf("CanonicalUnit(%v, %q) = %v %q %v, want %v %q", tc.v, tc.unit, got, dim, ok, tc.want, tc.dim)
		}
	}
	for _, u := range []string{"", "foo", "mg//dL", "{beats}/x"} {
		if _, _, ok := CanonicalUnit(1, u); ok {
			t.Errorf("CanonicalUnit(1, %q) ok, want not", u)
		}
	}
}

func near(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-9*max(1, b)
}
