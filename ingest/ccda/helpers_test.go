package ccda_test

import (
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

func document(tb testing.TB, name string) []byte {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", "documents", name+".xml.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func documents(tb testing.TB) []string {
	tb.Helper()
	names, _ := filepath.Glob(filepath.Join("testdata", "documents", "*.xml.gz"))
	if len(names) != 12 {
		tb.Fatalf("%d test documents, want 12", len(names))
	}
	var out []string
	for _, n := range names {
		out = append(out, strings.TrimSuffix(filepath.Base(n), ".xml.gz"))
	}
	return out
}

var (
	registryOnce sync.Once
	registry     *search.Registry
)

var testActor = &custodian.Actor{ID: "ccda-test", Kind: "system", Roles: []string{"administrator"}}

func newStore(tb testing.TB) (*store.Store, context.Context) {
	tb.Helper()
	registryOnce.Do(func() {
		var err error
		if registry, err = search.NewR4(fhir.R4()); err != nil {
			panic(err)
		}
	})
	ctx := context.Background()
	db := sqldbtest.Open(tb)
	if err := db.RegisterParams(ctx, registry.Indexed()); err != nil {
		tb.Fatal(err)
	}
	return store.New(db, fhir.R4(), registry), custodian.NewContextWithActor(ctx, testActor)
}
