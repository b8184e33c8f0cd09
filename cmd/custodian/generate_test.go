package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerateCommand(t *testing.T) {
	dirs := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}
	for i, dir := range dirs {
		var out, errOut bytes.Buffer
		args := []string{"generate", "--patients", "25", "--seed", "9", "--out", dir}
		if i == 1 {
			args = append(args, "--workers", "1")
		}
		if err := Run(context.Background(), args, &out, &errOut); err != nil {
			t.Fatalf("generate: %v\n%s", err, errOut.String())
		}
		if !strings.Contains(out.String(), "resources/s") || !strings.Contains(out.String(), "Patient") {
			t.Errorf("summary lacks counts or rate:\n%s", out.String())
		}
	}
	for _, name := range []string{"Patient.ndjson", "Encounter.ndjson", "DocumentReference.ndjson", "ground-truth.ndjson"} {
		a, err := os.ReadFile(filepath.Join(dirs[0], name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dirs[1], name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
	// A directory that already holds output is refused.
	if err := Run(context.Background(), []string{"generate", "--patients", "1", "--out", dirs[0]}, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("generating into a used directory succeeded")
	}
	// Flags are checked.
	for _, args := range [][]string{{"generate"}, {"generate", "--out", t.TempDir(), "--start", "2024-13-01"}, {"generate", "--out", t.TempDir(), "--patients", "-3"}} {
		if err := Run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("%v succeeded", args)
		}
	}
}

func TestGenerateGzip(t *testing.T) {
	dir := t.TempDir()
	if err := Run(context.Background(), []string{"generate", "--patients", "5", "--gzip", "--out", dir}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "Patient.ndjson.gz")); err != nil {
		t.Error(err)
	}
}
