package web

import (
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/store"
)

func TestNiceMax(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{
		{0, 1}, {0.3, 0.5}, {1, 1}, {3, 5}, {62, 100}, {1102, 2000}, {2000, 2000}, {2001, 5000},
	} {
		if got := niceMax(tc.in); got != tc.want {
			t.Errorf("niceMax(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestChartsEscapeLabels(t *testing.T) {
	c := Chart{ID: "x", Title: `a <b> & "c"`, Points: []Point{{Label: `<script>alert(1)</script>`, Value: 3}}}
	barChart(&c)
	if strings.Contains(string(c.SVG), "<script>") || !strings.Contains(string(c.SVG), "&lt;script&gt;") {
		t.Errorf("a label is not escaped: %s", c.SVG)
	}
	lab := Chart{ID: "y", Title: "t", Points: []Point{
		{When: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Value: 5, Text: "5 <%>"},
		{When: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), Value: 7, Text: "7 %", Flag: "H"},
	}}
	trendChart(&lab, 4, 6, true)
	svg := string(lab.SVG)
	if !strings.Contains(svg, `class="range"`) || !strings.Contains(svg, `class="pt flag"`) || strings.Contains(svg, "<%>") {
		t.Errorf("trend chart: %s", svg)
	}
	if strings.Count(svg, "<circle") != 2 {
		t.Errorf("trend chart draws %d points, want 2", strings.Count(svg, "<circle"))
	}
}

func TestFHIRViews(t *testing.T) {
	p, err := store.Decode([]byte(`{"resourceType":"Patient","name":[{"use":"nickname","given":["Bob"]},{"use":"official","family":"Smith","given":["Robert","J"],"suffix":["Jr"]}],
		"identifier":[{"type":{"coding":[{"code":"SS"}]},"value":"999-00-1111"},{"type":{"coding":[{"code":"MR"}]},"system":"urn:other","value":"M1"}],"birthDate":"1970-06-15"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, got, want string }{
		{"official name", patientName(p), "Smith, Robert J Jr"},
		{"MRN by type", mrn(p), "M1"},
		{"age before the birthday", age("1970-06-15", time.Date(2025, 6, 14, 0, 0, 0, 0, time.UTC)), "54"},
		{"age on the birthday", age("1970-06-15", time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC)), "55"},
		{"same-day period", period(map[string]any{"start": "2024-04-23T09:30:00-05:00", "end": "2024-04-23T09:50:00-05:00"}), "2024-04-23 09:30–09:50"},
		{"open period", period(map[string]any{"start": "2024-04-23"}), "2024-04-23 –"},
		{"concept text first", concept(map[string]any{"text": "HTN", "coding": []any{map[string]any{"display": "Hypertension"}}}), "HTN"},
		{"concept display", concept(map[string]any{"coding": []any{map[string]any{"code": "I10"}, map[string]any{"display": "Hypertension"}}}), "Hypertension"},
		{"kind of a PDF", kindOf("application/pdf"), "pdf"},
		{"kind of HTML", kindOf("text/html; charset=utf-8"), "file"},
		{"kind of a PNG", kindOf("IMAGE/PNG"), "image"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}
