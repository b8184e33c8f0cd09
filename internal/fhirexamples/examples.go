// Package fhirexamples reads the official FHIR R4 examples package that the
// repository carries in testdata/fhir-r4, for conformance tests.
package fhirexamples

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Path is the location of the examples archive in the repository.
func Path() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "fhir-r4", "examples.tar.zst")
}

// Each calls fn with the name (e.g. "Patient-example.json") and content of
// every JSON resource of the package, in archive order.
func Each(fn func(name string, body []byte) error) error {
	f, err := os.Open(Path())
	if err != nil {
		return fmt.Errorf("fhirexamples: %w", err)
	}
	defer f.Close()
	zr, err := zstd.NewReader(f, zstd.WithDecoderMaxWindow(1<<27), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return err
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(h.Name, "package/")
		if h.Typeflag != tar.TypeReg || !strings.HasSuffix(name, ".json") || name == "package.json" || strings.HasPrefix(name, ".") {
			continue
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		if err := fn(name, body); err != nil {
			return err
		}
	}
}
