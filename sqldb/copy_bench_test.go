package sqldb_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
)

// BenchmarkCopyImport loads generated resources through Store.PutBatch in
// batches of 1,000 from two goroutines, as custodian import does, with the
// engine's bulk path ("bulk") and without it ("ordinary"), each into a
// database of its own, and reports resources per second. Every iteration
// loads the whole set again under fresh ids, so every resource is new.
// On SQLite both take the ordinary path. Run it on PostgreSQL with
//
//	CUSTODIAN_TEST_ENGINE=postgres go test -run '^$' -bench CopyImport -benchtime 3x ./sqldb
func BenchmarkCopyImport(b *testing.B) {
	lines := generatedLines(b, 30)
	for _, mode := range []string{"bulk", "ordinary"} {
		b.Run(mode, func(b *testing.B) {
			db := sqldbtest.Open(b)
			var backend store.Backend = db
			if mode == "ordinary" {
				backend = ordinary{db}
			}
			st := benchStore(b, db, backend)
			var loaded atomic.Int64
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				loadLines(b, st, lines, fmt.Sprintf("-b%d", i), &loaded)
			}
			b.ReportMetric(float64(loaded.Load())/time.Since(start).Seconds(), "resources/s")
		})
	}
}

func benchStore(b *testing.B, db *sqldb.DB, backend store.Backend) *store.Store {
	b.Helper()
	reg, err := copyReg()
	if err != nil {
		b.Fatal(err)
	}
	if err := db.RegisterParams(context.Background(), reg.Indexed()); err != nil {
		b.Fatal(err)
	}
	return store.New(backend, fhir.R4(), reg)
}

// generatedLines returns the NDJSON records of a small generated hospital.
func generatedLines(b *testing.B, patients int) [][]byte {
	b.Helper()
	dir := b.TempDir()
	w, err := synth.NewDirWriter(dir, false)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := synth.Generate(context.Background(), synth.Config{Patients: patients, Seed: 3}, w); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	var lines [][]byte
	for _, f := range files {
		if filepath.Base(f) == "ground-truth.ndjson" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
			lines = append(lines, l)
		}
	}
	return lines
}

// loadLines stores lines with suffix added to every id, 1,000 a batch from
// two goroutines.
func loadLines(b *testing.B, st *store.Store, lines [][]byte, suffix string, loaded *atomic.Int64) {
	const batch = 1000
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				start := int(next.Add(batch)) - batch
				if start >= len(lines) {
					return
				}
				var res []map[string]any
				for _, l := range lines[start:min(start+batch, len(lines))] {
					r, err := store.Decode(l)
					if err != nil {
						b.Error(err)
						return
					}
					r["id"] = r["id"].(string) + suffix
					res = append(res, r)
				}
				results, err := st.PutBatch(system(), res)
				if err != nil {
					b.Error(err)
					return
				}
				for _, r := range results {
					if r.Err != nil {
						b.Error(r.Err)
						return
					}
				}
				loaded.Add(int64(len(res)))
			}
		}()
	}
	wg.Wait()
}
