package ingest_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/ingest"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
)

// TestImportSpeed measures an import of a large NDJSON file: resources per
// second and the process's peak memory. It runs only when
// CUSTODIAN_IMPORT_BENCH is set to the number of resources (e.g. 200000):
//
//	CUSTODIAN_IMPORT_BENCH=200000 go test -run ImportSpeed -v ./ingest
//
// The file is made of the Synthea sample's resources cloned with fresh ids,
// their references rewritten to literal ones ("Patient/…"), so every
// reference resolves. CUSTODIAN_IMPORT_BENCH_DIR keeps the data and the
// database in a directory of your choice (the default is a temporary one).
func TestImportSpeed(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CUSTODIAN_IMPORT_BENCH"))
	if n <= 0 {
		t.Skip("set CUSTODIAN_IMPORT_BENCH=N (resources) to measure import speed")
	}
	dir := os.Getenv("CUSTODIAN_IMPORT_BENCH_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "bench.ndjson")
	written, size := writeClones(t, path, n)
	t.Logf("wrote %d resources, %.1f MiB", written, float64(size)/(1<<20))

	e := newEnv(t, filepath.Join(dir, "data"))
	before := vmHWM(t)
	start := time.Now()
	sum, report, err := e.run(t, ingest.Options{Restart: true}, path)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if sum.Rejected != 0 {
		t.Errorf("%d rejected: %+v", sum.Rejected, report[:min(3, len(report))])
	}
	if sum.Dangling != 0 {
		t.Errorf("%d dangling references: %v", sum.Dangling, sum.DanglingRefs)
	}
	t.Logf("imported %d resources in %s: %.0f resources/s on %d CPUs; peak RSS %d MiB (%d MiB before the import)",
		sum.Loaded, took.Round(time.Millisecond), float64(sum.Loaded)/took.Seconds(), runtime.NumCPU(), vmHWM(t)>>10, before>>10)
}

// vmHWM is the peak resident set size of this process in KiB.
func vmHWM(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Log("no /proc/self/status: peak memory unknown")
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

// writeClones writes at least n resources to path: copies of the Synthea
// sample with ids suffixed by the copy number. urn:uuid references become
// Type/id references to the same copy; conditional references become
// references to shared resources written once at the start.
func writeClones(t *testing.T, path string, n int) (written int, size int64) {
	t.Helper()
	var lines []string
	types := map[string]string{}
	first := map[string]string{} // a resource of each type
	for _, r := range sqldbtest.ReadNDJSON(t, filepath.Join("..", "fhir", "testdata", "synthea-sample.ndjson.gz")) {
		types[r.ID] = r.Type
		if first[r.Type] == "" {
			first[r.Type] = r.ID
		}
		lines = append(lines, string(r.Body))
	}
	// Templates: ids and urn:uuid references get a {K} suffix; conditional
	// references point at shared resources.
	shared := map[string]string{} // conditional reference → shared resource
	var templates []string
	for _, l := range lines {
		for id, typ := range types {
			l = strings.ReplaceAll(l, `"urn:uuid:`+id+`"`, `"`+typ+`/`+id+`-{K}"`)
			l = strings.ReplaceAll(l, `"id":"`+id+`"`, `"id":"`+id+`-{K}"`)
		}
		for {
			i := strings.Index(l, `"reference":"`)
			if i < 0 {
				break
			}
			rest := l[i+len(`"reference":"`):]
			ref := rest[:strings.IndexByte(rest, '"')]
			typ, criteria, ok := strings.Cut(ref, "?")
			if !ok || strings.Contains(typ, "/") {
				// Literal (or contained). The sample is part of a bigger
				// load: point what it does not hold at one it does.
				if t, id, lit := strings.Cut(ref, "/"); lit && types[id] == t {
					rest = ref + "-{K}" + rest[len(ref):]
				} else if lit && first[t] != "" {
					rest = t + "/" + first[t] + "-{K}" + rest[len(ref):]
				}
				l = l[:i] + `"reference" :"` + rest
				continue
			}
			h := sha256.Sum256([]byte(ref))
			id := "shared-" + hex.EncodeToString(h[:8])
			if _, ok := shared[ref]; !ok {
				sys, val, _ := strings.Cut(strings.TrimPrefix(criteria, "identifier="), "|")
				shared[ref] = fmt.Sprintf(`{"resourceType":%q,"id":%q,"identifier":[{"system":%q,"value":%q}]}`, typ, id, sys, val)
			}
			l = l[:i] + `"reference" :"` + typ + "/" + id + rest[len(ref):]
		}
		templates = append(templates, strings.ReplaceAll(l, `"reference" :"`, `"reference":"`))
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(out, 1<<20)
	for _, s := range shared {
		w.WriteString(s + "\n")
		written++
	}
	for k := 0; written < n; k++ {
		ks := strconv.Itoa(k)
		for _, tpl := range templates {
			w.WriteString(strings.ReplaceAll(tpl, "{K}", ks))
			w.WriteByte('\n')
			written++
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	fi, err := out.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return written, fi.Size()
}
