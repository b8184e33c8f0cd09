package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestBenchWeb runs the page benchmark once over a small generated
// hospital: every page must answer 200 and be listed with its figures.
func TestBenchWeb(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a generated hospital")
	}
	dir, err := makeDemoData(t, 30)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = runBenchWeb(context.Background(), []string{"--data", dir, "--n", "2", "--period", "2024-01-01/2025-09-30"}, &out, &errOut)
	if err != nil {
		t.Fatalf("bench web: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	for _, step := range []string{"serving", "chart review index ready", "DNFB ready", "measures' record read", "dashboard counts seeded"} {
		if !strings.Contains(out.String(), step) {
			t.Errorf("the start-up does not say when %s:\n%s", step, out.String())
		}
	}
	for _, page := range []string{"dashboard", "search-name", "search-mrn", "chart-median", "chart-largest", "document",
		"dnfb-queue", "coding-workspace", "deficiency-queue", "delinquency-report", "duplicates-queue", "audit-log",
		"access-report", "measures", "measure-patients", "registries", "registry", "feeds", "roi-queue"} {
		if !containsRow(out.String(), page) {
			t.Errorf("no row for %s:\n%s", page, out.String())
		}
	}
}

// containsRow reports whether the results table has a row for page.
func containsRow(out, page string) bool {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[0] == page {
			return true
		}
	}
	return false
}

func TestBenchWebFlags(t *testing.T) {
	for _, args := range [][]string{{"--n", "0"}, {"--period", "2024"}, {"--pages", "("}, {"extra"}} {
		var out, errOut bytes.Buffer
		if err := runBenchWeb(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
