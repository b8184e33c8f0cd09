package fhir_test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
)

// examplesEnv names the official examples package (a .tgz) to validate.
const examplesEnv = "CUSTODIAN_FHIR_EXAMPLES"

// defaultExamples is where CI keeps the shared data: beside the clone.
var defaultExamples = filepath.Join("..", "..", "shared", "data", "fhir-r4", "hl7.fhir.r4.examples-4.0.1.tgz")

// TestExamples validates every resource of the official R4 examples
// package (hl7.fhir.r4.examples 4.0.1). Each must be free of errors unless
// it is listed, with its reason, in testdata/examples-known-invalid.txt.
// The package is too large for the repository, so the test reads it from
// $CUSTODIAN_FHIR_EXAMPLES or ../shared beside the clone, and fails when
// it is missing: conformance is not optional.
func TestExamples(t *testing.T) {
	path := os.Getenv(examplesEnv)
	if path == "" {
		path = defaultExamples
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the official R4 examples package is needed: set %s to hl7.fhir.r4.examples-4.0.1.tgz "+
			"or put Custodian's shared data beside the clone (%s): %v", examplesEnv, defaultExamples, err)
	}
	defer f.Close()
	known := readKnownInvalid(t)
	defs := fhir.R4()

	// Decoding dominates, so validate on every core; this also exercises
	// concurrent use of the shared definitions.
	type example struct {
		name string
		data []byte
	}
	var (
		mu            sync.Mutex
		total, passed int
		seenKnown     = map[string]bool{}
		work          = make(chan example)
		wg            sync.WaitGroup
	)
	check := func(ex example) {
		res, err := decode(ex.data)
		if err != nil {
			t.Errorf("%s: %v", ex.name, err)
			return
		}
		errs := errorIssues(defs.Validate(res))
		mu.Lock()
		defer mu.Unlock()
		total++
		if reason, ok := known[ex.name]; ok {
			seenKnown[ex.name] = true
			if len(errs) == 0 {
				t.Errorf("%s is listed as invalid (%s) but validates: remove it from the list", ex.name, reason)
			}
			return
		}
		if len(errs) > 0 {
			t.Errorf("%s: %d errors, e.g. %s %s: %s", ex.name, len(errs), errs[0].Code, errs[0].Path, errs[0].Message)
			for _, is := range errs[1:min(len(errs), 5)] {
				t.Logf("  %s %s: %s", is.Code, is.Path, is.Message)
			}
			return
		}
		passed++
	}
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for ex := range work {
				check(ex)
			}
		})
	}
	err = eachExample(f, func(name string, data []byte) { work <- example{name, data} })
	close(work)
	wg.Wait()
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	for name := range known {
		if !seenKnown[name] {
			t.Errorf("%s is in examples-known-invalid.txt but not in the package", name)
		}
	}
	if total < 5000 {
		t.Errorf("only %d examples found in %s; expected 5,306", total, path)
	}
	t.Logf("%d of %d examples valid, %d known invalid", passed, total, len(known))
}

// eachExample calls fn with every FHIR JSON file in the package tarball.
func eachExample(r io.Reader, fn func(name string, data []byte)) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(h.Name, "package/")
		if h.Typeflag != tar.TypeReg || !strings.HasSuffix(name, ".json") ||
			strings.Contains(name, "/") || name == "package.json" || strings.HasPrefix(name, ".") {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		fn(name, data)
	}
}

func decode(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	err := dec.Decode(&m)
	return m, err
}

func errorIssues(issues []custodian.Issue) []custodian.Issue {
	var out []custodian.Issue
	for _, is := range issues {
		if is.Severity == fhir.SeverityError {
			out = append(out, is)
		}
	}
	return out
}

// readKnownInvalid reads "file.json  reason" lines; # starts a comment.
func readKnownInvalid(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "examples-known-invalid.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, _ := strings.Cut(line, " ")
		if strings.TrimSpace(reason) == "" {
			t.Fatalf("examples-known-invalid.txt: %s has no reason", name)
		}
		out[name] = strings.TrimSpace(reason)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
