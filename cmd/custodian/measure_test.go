package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

var (
	measureDataOnce sync.Once
	measureDataDir  string
	measureDataErr  error
)

// measureData is a data directory with a small generated hospital, shared
// by the measure and registry command tests (read-only for measures).
func measureData(t *testing.T) string {
	t.Helper()
	measureDataOnce.Do(func() {
		measureDataDir, measureDataErr = makeDemoData(t, 40)
	})
	if measureDataErr != nil {
		t.Fatal(measureDataErr)
	}
	return measureDataDir
}

func makeDemoData(t *testing.T, n int) (string, error) {
	dir := t.TempDir()
	ctx := context.Background()
	a, err := openApp(ctx, dir, "", slog.New(slog.DiscardHandler))
	if err != nil {
		return "", err
	}
	defer a.Close()
	return dir, loadDemo(ctx, a.store, n, &bytes.Buffer{})
}

func runMeasure(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := (&MeasureCommand{Stdout: &out, Stderr: &errOut}).Run(context.Background(), args)
	return out.String(), err
}

func TestMeasureCommand(t *testing.T) {
	out, err := runMeasure(t, "list")
	if err != nil || !strings.Contains(out, "readmission-30day") || !strings.Contains(out, "hypertension-controlled") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, err = runMeasure(t, "show", "--measure", "mortality-stroke")
	if err != nil || !strings.Contains(out, `"resourceType": "Measure"`) {
		t.Fatalf("show: %v\n%s", err, out)
	}
	dir := measureData(t)
	out, err = runMeasure(t, "run", "--measure", "hypertension-controlled", "--period", "2024-01-01/2024-12-31", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	var mr struct {
		ResourceType string
		Type         string
		Group        []struct {
			Population []struct {
				Code  struct{ Coding []struct{ Code string } }
				Count int
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &mr); err != nil {
		t.Fatal(err)
	}
	if mr.ResourceType != "MeasureReport" || mr.Type != "summary" || len(mr.Group) != 1 || mr.Group[0].Population[0].Count == 0 {
		t.Fatalf("report: %+v", mr)
	}
	ip := mr.Group[0].Population[0].Count
	out, err = runMeasure(t, "run", "--measure", "hypertension-controlled", "--period", "2024-01-01/2024-12-31",
		"--format", "tsv", "--report", "subject-list", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "stratifier\tstratum\tinitial-population") || !strings.HasPrefix(lines[1], "all\t\t") {
		t.Fatalf("tsv head: %q", lines[:2])
	}
	listed := strings.Count(out, "\ninitial-population\tPatient/")
	if listed != ip {
		t.Errorf("tsv lists %d patients in the initial population, the report counts %d", listed, ip)
	}
	bad := []struct {
		name string
		args []string
	}{
		{"unknown measure", []string{"run", "--measure", "nope", "--period", "2024-01-01/2024-12-31", "--data", dir}},
		{"bad period", []string{"run", "--measure", "length-of-stay", "--period", "2024", "--data", dir}},
		{"reversed period", []string{"run", "--measure", "length-of-stay", "--period", "2024-12-31/2024-01-01", "--data", dir}},
		{"bad format", []string{"run", "--measure", "length-of-stay", "--period", "2024-01-01/2024-12-31", "--format", "xml", "--data", dir}},
		{"individual without subject", []string{"run", "--measure", "length-of-stay", "--period", "2024-01-01/2024-12-31", "--report", "individual", "--data", dir}},
		{"unknown subcommand", []string{"frobnicate"}},
	}
	for _, tc := range bad {
		if _, err := runMeasure(t, tc.args...); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
