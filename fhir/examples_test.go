package fhir_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/internal/fhirexamples"
)

// TestExamples validates every resource of the official R4 examples
// package (hl7.fhir.r4.examples 4.0.1, carried in testdata/fhir-r4). Each
// must be free of errors unless it is listed, with its reason, in
// testdata/examples-known-invalid.txt.
func TestExamples(t *testing.T) {
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
	err := fhirexamples.Each(func(name string, data []byte) error {
		work <- example{name, data}
		return nil
	})
	close(work)
	wg.Wait()
	if err != nil {
		t.Fatalf("read the examples: %v", err)
	}
	for name := range known {
		if !seenKnown[name] {
			t.Errorf("%s is in examples-known-invalid.txt but not in the package", name)
		}
	}
	if total < 5000 {
		t.Errorf("only %d examples found; expected 5,306", total)
	}
	t.Logf("%d of %d examples valid, %d known invalid", passed, total, len(known))
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
