package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestEmbeddedCurrent regenerates the code-set files from the public data
// folder, when it is present, and checks the embedded ones match (run go
// generate ./codeset if not).
func TestEmbeddedCurrent(t *testing.T) {
	src := filepath.Join("..", "..", "..", "..", "shared", "data")
	if _, err := os.Stat(filepath.Join(src, "icd10cm", "PROVENANCE.md")); err != nil {
		t.Skip("the public data folder is not here")
	}
	files, err := Generate(src)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		gz, err := os.ReadFile(filepath.Join("..", "..", "data", name))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("data/%s is out of date: run go generate ./codeset", name)
		}
	}
}
