package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportCommand(t *testing.T) {
	src := t.TempDir()
	good := `{"resourceType":"Patient","id":"a","gender":"female"}` + "\n" +
		`{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/nobody"}}` + "\n"
	bad := `{"resourceType":"Patient","id":"b","gender":"robot"}` + "\n"
	os.WriteFile(filepath.Join(src, "good.ndjson"), []byte(good), 0o644)
	os.WriteFile(filepath.Join(src, "bad.ndjson"), []byte(bad), 0o644)
	data := t.TempDir()
	no := false
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		c := &ImportCommand{Stdout: &out, Stderr: &out, Progress: &no}
		err := c.Run(context.Background(), append([]string{"--data", data}, args...))
		return out.String(), err
	}

	out, err := run(filepath.Join(src, "good.ndjson"), filepath.Join(src, "bad.ndjson"))
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	for _, want := range []string{"Imported 2 resources", "Rejected 1 records", "1 dangling", "Patient/nobody", "Error report: "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	report := out[strings.Index(out, "Error report: ")+len("Error report: "):]
	b, err := os.ReadFile(strings.TrimSpace(report))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(b), "\n"); lines != 2 || !strings.Contains(string(b), `"line":1`) {
		t.Errorf("report:\n%s\nwant the rejected line and the dangling reference", b)
	}

	// --strict fails on any rejection; nothing loadable fails anyway.
	if _, err := run("--strict", "--restart", filepath.Join(src, "bad.ndjson")); err == nil {
		t.Error("--strict with a rejected record: no error")
	}
	if _, err := run("--restart", filepath.Join(src, "bad.ndjson")); err == nil {
		t.Error("nothing loaded, all rejected: no error")
	}
	if _, err := run(filepath.Join(src, "missing.ndjson")); err == nil {
		t.Error("a missing file: no error")
	}
}
