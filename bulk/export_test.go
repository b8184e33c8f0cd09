package bulk_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/bulk"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/sqldb/sqlite"
	"github.com/custodian-him/custodian/store"
)

var system = custodian.NewContextWithActor(context.Background(), custodian.SystemActor())

func newStore(tb testing.TB, db *sqldb.DB) *store.Store {
	tb.Helper()
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.RegisterParams(context.Background(), reg.Indexed()); err != nil {
		tb.Fatal(err)
	}
	st := store.New(db, fhir.R4(), reg)
	st.AuditLog = db
	return st
}

// load stores n Observations of patient p1 (and the patient).
func load(tb testing.TB, st *store.Store, n int) {
	tb.Helper()
	batch := []map[string]any{{"resourceType": "Patient", "id": "p1"}}
	for i := range n {
		batch = append(batch, map[string]any{"resourceType": "Observation", "id": fmt.Sprintf("o%d", i), "status": "final",
			"code":    map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "8867-4"}}},
			"subject": map[string]any{"reference": "Patient/p1"}, "valueQuantity": map[string]any{"value": json.Number(fmt.Sprint(60 + i%40)), "unit": "/min"}})
		if len(batch) == 1000 || i == n-1 {
			res, err := st.PutBatch(system, batch)
			if err != nil {
				tb.Fatal(err)
			}
			for _, r := range res {
				if r.Err != nil {
					tb.Fatal(r.Err)
				}
			}
			batch = batch[:0]
		}
	}
}

// export runs one export of req's parameters to its end and returns the job.
func export(tb testing.TB, x *bulk.Exporter, level bulk.Level, p bulk.Params) *bulk.Job {
	tb.Helper()
	j, err := x.Kickoff(system, level, "", p, "test", false)
	if err != nil {
		tb.Fatal(err)
	}
	if ran, err := x.RunOne(context.Background()); !ran || err != nil {
		tb.Fatalf("RunOne: %v %v", ran, err)
	}
	j, err = x.Job(system, j.ID)
	if err != nil {
		tb.Fatal(err)
	}
	if j.State != bulk.Complete {
		tb.Fatalf("job %s: %s", j.State, j.Error)
	}
	return j
}

// TestFilesAndPages: files split at FileSize, pages bounded in bytes, and
// each file's recorded count and SHA-256 match its content.
func TestFilesAndPages(t *testing.T) {
	db := sqldbtest.Open(t)
	st := newStore(t, db)
	load(t, st, 60)
	x := &bulk.Exporter{Source: st, Jobs: sqldb.NewExportJobs(db), Dir: t.TempDir(), Types: fhir.R4().ResourceTypes(),
		FileSize: 4000, PageMem: 1} // every page holds one resource
	j := export(t, x, bulk.System, bulk.Params{"_type": {"Observation"}})
	if len(j.Files) < 3 {
		t.Fatalf("%d files for 60 Observations of ~300 bytes with FileSize 4000", len(j.Files))
	}
	var total int64
	seen := map[string]bool{}
	for _, f := range j.Files {
		b, err := os.ReadFile(filepath.Join(x.Dir, j.ID, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.Size || len(b) > 4000 {
			t.Errorf("%s: recorded %d bytes %s, has %d", f.Name, f.Size, f.SHA256, len(b))
		}
		sc := bufio.NewScanner(bytesReader(b))
		var n int64
		for sc.Scan() {
			var r struct{ ID string }
			json.Unmarshal(sc.Bytes(), &r)
			if seen[r.ID] {
				t.Errorf("%s exported twice", r.ID)
			}
			seen[r.ID] = true
			n++
		}
		if n != f.Count {
			t.Errorf("%s: count %d, lines %d", f.Name, f.Count, n)
		}
		total += n
	}
	if total != 60 || j.Exported != 60 {
		t.Errorf("exported %d (%d), want 60", total, j.Exported)
	}
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type byteReader struct {
	b []byte
	i int
}

func (r *byteReader) Read(p []byte) (int, error) {
	if r.i >= len(r.b) {
		return 0, os.ErrClosed
	}
	n := copy(p, r.b[r.i:])
	r.i += n
	return n, nil
}

func bytesReader(b []byte) *byteReader { return &byteReader{b: b} }

// BenchmarkExport exports every resource of a store: the data directory
// CUSTODIAN_BENCH_EXPORT_DATA (loaded beforehand with custodian import; it
// gains only export job rows) or, without it, 20,000 generated
// Observations. It reports resources/s and the peak heap growth.
//
//	CUSTODIAN_BENCH_EXPORT_DATA=/path/to/data go test ./bulk -run '^$' -bench Export -benchtime 1x
func BenchmarkExport(b *testing.B) {
	ctx := context.Background()
	var db *sqldb.DB
	if dir := os.Getenv("CUSTODIAN_BENCH_EXPORT_DATA"); dir != "" {
		var err error
		if db, err = sqlite.Open(ctx, dir); err != nil {
			b.Fatal(err)
		}
		defer db.Close()
	} else {
		db = sqldbtest.Open(b)
	}
	st := newStore(b, db)
	if os.Getenv("CUSTODIAN_BENCH_EXPORT_DATA") == "" {
		load(b, st, 20000)
	}
	x := &bulk.Exporter{Source: st, Jobs: sqldb.NewExportJobs(db), Dir: b.TempDir(), Types: fhir.R4().ResourceTypes()}
	for b.Loop() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse
		var top atomic.Uint64
		stop := make(chan struct{})
		go func() {
			var m runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				runtime.ReadMemStats(&m)
				if m.HeapInuse > top.Load() {
					top.Store(m.HeapInuse)
				}
			}
		}()
		start, cpu0 := time.Now(), cpuTime()
		j := export(b, x, bulk.System, bulk.Params{})
		d, cpu := time.Since(start), cpuTime()-cpu0
		close(stop)
		var bytes int64
		for _, f := range j.Files {
			bytes += f.Size
		}
		b.ReportMetric(float64(j.Exported)/d.Seconds(), "resources/s")
		b.ReportMetric(float64(bytes>>20)/d.Seconds(), "MiB/s")
		b.ReportMetric(float64(j.Exported), "resources")
		// On a shared machine the wall clock depends on the others' load;
		// resources per CPU-second of this process does not.
		b.ReportMetric(float64(j.Exported)/cpu.Seconds(), "resources/cpu-s")
		if t := top.Load(); t > base {
			b.ReportMetric(float64((t-base)>>20), "MiB-peak-heap")
		}
		os.RemoveAll(filepath.Join(x.Dir, j.ID))
	}
}

// cancelling wraps a Source and cancels the job after the first page.
type cancelling struct {
	bulk.Source
	x    *bulk.Exporter
	id   string
	done bool
}

func (c *cancelling) ExportPage(ctx context.Context, q *store.Query, f store.ExportFilter) ([]*store.Resource, int64, error) {
	if !c.done && c.id != "" {
		c.done = true
		if err := c.x.Cancel(system, c.id); err != nil {
			return nil, 0, err
		}
	}
	return c.Source.ExportPage(ctx, q, f)
}

// TestCancelRunning: a job cancelled while it runs stops, its files go,
// and its end is still in the audit trail.
func TestCancelRunning(t *testing.T) {
	db := sqldbtest.Open(t)
	st := newStore(t, db)
	load(t, st, 30)
	x := &bulk.Exporter{Jobs: sqldb.NewExportJobs(db), Dir: t.TempDir(), Types: fhir.R4().ResourceTypes(), PageSize: 2}
	src := &cancelling{Source: st, x: x}
	x.Source = src
	// A clock that moves 10 s a call, so the worker renews its lease (and
	// finds the job cancelled) at every page.
	var tick atomic.Int64
	start := time.Now()
	x.Now = func() time.Time { return start.Add(time.Duration(tick.Add(1)) * 10 * time.Second) }
	j, err := x.Kickoff(system, bulk.System, "", bulk.Params{"_type": {"Observation"}}, "cancel-test", false)
	if err != nil {
		t.Fatal(err)
	}
	src.id = j.ID
	if ran, err := x.RunOne(context.Background()); !ran || err != nil {
		t.Fatalf("RunOne: %v %v", ran, err)
	}
	if _, err := x.Jobs.Job(context.Background(), j.ID); custodian.ErrorCode(err) != custodian.ENOTFOUND {
		t.Errorf("cancelled job still stored: %v", err)
	}
	if _, err := os.Stat(filepath.Join(x.Dir, j.ID)); !os.IsNotExist(err) {
		t.Errorf("cancelled job's files remain: %v", err)
	}
	es, err := st.FindAudit(system, audit.Filter{Action: audit.ActionExport, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Query != "cancel-test" || es[0].Outcome != custodian.ECONFLICT {
		t.Errorf("audit of the cancelled job: %+v", es)
	}
}
