// Package fhirexamples reads the FHIR test data the repository carries in
// testdata/: the official R4 examples package and the Synthea bundles.
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

// testdata returns the path of a file under the repository's testdata.
func testdata(rel string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", rel)
}

// Each calls fn with the name (e.g. "Patient-example.json") and content of
// every JSON resource of the official R4 examples package, in archive order.
func Each(fn func(name string, body []byte) error) error {
	return eachInArchive(testdata("fhir-r4/examples.tar.zst"), "package/", fn)
}

// EachSynthea calls fn with the name and content of every Synthea bundle:
// the two shared batch bundles (organisations and practitioners) first, then
// the 79 patient transaction bundles.
func EachSynthea(fn func(name string, body []byte) error) error {
	var patients [][2]string
	err := eachInArchive(testdata("synthea/bundles.tar.zst"), "synthea/", func(name string, body []byte) error {
		if strings.HasPrefix(name, "hospitalInformation") || strings.HasPrefix(name, "practitionerInformation") {
			return fn(name, body)
		}
		patients = append(patients, [2]string{name, string(body)})
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range patients {
		if err := fn(p[0], []byte(p[1])); err != nil {
			return err
		}
	}
	return nil
}

func eachInArchive(path, prefix string, fn func(name string, body []byte) error) error {
	f, err := os.Open(path)
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
		name := strings.TrimPrefix(h.Name, prefix)
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
