package sqldb_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/store"
)

// slowIndexer indexes like the R4 registry, slowly, and counts the most
// resources indexed at once.
type slowIndexer struct {
	*search.Registry
	now, most atomic.Int32
}

func (ix *slowIndexer) Index(typ string, res map[string]any) ([]store.IndexEntry, error) {
	n := ix.now.Add(1)
	defer ix.now.Add(-1)
	for m := ix.most.Load(); n > m && !ix.most.CompareAndSwap(m, n); m = ix.most.Load() {
	}
	time.Sleep(2 * time.Millisecond)
	return ix.Registry.Index(typ, res)
}

// TestMaxPreparing checks that Store.MaxPreparing bounds how many
// transactions are prepared (here: indexed) at once, and that without it
// concurrent transactions are prepared together.
func TestMaxPreparing(t *testing.T) {
	db, _ := open(t)
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		t.Fatal(err)
	}
	ctx := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	for _, tt := range []struct{ max int32 }{{1}, {2}, {0}} {
		t.Run(fmt.Sprint(tt.max), func(t *testing.T) {
			ix := &slowIndexer{Registry: reg}
			st := store.New(db, fhir.R4(), ix)
			st.MaxPreparing = int(tt.max)
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var entries []store.Entry
					for k := range 3 {
						res, err := store.Decode(fmt.Appendf(nil, `{"resourceType": "Patient", "name": [{"family": "Bound%d-%d"}]}`, w, k))
						if err != nil {
							errs <- err
							return
						}
						entries = append(entries, store.Entry{Method: store.MethodCreate, URL: "Patient", Resource: res})
					}
					_, err := st.Transaction(ctx, entries)
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			most := ix.most.Load()
			if tt.max > 0 && most > tt.max {
				t.Errorf("%d transactions prepared at once, want at most %d", most, tt.max)
			}
			if tt.max == 0 && most < 2 {
				t.Errorf("without a bound, at most %d transaction prepared at once; want several", most)
			}
		})
	}
}
