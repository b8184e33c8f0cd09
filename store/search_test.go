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

func TestParseNumber(t *testing.T) {
	for _, tc := range []struct {
		in        string
		n, lo, hi float64
		ok        bool
	}{
		{"100", 100, 99.5, 100.5, true},
		{"100.0", 100, 99.95, 100.05, true},
		{"-2.5", -2.5, -2.55, -2.45, true},
		{"1e2", 100, 50, 150, true},
		{"1.5E-1", 0.15, 0.145, 0.155, true},
		{"NaN", 0, 0, 0, false},
		{"Inf", 0, 0, 0, false},
		{"1e999", 0, 0, 0, false},
		{"", 0, 0, 0, false},
		{"12abc", 0, 0, 0, false},
		{"0x10", 0, 0, 0, false},
	} {
		n, lo, hi, ok := ParseNumber(tc.in)
		if ok != tc.ok || ok && (!near(n, tc.n) || !near(lo, tc.lo) || !near(hi, tc.hi)) {
			t.Errorf("ParseNumber(%q) = %v %v %v %v, want %v %v %v %v", tc.in, n, lo, hi, ok, tc.n, tc.lo, tc.hi, tc.ok)
		}
	}
}

func TestSplitReference(t *testing.T) {
	for _, tc := range []struct{ in, typ, id string }{
		{"Patient/1", "Patient", "1"},
		{"1", "", "1"},
		{"http://x.org/fhir/Patient/1/_history/2", "Patient", "1"},
		{"urn:uuid:abc", "", "urn:uuid:abc"},
		{"http://hl7.org/fhir/ValueSet/x|4.0", "", "http://hl7.org/fhir/ValueSet/x|4.0"},
	} {
		if typ, id := SplitReference(tc.in); typ != tc.typ || id != tc.id {
			t.Errorf("SplitReference(%q) = %q %q, want %q %q", tc.in, typ, id, tc.typ, tc.id)
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
