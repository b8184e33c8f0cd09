package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedFilesAreCurrent regenerates the embedded tables from the
// shared data and compares them with the files in drg/data. It needs
// Custodian's shared data beside the clone or CUSTODIAN_SHARED_DATA pointing
// at it; without them it is skipped.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	src := os.Getenv("CUSTODIAN_SHARED_DATA")
	if src == "" {
		src = filepath.Join("..", "..", "..", "..", "shared", "data")
	}
	if _, err := os.Stat(filepath.Join(src, "msdrg", "tables")); err != nil {
		t.Skipf("the MS-DRG tables are not here (set CUSTODIAN_SHARED_DATA): %v", err)
	}
	files, err := Generate(src)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		raw, err := os.ReadFile(filepath.Join("..", "..", "data", name))
		if err != nil {
			t.Fatalf("%s: %v (run go generate in drg)", name, err)
		}
		z, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := io.ReadAll(z)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("data/%s is not current: run go generate in drg", name)
		}
	}
}
