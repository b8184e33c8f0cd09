package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/synth"
)

// TestChartReview loads a small generated hospital's stays and runs
// "custodian chart review" over them twice: the first run writes a Task
// for each injected deficiency, the second changes nothing.
func TestChartReview(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	g := storeGenerated(t, dir, 100, 3, except("Observation", "DiagnosticReport", "MedicationRequest", "ImagingStudy", "AllergyIntolerance"))
	c := g.col
	g.app.Close()
	want := map[string]int{}
	for _, f := range c.Facts {
		if f.Kind == synth.FactDeficiency {
			want[f.Detail]++
		}
	}
	if len(want) == 0 {
		t.Fatal("the generated data has no deficiencies to find")
	}
	run := func(args ...string) map[string]any {
		t.Helper()
		var out, errs bytes.Buffer
		cmd := &ChartCommand{Stdout: &out, Stderr: &errs}
		if err := cmd.Run(ctx, append([]string{"review", "--data", dir}, args...)); err != nil {
			t.Fatalf("%v: %s", err, errs.String())
		}
		var res map[string]any
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("%v: %s", err, out.String())
		}
		return res["summary"].(map[string]any)
	}
	first := run("--from", "2022-10-01", "--to", "2025-09-30", "--as-of", "2025-09-30", "--format", "json")
	byKind := first["byKind"].(map[string]any)
	for k, n := range want {
		if got, _ := byKind[k].(float64); int(got) != n {
			t.Errorf("%s: found %v, injected %d", k, byKind[k], n)
		}
	}
	if len(byKind) != len(want) {
		t.Errorf("found kinds %v, injected %v", byKind, want)
	}
	second := run("--from", "2022-10-01", "--to", "2025-09-30", "--as-of", "2025-09-30", "--format", "json")
	for _, k := range []string{"created", "updated", "closed", "reopened"} {
		if second[k].(float64) != 0 {
			t.Errorf("second review %s %v Tasks", k, second[k])
		}
	}

	var out bytes.Buffer
	cmd := &ChartCommand{Stdout: &out, Stderr: &out}
	if err := cmd.Run(ctx, []string{"review", "--data", dir, "--from", "2024-01-01", "--to", "2024-12-31", "--as-of", "2025-09-30"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "encounters reviewed") {
		t.Errorf("text summary: %s", out.String())
	}
	for _, bad := range [][]string{
		{"review", "--data", dir, "--from", "yesterday", "--to", "2024-01-01"},
		{"review", "--data", dir, "--from", "2024-02-01", "--to", "2024-01-01"},
		{"review", "--data", dir, "--from", "2024-01-01", "--to", "2024-02-01", "--format", "xml"},
		{"summarise"},
	} {
		err := (&ChartCommand{Stdout: &out, Stderr: &out}).Run(ctx, bad)
		if custodian.ErrorCode(err) != custodian.EINVALID {
			t.Errorf("%v: error %v, want EINVALID", bad, err)
		}
	}
}
