package sqldb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/ingest"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
)

// copying is the database as a store backend, counting the resources its
// bulk path stored.
type copying struct {
	*sqldb.DB
	copied *atomic.Int64
}

func (c copying) CopyNew(ctx context.Context, items []store.CopyItem, unsynced bool, fn func(store.Tx, []int) error) ([]int, error) {
	skipped, err := c.DB.CopyNew(ctx, items, unsynced, func(tx store.Tx, stored []int) error {
		if err := fn(tx, stored); err != nil {
			return err
		}
		c.copied.Add(int64(len(stored)))
		return nil
	})
	return skipped, err
}

// ordinary is the database without its bulk path: every write takes the
// ordinary one.
type ordinary struct{ *sqldb.DB }

func (ordinary) CopyNew(context.Context, []store.CopyItem, bool, func(store.Tx, []int) error) ([]int, error) {
	return nil, errors.ErrUnsupported
}

var copyReg = sync.OnceValues(func() (*search.Registry, error) { return search.NewR4(fhir.R4()) })

// copyStore is a store for import tests over db through backend b.
func copyStore(t *testing.T, db *sqldb.DB, b store.Backend) *store.Store {
	t.Helper()
	return copyStoreValidating(t, db, b, fhir.R4())
}

// structureOnly passes what the R4 definitions would refuse for a value's
// content (it checks only the resource type), so that a test can hand the
// engine data it refuses itself.
type structureOnly struct{ store.Validator }

func (structureOnly) Validate(map[string]any) []custodian.Issue { return nil }

func copyStoreValidating(t *testing.T, db *sqldb.DB, b store.Backend, v store.Validator) *store.Store {
	t.Helper()
	reg, err := copyReg()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RegisterParams(context.Background(), reg.Indexed()); err != nil {
		t.Fatal(err)
	}
	st := store.New(b, v, reg)
	st.AuditLog = db
	return st
}

// generated writes a small synthetic hospital's NDJSON into a new
// directory and returns it.
func generated(t *testing.T, patients int) string {
	t.Helper()
	dir := t.TempDir()
	w, err := synth.NewDirWriter(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(context.Background(), synth.Config{Patients: patients, Seed: 3}, w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func system() context.Context {
	return custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
}

func importInto(t *testing.T, st ingest.Store, opt ingest.Options, paths ...string) (*ingest.Summary, []ingest.ReportRecord, error) {
	t.Helper()
	return importCtx(t, system(), st, opt, paths...)
}

func importCtx(t *testing.T, ctx context.Context, st ingest.Store, opt ingest.Options, paths ...string) (*ingest.Summary, []ingest.ReportRecord, error) {
	t.Helper()
	var rep bytes.Buffer
	opt.Report = &rep
	if opt.BatchSize == 0 {
		opt.BatchSize = 64
	}
	if opt.Workers == 0 {
		opt.Workers = 2
	}
	im := &ingest.Importer{Store: st, Options: opt}
	sum, err := im.Run(ctx, paths)
	var recs []ingest.ReportRecord
	for _, l := range bytes.Split(bytes.TrimSpace(rep.Bytes()), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var r ingest.ReportRecord
		if jerr := json.Unmarshal(l, &r); jerr != nil {
			t.Fatalf("report line %q: %v", l, jerr)
		}
		recs = append(recs, r)
	}
	return sum, recs, err
}

// copyTables are the tables an import writes, each with the columns that
// do not depend on when or in which order it ran, keyed by type and id.
var copyTables = map[string]string{
	"resources":     `SELECT r.type, r.id, r.version, r.deleted, r.compartment, r.sensitive FROM resources r`,
	"versions":      `SELECT r.type, r.id, v.version, v.type, v.method, v.author, v.body IS NULL FROM versions v JOIN resources r ON r.rid = v.rid`,
	"idx_token":     `SELECT r.type, r.id, p.code, x.system, x.code FROM idx_token x JOIN resources r ON r.rid = x.rid JOIN search_params p ON p.pid = x.pid`,
	"idx_reference": `SELECT r.type, r.id, p.code, x.ref_type, x.ref_id FROM idx_reference x JOIN resources r ON r.rid = x.rid JOIN search_params p ON p.pid = x.pid`,
	"idx_date":      `SELECT r.type, r.id, p.code, x.low, x.high FROM idx_date x JOIN resources r ON r.rid = x.rid JOIN search_params p ON p.pid = x.pid`,
	"idx_string":    `SELECT r.type, r.id, p.code, x.value, x.exact FROM idx_string x JOIN resources r ON r.rid = x.rid JOIN search_params p ON p.pid = x.pid`,
	"idx_uri":       `SELECT r.type, r.id, p.code, x.value FROM idx_uri x JOIN resources r ON r.rid = x.rid JOIN search_params p ON p.pid = x.pid`,
	"idx_number":    `SELECT r.type, r.id, p.code, x.low, x.high FROM idx_number x JOIN resources r ON r.rid = x.rid JOIN search_params p ON p.pid = x.pid`,
	"idx_quantity":  `SELECT r.type, r.id, p.code, x.system, x.code, x.unit, x.low, x.high, x.ccode, x.clow, x.chigh FROM idx_quantity x JOIN resources r ON r.rid = x.rid JOIN search_params p ON p.pid = x.pid`,
	"idx_composite": `SELECT r.type, r.id, p.code, x.system1, x.code1, x.system2, x.code2, x.low2, x.high2 FROM idx_composite x JOIN resources r ON r.rid = x.rid JOIN search_params p ON p.pid = x.pid`,
}

// tableRows returns every row of query as text, sorted.
func tableRows(t *testing.T, db *sqldb.DB, query string) []string {
	t.Helper()
	rows, err := db.SQL().Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteByte('|')
			}
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprint(&b, v)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// withoutTime is a stored body without meta.lastUpdated, which says when
// it was loaded.
func withoutTime(t *testing.T, body []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if meta, ok := m["meta"].(map[string]any); ok {
		delete(meta, "lastUpdated")
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// history returns every version in the store, oldest first, as
// "Type/id/version body".
func history(t *testing.T, st *store.Store) []string {
	t.Helper()
	var out []string
	f := store.HistoryFilter{Count: 1000}
	for {
		page, err := st.History(system(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Versions {
			out = append(out, fmt.Sprintf("%s/%d %s", v.Ref(), v.VersionID, withoutTime(t, v.Body)))
		}
		if page.Next == 0 {
			break
		}
		f.Before = page.Next
	}
	slices.Sort(out)
	return out
}

// searchIDs returns the ids a search finds, every page of it, sorted.
func searchIDs(t *testing.T, st *store.Store, typ, criteria string) []string {
	t.Helper()
	q, err := st.ParseQueryString(typ, criteria)
	if err != nil {
		t.Fatalf("%s?%s: %v", typ, criteria, err)
	}
	var ids []string
	for {
		page, err := st.Search(system(), q)
		if err != nil {
			t.Fatalf("%s?%s: %v", typ, criteria, err)
		}
		for _, r := range page.Resources {
			ids = append(ids, r.ID)
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	slices.Sort(ids)
	return ids
}

// TestCopyImportMatchesOrdinaryPath imports the same generated data through
// the bulk path and through the ordinary one, into two databases of the
// engine under test, and finds the same rows, history and search results.
// On PostgreSQL every resource must have gone through COPY; on SQLite,
// which has no bulk path, none.
func TestCopyImportMatchesOrdinaryPath(t *testing.T) {
	dir := generated(t, 8)
	bulkDB, plainDB := sqldbtest.Open(t), sqldbtest.Open(t)
	copied := &atomic.Int64{}
	bulk := copyStore(t, bulkDB, copying{bulkDB, copied})
	plain := copyStore(t, plainDB, ordinary{plainDB})

	sumBulk, recs, err := importInto(t, bulk, ingest.Options{StateDir: t.TempDir()}, dir)
	if err != nil || len(recs) > 0 {
		t.Fatalf("bulk import: %v, report %+v", err, recs)
	}
	sumPlain, recs, err := importInto(t, plain, ingest.Options{StateDir: t.TempDir()}, dir)
	if err != nil || len(recs) > 0 {
		t.Fatalf("ordinary import: %v, report %+v", err, recs)
	}
	if sumBulk.Loaded < 500 || sumBulk.Created != sumPlain.Created || sumBulk.Loaded != sumPlain.Loaded {
		t.Fatalf("loaded %d (%d created) in bulk, %d (%d created) the ordinary way", sumBulk.Loaded, sumBulk.Created, sumPlain.Loaded, sumPlain.Created)
	}
	// Batches smaller than the bulk path's minimum (the ends of small
	// files) take the ordinary one.
	if got := copied.Load(); sqldbtest.Engine() == "postgres" && got < sumBulk.Created*9/10 {
		t.Errorf("%d of %d resources went through the bulk path", got, sumBulk.Created)
	} else if sqldbtest.Engine() != "postgres" && got != 0 {
		t.Errorf("%d resources went through a bulk path on %s", got, sqldbtest.Engine())
	}
	if sumBulk.Dangling != sumPlain.Dangling || sumBulk.References != sumPlain.References {
		t.Errorf("references: bulk %d checked, %d dangling; ordinary %d, %d", sumBulk.References, sumBulk.Dangling, sumPlain.References, sumPlain.Dangling)
	}

	for table, q := range copyTables {
		if diff := cmp.Diff(tableRows(t, plainDB, q), tableRows(t, bulkDB, q)); diff != "" {
			t.Errorf("%s rows differ (-ordinary +bulk):\n%s", table, diff)
		}
	}
	if diff := cmp.Diff(history(t, plain), history(t, bulk)); diff != "" {
		t.Errorf("history differs (-ordinary +bulk):\n%s", diff)
	}
	searches := [][2]string{
		{"Patient", "gender=female"},
		{"Patient", "birthdate=lt1960"},
		{"Encounter", "date=ge2020-01-01&class=IMP"},
		{"Condition", "code=http://hl7.org/fhir/sid/icd-10-cm|E11.9"},
		{"Observation", "code=http://loinc.org|4548-4&value-quantity=gt7"},
		{"Observation", "category=vital-signs&date=ge2022"},
		{"MedicationRequest", "status=active"},
		{"Patient", "_has:Condition:patient:code=I10"},
		{"Claim", "_count=7"},
	}
	found := 0
	for _, s := range searches {
		p, b := searchIDs(t, plain, s[0], s[1]), searchIDs(t, bulk, s[0], s[1])
		found += len(b)
		if diff := cmp.Diff(p, b); diff != "" {
			t.Errorf("%s?%s differs (-ordinary +bulk):\n%s", s[0], s[1], diff)
		}
	}
	if found == 0 {
		t.Error("the searches found nothing in either store: they compare nothing")
	}
	// Read back by id, the bodies are the same but for the time.
	for _, ref := range []string{firstRef(t, dir, "Patient"), firstRef(t, dir, "Observation")} {
		typ, id, _ := strings.Cut(ref, "/")
		a, err := plain.Read(system(), typ, id)
		if err != nil {
			t.Fatal(err)
		}
		b, err := bulk.Read(system(), typ, id)
		if err != nil {
			t.Fatal(err)
		}
		if withoutTime(t, a.Body) != withoutTime(t, b.Body) || a.VersionID != 1 || b.VersionID != 1 {
			t.Errorf("%s: read back differently", ref)
		}
	}
}

// firstRef returns "Type/id" of the first resource in dir's Type.ndjson.
func firstRef(t *testing.T, dir, typ string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, typ+".ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	var r struct{ ID string }
	if err := json.Unmarshal(line, &r); err != nil {
		t.Fatal(err)
	}
	return typ + "/" + r.ID
}

// countRows returns the number of rows of table.
func countRows(t *testing.T, db *sqldb.DB, table string) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// ndjsonLines counts the records of the NDJSON files in dir.
func ndjsonLines(t *testing.T, dir string) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	n := 0
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "ground-truth") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += bytes.Count(b, []byte("\n"))
	}
	return n
}

// TestCopyImportResume interrupts a bulk import, runs it again to resume,
// then again with its checkpoints lost (batches stored but not
// checkpointed are met again), and finds every resource stored once, as
// its first version; a resource whose content changed in between gets a
// second version.
func TestCopyImportResume(t *testing.T) {
	dir := generated(t, 6)
	total := ndjsonLines(t, dir)
	db := sqldbtest.Open(t)
	copied := &atomic.Int64{}
	st := copyStore(t, db, copying{db, copied})
	state := t.TempDir()

	// Interrupted once a few batches are in.
	ctx, cancel := context.WithCancel(system())
	defer cancel()
	stop := ingest.Options{StateDir: state, BatchSize: 40, ProgressEvery: time.Millisecond, Progress: func(p ingest.Progress) {
		if p.Loaded >= 150 {
			cancel()
		}
	}}
	first, _, err := importCtx(t, ctx, st, stop, dir)
	if err == nil {
		t.Fatalf("the interrupted import reported no error: %+v", first)
	}
	if first.Loaded == 0 || first.Loaded >= int64(total) {
		t.Fatalf("the interrupted import loaded %d of %d: not a partial run", first.Loaded, total)
	}
	second, recs, err := importInto(t, st, ingest.Options{StateDir: state, BatchSize: 40}, dir)
	if err != nil || len(recs) > 0 {
		t.Fatalf("resumed import: %v, report %+v", err, recs)
	}
	if got := first.Created + second.Created; got > int64(total) || first.Created+second.Loaded < int64(total) {
		t.Errorf("created %d + %d, loaded %d on resuming, of %d resources", first.Created, second.Created, second.Loaded, total)
	}
	for _, table := range []string{"resources", "versions"} {
		if n := countRows(t, db, table); n != total {
			t.Errorf("%d rows in %s after resuming, want %d", n, table, total)
		}
	}

	// The checkpoints lost: everything is met again, and nothing changes
	// but the one resource edited meanwhile.
	if err := os.RemoveAll(state); err != nil {
		t.Fatal(err)
	}
	ref := firstRef(t, dir, "Patient")
	editFirstLine(t, filepath.Join(dir, "Patient.ndjson"), `"gender":`, `"language":"en","gender":`)
	third, recs, err := importInto(t, st, ingest.Options{StateDir: state, BatchSize: 40}, dir)
	if err != nil || len(recs) > 0 {
		t.Fatalf("import again: %v, report %+v", err, recs)
	}
	if third.Created != 0 || third.Updated != 1 || third.Unchanged != int64(total-1) {
		t.Errorf("import again: %d created, %d updated, %d unchanged; want 0, 1, %d", third.Created, third.Updated, third.Unchanged, total-1)
	}
	if n := countRows(t, db, "resources"); n != total {
		t.Errorf("%d resources, want %d", n, total)
	}
	if n := countRows(t, db, "versions"); n != total+1 {
		t.Errorf("%d versions, want %d", n, total+1)
	}
	typ, id, _ := strings.Cut(ref, "/")
	if r, err := st.Read(system(), typ, id); err != nil || r.VersionID != 2 || !bytes.Contains(r.Body, []byte(`"language":"en"`)) {
		t.Errorf("%s after its edit: %v, %+v", ref, err, r)
	}
	if sqldbtest.Engine() == "postgres" && copied.Load() == 0 {
		t.Error("nothing went through the bulk path")
	}
}

// editFirstLine replaces old by new in the first line of the file.
func editFirstLine(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	line, rest, _ := bytes.Cut(b, []byte("\n"))
	if !bytes.Contains(line, []byte(old)) {
		t.Fatalf("%s: the first line has no %s", path, old)
	}
	line = bytes.Replace(line, []byte(old), []byte(new), 1)
	if err := os.WriteFile(path, append(append(line, '\n'), rest...), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCopyImportBadLinesAndExisting loads a file with bad lines, a
// resource that exists already with other content, and a resource given
// twice: the bad lines are reported with their numbers and the rest load,
// the existing resource and the repeated one as new versions.
func TestCopyImportBadLinesAndExisting(t *testing.T) {
	dir := generated(t, 3)
	src, err := os.ReadFile(filepath.Join(dir, "Observation.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	obs := bytes.Split(bytes.TrimSpace(src), []byte("\n"))[:60]
	db := sqldbtest.Open(t)
	copied := &atomic.Int64{}
	st := copyStore(t, db, copying{db, copied})

	// Line 3's resource is stored already, with another status.
	var existing map[string]any
	if err := json.Unmarshal(obs[2], &existing); err != nil {
		t.Fatal(err)
	}
	existing["status"] = "preliminary"
	if res, err := st.PutBatch(system(), []map[string]any{existing}); err != nil || res[0].Err != nil {
		t.Fatalf("store the existing resource: %v %+v", err, res)
	}
	existingRef := existing["resourceType"].(string) + "/" + existing["id"].(string)

	lines := slices.Clone(obs)
	bad := map[int64]string{5: `{"resourceType":"Observation","id":"broken",`, 12: `{"resourceType":"Observation","id":"nocode","status":"final"}`,
		20: `{"resourceType":"NoSuchType","id":"x1"}`}
	for _, no := range []int64{5, 12, 20} {
		lines = slices.Insert(lines, int(no-1), []byte(bad[no]))
	}
	// The last line repeats line 30's resource with another status.
	var again map[string]any
	if err := json.Unmarshal(lines[29], &again); err != nil {
		t.Fatal(err)
	}
	again["status"] = "amended"
	b, _ := json.Marshal(again)
	lines = append(lines, b)
	repeatedRef := again["resourceType"].(string) + "/" + again["id"].(string)
	path := filepath.Join(t.TempDir(), "obs.ndjson")
	if err := os.WriteFile(path, append(bytes.Join(lines, []byte("\n")), '\n'), 0o600); err != nil {
		t.Fatal(err)
	}

	sum, recs, err := importInto(t, st, ingest.Options{BatchSize: 100}, path)
	if err != nil {
		t.Fatal(err)
	}
	var rejected []int64
	for _, r := range recs {
		if r.Reference == "" {
			rejected = append(rejected, r.Line)
			if r.File != path {
				t.Errorf("line %d reported in %q", r.Line, r.File)
			}
		}
	}
	slices.Sort(rejected)
	if diff := cmp.Diff([]int64{5, 12, 20}, rejected); diff != "" {
		t.Errorf("lines rejected (-want +got):\n%s", diff)
	}
	if sum.Rejected != 3 || sum.Created != 59 || sum.Updated != 2 {
		t.Errorf("%d rejected, %d created, %d updated; want 3, 59, 2", sum.Rejected, sum.Created, sum.Updated)
	}
	for ref, status := range map[string]string{existingRef: `"status":"final"`, repeatedRef: `"status":"amended"`} {
		typ, id, _ := strings.Cut(ref, "/")
		r, err := st.Read(system(), typ, id)
		if err != nil || r.VersionID != 2 || !bytes.Contains(r.Body, []byte(status)) {
			t.Errorf("%s: %v, version %d, want version 2 with %s", ref, err, r.VersionID, status)
		}
	}
	if n := countRows(t, db, "versions"); n != 62 {
		t.Errorf("%d versions, want 62 (60 resources, 2 of them twice)", n)
	}
	if sqldbtest.Engine() == "postgres" && copied.Load() != 59 {
		t.Errorf("%d resources through the bulk path, want 59 (the 60 less the existing one; the repeat is an update)", copied.Load())
	}
}

// TestCopyFallsBackOnBadData loads a batch in which one resource holds a
// value the engine refuses (a NUL character in a string; PostgreSQL's text
// cannot hold one): the COPY of the batch fails, and the ordinary path
// stores the others and reports that one alone.
func TestCopyFallsBackOnBadData(t *testing.T) {
	db := sqldbtest.Open(t)
	copied := &atomic.Int64{}
	// The validator refuses U+0000 before any engine sees it; this test
	// is about the engine refusing a COPY, so it passes the value on.
	st := copyStoreValidating(t, db, copying{db, copied}, structureOnly{fhir.R4()})
	var batch []map[string]any
	for i := range 12 {
		family := fmt.Sprintf("Family%d", i)
		if i == 7 {
			family = "Nul\x00Family"
		}
		batch = append(batch, map[string]any{"resourceType": "Patient", "id": fmt.Sprintf("nul-%d", i),
			"name": []any{map[string]any{"family": family}}})
	}
	res, err := st.PutBatch(system(), batch)
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for i, r := range res {
		if i != 7 && (r.Err != nil || r.Outcome == nil || !r.Outcome.Created) {
			t.Errorf("resource %d: %v, %+v; want it created", i, r.Err, r.Outcome)
		}
		if r.Err == nil {
			stored++
		}
	}
	// SQLite keeps the NUL; where the engine refuses it, the resource
	// alone is refused and the batch went the ordinary way.
	if n := countRows(t, db, "resources"); n != stored {
		t.Errorf("%d resources stored, %d reported stored", n, stored)
	}
	if res[7].Err != nil && (stored != 11 || copied.Load() != 0) {
		t.Errorf("the refused resource: %d stored, %d through the bulk path; want 11 and 0", stored, copied.Load())
	}
	if sqldbtest.Engine() == "postgres" && res[7].Err == nil {
		t.Error("PostgreSQL stored a NUL character")
	}
}
