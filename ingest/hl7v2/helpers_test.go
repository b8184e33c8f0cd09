package hl7v2_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// sample returns a test message from testdata/messages.
func sample(tb testing.TB, name string) []byte {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", "messages", name+".gz"))
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

// samples names every test message.
func samples(tb testing.TB) []string {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "messages", "*.hl7.gz"))
	if err != nil || len(names) == 0 {
		tb.Fatalf("no samples: %v", err)
	}
	var out []string
	for _, n := range names {
		out = append(out, bytes.NewBufferString(filepath.Base(n)).String()[:len(filepath.Base(n))-3])
	}
	return out
}

var (
	registryOnce sync.Once
	registry     *search.Registry
)

var testActor = &custodian.Actor{ID: "feeds-test", Kind: "system", Roles: []string{"administrator"}}

// newStore opens a store on a fresh database, and a context with an actor.
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
	st := store.New(db, fhir.R4(), registry)
	return st, custodian.NewContextWithActor(ctx, testActor)
}
