package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/ingest"
	"github.com/custodian-him/custodian/internal/fhirexamples"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqlite"
	"github.com/custodian-him/custodian/store"
)

var (
	regOnce sync.Once
	reg     *search.Registry
	regErr  error
)

// env is a store on a real SQLite database in a temporary directory.
type env struct {
	dir string
	db  *sqldb.DB
	st  *store.Store
	ctx context.Context
}

func newEnv(tb testing.TB, dir string) *env {
	tb.Helper()
	regOnce.Do(func() { reg, regErr = search.NewR4(fhir.R4()) })
	if regErr != nil {
		tb.Fatal(regErr)
	}
	ctx := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.RegisterParams(ctx, reg.Indexed()); err != nil {
		tb.Fatal(err)
	}
	return &env{dir: dir, db: db, st: store.New(db, fhir.R4(), reg), ctx: ctx}
}

// run imports paths with a fresh Importer and returns its summary and the
// report records.
func (e *env) run(tb testing.TB, opt ingest.Options, paths ...string) (*ingest.Summary, []ingest.ReportRecord, error) {
	tb.Helper()
	var report bytes.Buffer
	opt.Report = &report
	if opt.StateDir == "" {
		opt.StateDir = ingest.StateDir(e.dir)
	}
	im := &ingest.Importer{Store: e.st, Options: opt}
	sum, err := im.Run(e.ctx, paths)
	return sum, readReport(tb, report.Bytes()), err
}

func readReport(tb testing.TB, b []byte) []ingest.ReportRecord {
	tb.Helper()
	var out []ingest.ReportRecord
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var r ingest.ReportRecord
		if err := json.Unmarshal(line, &r); err != nil {
			tb.Fatalf("report line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// count returns the number of rows of a table.
func (e *env) count(tb testing.TB, table string) int {
	tb.Helper()
	var n int
	if err := e.db.SQL().QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

func writeFile(tb testing.TB, path string, data []byte) string {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

func gz(tb testing.TB, data []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func patient(id string) string {
	return fmt.Sprintf(`{"resourceType":"Patient","id":%q,"gender":"female","birthDate":"1970-01-0%d"}`, id, 1+len(id)%9)
}

func observation(id, subject string) string {
	return fmt.Sprintf(`{"resourceType":"Observation","id":%q,"status":"final","code":{"text":"x"},"subject":{"reference":%q}}`, id, subject)
}

func TestNDJSONBadLines(t *testing.T) {
	lines := []struct {
		text string
		bad  string // the error code expected in the report; "" for a good line
	}{
		{patient("p1"), ""},
		{`{"resourceType":"Patient","id":"p2",`, "invalid"}, // malformed JSON
		{``, ""}, // blank: not a record
		{`{"resourceType":"Patient","id":"p3","gender":"robot"}`, "invalid"},                       // not in the required value set
		{`{"resourceType":"Patient","id":"p4","active":"yes"}`, "invalid"},                         // wrong type
		{`{"resourceType":"Nonsense","id":"n1"}`, "invalid"},                                       // unknown type
		{`{"id":"x1"}`, "invalid"},                                                                 // no resourceType
		{`[1,2,3]`, "invalid"},                                                                     // not an object
		{`{"resourceType":"Patient","id":"bad id!"}`, "invalid"},                                   // id breaks the rules
		{observation("o1", "Patient/p1"), ""},                                                      // good
		{"{\"resourceType\":\"Patient\",\"id\":\"p5\",\"name\":[{\"text\":\"\xff\"}]}", "invalid"}, // not UTF-8
		{patient("p6"), ""},
	}
	var b strings.Builder
	wantBad := map[int64]string{}
	good := 0
	for i, l := range lines {
		b.WriteString(l.text + "\n")
		if l.bad != "" {
			wantBad[int64(i+1)] = l.bad
		} else if l.text != "" {
			good++
		}
	}
	for name, data := range map[string][]byte{
		"plain.ndjson": []byte(b.String()),
		"gz.ndjson.gz": gz(t, []byte(b.String())),
		"noext":        gz(t, []byte(b.String())), // gzip found by its magic bytes, NDJSON by content
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, t.TempDir())
			path := writeFile(t, filepath.Join(t.TempDir(), name), data)
			sum, report, err := e.run(t, ingest.Options{BatchSize: 3}, path)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Loaded != int64(good) || sum.Created != int64(good) || sum.Rejected != int64(len(wantBad)) {
				t.Errorf("loaded %d (created %d), rejected %d; want %d, %d", sum.Loaded, sum.Created, sum.Rejected, good, len(wantBad))
			}
			if n := e.count(t, "resources"); n != good {
				t.Errorf("%d resources stored, want %d", n, good)
			}
			got := map[int64]string{}
			for _, r := range report {
				if r.Reference != "" {
					continue
				}
				if r.File != path {
					t.Errorf("report names file %q, want %q", r.File, path)
				}
				issues, _ := r.Outcome["issue"].([]any)
				if r.Outcome["resourceType"] != "OperationOutcome" || len(issues) == 0 {
					t.Errorf("line %d: outcome %v is not an OperationOutcome with issues", r.Line, r.Outcome)
				}
				got[r.Line] = custodian.EINVALID
			}
			for line := range wantBad {
				if _, ok := got[line]; !ok {
					t.Errorf("line %d is not in the report", line)
				}
			}
			if len(got) != len(wantBad) {
				t.Errorf("report lines %v, want %v", got, wantBad)
			}
		})
	}
}

func TestValidationIssuesHavePaths(t *testing.T) {
	e := newEnv(t, t.TempDir())
	path := writeFile(t, filepath.Join(t.TempDir(), "Patient.ndjson"), []byte(patient("a")+"\n"+`{"resourceType":"Patient","id":"b","active":"yes"}`+"\n"))
	_, report, err := e.run(t, ingest.Options{}, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(report) != 1 || report[0].Line != 2 || report[0].ID != "b" || report[0].ResourceType != "Patient" {
		t.Fatalf("report = %+v, want line 2, Patient/b", report)
	}
	b, _ := json.Marshal(report[0].Outcome)
	if !strings.Contains(string(b), "Patient.active") {
		t.Errorf("the outcome %s does not locate the problem (Patient.active)", b)
	}
}

func TestLineTooLong(t *testing.T) {
	e := newEnv(t, t.TempDir())
	long := `{"resourceType":"Patient","id":"long","name":[{"text":"` + strings.Repeat("x", 5000) + `"}]}`
	path := writeFile(t, filepath.Join(t.TempDir(), "p.ndjson"), []byte(patient("a")+"\n"+long+"\n"+patient("b")))
	sum, report, err := e.run(t, ingest.Options{MaxLine: 1000}, path)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != 2 || sum.Rejected != 1 || len(report) != 1 || report[0].Line != 2 {
		t.Fatalf("loaded %d, rejected %d, report %+v; want 2, 1, line 2", sum.Loaded, sum.Rejected, report)
	}
}

// writeSynthea writes the two shared Synthea bundles and n patient bundles
// into a directory, and returns it with the number of resources written.
func writeSynthea(t *testing.T, n int) (string, int) {
	dir := t.TempDir()
	resources, patients := 0, 0
	err := fhirexamples.EachSynthea(func(name string, body []byte) error {
		info := strings.HasPrefix(name, "hospitalInformation") || strings.HasPrefix(name, "practitionerInformation")
		if !info {
			if patients == n {
				return nil
			}
			patients++
		}
		var b struct{ Entry []any }
		if err := json.Unmarshal(body, &b); err != nil {
			return err
		}
		resources += len(b.Entry)
		writeFile(t, filepath.Join(dir, "fhir", name), body)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir, resources
}

func TestSyntheaDirectory(t *testing.T) {
	src, n := writeSynthea(t, 3)
	e := newEnv(t, t.TempDir())
	sum, report, err := e.run(t, ingest.Options{}, src)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rejected != 0 || len(report) != 0 {
		t.Fatalf("rejected %d: %+v", sum.Rejected, report)
	}
	if sum.Loaded != int64(n) || e.count(t, "resources") != n {
		t.Fatalf("loaded %d, stored %d; want %d", sum.Loaded, e.count(t, "resources"), n)
	}
	if sum.Dangling != 0 || sum.References == 0 {
		t.Errorf("references %d, dangling %d (%v); want some and none dangling", sum.References, sum.Dangling, sum.DanglingRefs)
	}
	// A patient's resources point at the practitioners loaded before them.
	var practitioners int
	e.db.SQL().QueryRow(`SELECT count(*) FROM idx_reference WHERE ref_type = 'Practitioner'`).Scan(&practitioners)
	if practitioners == 0 {
		t.Error("no references to practitioners were resolved")
	}

	// Run again: every file is checkpointed as done.
	sum, _, err = e.run(t, ingest.Options{}, src)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped != sum.Files || sum.Loaded != 0 {
		t.Errorf("second run: skipped %d of %d files, loaded %d; want all skipped", sum.Skipped, sum.Files, sum.Loaded)
	}
	// And from scratch: the data is already there, nothing changes.
	versions := e.count(t, "versions")
	sum, _, err = e.run(t, ingest.Options{Restart: true}, src)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Unchanged != int64(n) || e.count(t, "versions") != versions || e.count(t, "resources") != n {
		t.Errorf("re-import: unchanged %d (created %d, updated %d), versions %d→%d; want %d unchanged and no new version",
			sum.Unchanged, sum.Created, sum.Updated, versions, e.count(t, "versions"), n)
	}
}

func TestBundles(t *testing.T) {
	dir := t.TempDir()
	badTx := `{"resourceType":"Bundle","type":"transaction","entry":[
		{"fullUrl":"urn:uuid:a","resource":` + patient("t1") + `,"request":{"method":"PUT","url":"Patient/t1"}},
		{"resource":{"resourceType":"Patient","id":"t2","gender":"robot"},"request":{"method":"PUT","url":"Patient/t2"}}]}`
	goodTx := `{"resourceType":"Bundle","type":"transaction","entry":[
		{"fullUrl":"urn:uuid:b","resource":{"resourceType":"Patient","gender":"male"},"request":{"method":"POST","url":"Patient"}},
		{"fullUrl":"urn:uuid:c","resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:b"}},"request":{"method":"POST","url":"Observation"}}]}`
	batch := `{"resourceType":"Bundle","type":"batch","entry":[
		{"resource":` + patient("b1") + `,"request":{"method":"PUT","url":"Patient/b1"}},
		{"resource":{"resourceType":"Patient","id":"b2","gender":"robot"},"request":{"method":"PUT","url":"Patient/b2"}},
		{"resource":` + patient("b3") + `,"request":{"method":"POST","url":"Patient"}}]}`
	collection := `{"resourceType":"Bundle","type":"collection","entry":[
		{"fullUrl":"urn:uuid:d","resource":` + patient("c1") + `},
		{"resource":` + observation("c2", "urn:uuid:d") + `},
		{"resource":` + observation("c3", "Patient/nowhere") + `}]}`
	writeFile(t, filepath.Join(dir, "a-badtx.json"), []byte(badTx))
	writeFile(t, filepath.Join(dir, "b-goodtx.json"), []byte(goodTx))
	writeFile(t, filepath.Join(dir, "c-batch.json"), []byte(batch))
	writeFile(t, filepath.Join(dir, "d-collection.json.gz"), gz(t, []byte(collection)))
	writeFile(t, filepath.Join(dir, "e-single.json"), []byte(patient("s1")))
	writeFile(t, filepath.Join(dir, "notes.txt"), []byte("not data"))

	e := newEnv(t, t.TempDir())
	sum, report, err := e.run(t, ingest.Options{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	// goodTx 2 + batch 2 + collection 3 + single 1.
	if sum.Loaded != 8 || sum.Rejected != 2 {
		t.Errorf("loaded %d, rejected %d; want 8 and 2", sum.Loaded, sum.Rejected)
	}
	var rejectedEntries []string
	for _, r := range report {
		if r.Reference != "" {
			continue
		}
		entry := -1
		if r.Entry != nil {
			entry = *r.Entry
		}
		rejectedEntries = append(rejectedEntries, fmt.Sprintf("%s#%d", filepath.Base(r.File), entry))
	}
	for _, want := range []string{"a-badtx.json#1", "c-batch.json#1"} {
		if !strings.Contains(strings.Join(rejectedEntries, " "), want) {
			t.Errorf("report %v lacks %s", rejectedEntries, want)
		}
	}
	// The collection's urn:uuid reference now names the patient.
	r, err := e.st.Read(e.ctx, "Observation", "c2")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(r.Body, []byte(`"reference":"Patient/c1"`)) {
		t.Errorf("c2 = %s; want its subject rewritten to Patient/c1", r.Body)
	}
	if _, err := e.st.Read(e.ctx, "Patient", "t1"); custodian.ErrorCode(err) != custodian.ENOTFOUND {
		t.Errorf("Patient/t1 of the refused transaction: err = %v, want not found", err)
	}
	// POST with an id keeps the id (so a re-import adds nothing).
	if _, err := e.st.Read(e.ctx, "Patient", "b3"); err != nil {
		t.Errorf("Patient/b3 (POSTed with its id): %v", err)
	}
	if sum.Dangling != 1 || len(sum.DanglingRefs) != 1 || sum.DanglingRefs[0] != "Patient/nowhere" {
		t.Errorf("dangling %d %v; want Patient/nowhere", sum.Dangling, sum.DanglingRefs)
	}
}

func TestDanglingReferences(t *testing.T) {
	e := newEnv(t, t.TempDir())
	// One patient exists before the import.
	first := writeFile(t, filepath.Join(t.TempDir(), "Patient.ndjson"), []byte(patient("before")+"\n"))
	if _, _, err := e.run(t, ingest.Options{}, first); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Observations come first in the file and point forward at a patient
	// loaded later, back at the one already stored, and at nothing.
	writeFile(t, filepath.Join(dir, "Observation.ndjson"), []byte(strings.Join([]string{
		observation("o1", "Patient/later"),
		observation("o2", "Patient/before"),
		observation("o3", "Patient/ghost"),
		observation("o4", "Patient/ghost/_history/2"),
		observation("o5", "#contained"),
		observation("o6", "http://elsewhere.example/fhir/Patient/1"),
	}, "\n")))
	writeFile(t, filepath.Join(dir, "zz-late.ndjson"), []byte(patient("later")+"\n"))
	sum, report, err := e.run(t, ingest.Options{BatchSize: 2}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Dangling != 1 || sum.DanglingRefs[0] != "Patient/ghost" {
		t.Fatalf("dangling %d %v; want Patient/ghost only", sum.Dangling, sum.DanglingRefs)
	}
	var found bool
	for _, r := range report {
		if r.Reference == "Patient/ghost" {
			found = true
			if r.Line != 3 && r.Line != 4 || !strings.HasSuffix(r.File, "Observation.ndjson") {
				t.Errorf("dangling reference reported at %s line %d; want Observation.ndjson line 3 or 4", r.File, r.Line)
			}
		}
	}
	if !found {
		t.Errorf("report %+v lacks Patient/ghost", report)
	}
}

// cancelling wraps a store and cancels the import after some batches.
type cancelling struct {
	ingest.Store
	after  int32
	calls  atomic.Int32
	cancel context.CancelFunc
}

func (c *cancelling) PutBatchUnsynced(ctx context.Context, rs []map[string]any) ([]store.BatchResult, error) {
	if c.calls.Add(1) > c.after {
		c.cancel()
	}
	return c.Store.PutBatchUnsynced(ctx, rs)
}

func TestResume(t *testing.T) {
	const n = 3000
	var b strings.Builder
	for i := range n {
		if i%10 == 0 {
			b.WriteString(patient(fmt.Sprintf("p%d", i)) + "\n")
		} else {
			b.WriteString(observation(fmt.Sprintf("o%d", i), fmt.Sprintf("Patient/p%d", i/10*10)) + "\n")
		}
	}
	for name, data := range map[string][]byte{"plain.ndjson": []byte(b.String()), "gz.ndjson.gz": gz(t, []byte(b.String()))} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, t.TempDir())
			path := writeFile(t, filepath.Join(t.TempDir(), name), data)
			ctx, cancel := context.WithCancel(e.ctx)
			c := &cancelling{Store: e.st, after: 5, cancel: cancel}
			im := &ingest.Importer{Store: c, Options: ingest.Options{BatchSize: 100, Workers: 2, StateDir: ingest.StateDir(e.dir)}}
			sum, err := im.Run(ctx, []string{path})
			if err == nil {
				t.Fatal("the interrupted import reported no error")
			}
			if custodian.ErrorCode(err) != custodian.ETIMEOUT {
				t.Errorf("interrupted: err = %v, want a timeout (interrupted) error", err)
			}
			stored := e.count(t, "resources")
			if stored == 0 || stored >= n || sum.Loaded == 0 {
				t.Fatalf("after the interruption %d stored (summary %d); want some, not all", stored, sum.Loaded)
			}
			// Resume.
			sum2, report, err := e.run(t, ingest.Options{BatchSize: 100, Workers: 2}, path)
			if err != nil {
				t.Fatal(err)
			}
			if len(report) != 0 {
				t.Errorf("report: %+v", report)
			}
			if got := e.count(t, "resources"); got != n {
				t.Errorf("%d resources after resuming, want %d", got, n)
			}
			if got := e.count(t, "versions"); got != n {
				t.Errorf("%d versions after resuming, want %d (no duplicates, no extra versions)", got, n)
			}
			if sum2.Created+sum.Created != n {
				t.Errorf("created %d + %d, want %d in all", sum.Created, sum2.Created, n)
			}
			// Skipped by the checkpoint: the second run read less than all.
			if sum2.Loaded >= n {
				t.Errorf("the resumed run loaded %d, want fewer than %d (the committed part skipped)", sum2.Loaded, n)
			}
			// A third run has nothing to do.
			sum3, _, err := e.run(t, ingest.Options{}, path)
			if err != nil || sum3.Skipped != 1 || sum3.Loaded != 0 {
				t.Errorf("third run: %+v, %v; want the file skipped", sum3, err)
			}
		})
	}
}

func TestIdempotentReimport(t *testing.T) {
	e := newEnv(t, t.TempDir())
	var b strings.Builder
	for i := range 50 {
		b.WriteString(patient(fmt.Sprintf("p%d", i)) + "\n")
	}
	path := writeFile(t, filepath.Join(t.TempDir(), "Patient.ndjson"), []byte(b.String()))
	if _, _, err := e.run(t, ingest.Options{}, path); err != nil {
		t.Fatal(err)
	}
	sum, _, err := e.run(t, ingest.Options{Restart: true}, path)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Unchanged != 50 || sum.Created != 0 || sum.Updated != 0 || e.count(t, "versions") != 50 {
		t.Errorf("re-import: %+v, %d versions; want 50 unchanged, 50 versions", sum, e.count(t, "versions"))
	}
	// Changed content is a new version.
	changed := strings.Replace(b.String(), `"gender":"female"`, `"gender":"male"`, 1)
	writeFile(t, path, []byte(changed))
	sum, _, err = e.run(t, ingest.Options{}, path)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Updated != 1 || sum.Unchanged != 49 || e.count(t, "versions") != 51 {
		t.Errorf("changed file: %+v, %d versions; want 1 updated, 51 versions", sum, e.count(t, "versions"))
	}
}

// TestBesideAServer imports into a database another process (here another
// connection set) writes to at the same time.
func TestBesideAServer(t *testing.T) {
	dir := t.TempDir()
	server := newEnv(t, dir)
	importer := newEnv(t, dir)
	var b strings.Builder
	for i := range 2000 {
		b.WriteString(patient(fmt.Sprintf("i%d", i)) + "\n")
	}
	path := writeFile(t, filepath.Join(t.TempDir(), "Patient.ndjson"), []byte(b.String()))
	done := make(chan struct{})
	var served atomic.Int32
	var serveErr error
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			if _, err := server.st.Update(server.ctx, "Patient", fmt.Sprintf("s%d", i), []byte(patient(fmt.Sprintf("s%d", i))), store.WriteOptions{}); err != nil {
				serveErr = err
				return
			}
			served.Add(1)
		}
	}()
	sum, report, err := importer.run(t, ingest.Options{BatchSize: 100}, path)
	<-done
	if err != nil || serveErr != nil {
		t.Fatalf("import: %v; server: %v", err, serveErr)
	}
	if sum.Loaded != 2000 || len(report) != 0 {
		t.Errorf("loaded %d, report %v", sum.Loaded, report)
	}
	if n := server.count(t, "resources"); n != 2200 {
		t.Errorf("%d resources, want 2200", n)
	}
}

// syncWatch wraps a store and remembers how many resources had been
// written (unsynced) when Sync was last called.
type syncWatch struct {
	ingest.Store
	written, synced atomic.Int64
	after           int32
	calls           atomic.Int32
	cancel          context.CancelFunc
}

func (s *syncWatch) PutBatchUnsynced(ctx context.Context, rs []map[string]any) ([]store.BatchResult, error) {
	if s.calls.Add(1) > s.after && s.cancel != nil {
		s.cancel()
	}
	res, err := s.Store.PutBatchUnsynced(ctx, rs)
	for _, r := range res {
		if r.Outcome != nil {
			s.written.Add(1)
		}
	}
	return res, err
}

func (s *syncWatch) Sync(ctx context.Context) error {
	w := s.written.Load()
	if err := s.Store.Sync(ctx); err != nil {
		return err
	}
	for {
		old := s.synced.Load()
		if w <= old || s.synced.CompareAndSwap(old, w) {
			return nil
		}
	}
}

// TestCheckpointFollowsSync checks that batches are written without
// waiting for the disk and that a file's checkpoint never claims more
// lines than the last Sync covered, whether the import ends or is
// interrupted.
func TestCheckpointFollowsSync(t *testing.T) {
	const n = 2000
	var b strings.Builder
	for i := range n {
		b.WriteString(patient(fmt.Sprintf("p%d", i)) + "\n")
	}
	for _, interrupt := range []bool{true, false} {
		t.Run(fmt.Sprintf("interrupted=%v", interrupt), func(t *testing.T) {
			e := newEnv(t, t.TempDir())
			path := writeFile(t, filepath.Join(t.TempDir(), "p.ndjson"), []byte(b.String()))
			ctx, cancel := context.WithCancel(e.ctx)
			defer cancel()
			w := &syncWatch{Store: e.st, after: 1 << 30}
			if interrupt {
				w.after, w.cancel = 6, cancel
			}
			im := &ingest.Importer{Store: w, Options: ingest.Options{BatchSize: 100, Workers: 2, StateDir: ingest.StateDir(e.dir)}}
			_, err := im.Run(ctx, []string{path})
			if interrupt != (err != nil) {
				t.Fatalf("interrupted %v: err = %v", interrupt, err)
			}
			files, _ := filepath.Glob(filepath.Join(ingest.StateDir(e.dir), "*.json"))
			if len(files) != 1 {
				t.Fatalf("checkpoint files %v, want one", files)
			}
			raw, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			var st struct {
				Line int64 `json:"line"`
				Done bool  `json:"done"`
			}
			if err := json.Unmarshal(raw, &st); err != nil {
				t.Fatal(err)
			}
			if st.Line == 0 {
				t.Fatalf("checkpoint %s claims nothing", raw)
			}
			if synced := w.synced.Load(); st.Line > synced {
				t.Errorf("checkpoint at line %d, but only %d resources were synced before it", st.Line, synced)
			}
			if !interrupt && (!st.Done || w.synced.Load() != n) {
				t.Errorf("finished import: checkpoint %s, %d synced; want done and %d", raw, w.synced.Load(), n)
			}
		})
	}
}
