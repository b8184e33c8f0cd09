package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/store"
)

// TestReindexRebuildsLostIndex wipes the search index under the store and
// checks that reindex brings searches back, adding no versions.
func TestReindexRebuildsLostIndex(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a, err := openApp(ctx, dir, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := loadDemo(ctx, a.store, 3, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	sys := withCLI(ctx)
	find := func() int64 {
		q, _, err := a.store.ParseQuery("Observation", map[string][]string{"status": {"final"}, "_total": {"accurate"}}, true)
		if err != nil {
			t.Fatal(err)
		}
		p, err := a.store.Search(sys, q)
		if err != nil {
			t.Fatal(err)
		}
		return p.Total
	}
	before := find()
	if before == 0 {
		t.Fatal("no observations to find")
	}
	for _, tbl := range []string{"idx_tok", "idx_reference", "idx_date", "idx_string", "idx_uri"} { // idx_token is a view over idx_tok
		if _, err := a.db.Raw().Exec(`DELETE FROM ` + tbl); err != nil {
			t.Fatal(err)
		}
	}
	if find() != 0 {
		t.Fatal("the index was not wiped")
	}
	versions := func() int64 {
		var n int64
		a.db.Raw().QueryRow(`SELECT count(*) FROM versions`).Scan(&n)
		return n
	}
	v := versions()
	a.Close()
	var out bytes.Buffer
	if err := Run(ctx, []string{"reindex", "--data", dir, "--batch", "97"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "reindexed") {
		t.Fatalf("output: %s", out.String())
	}
	a, err = openApp(ctx, dir, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if got := find(); got != before {
		t.Fatalf("after reindex %d observations found, want %d", got, before)
	}
	if versions() != v {
		t.Fatalf("reindex added versions: %d, was %d", versions(), v)
	}

}

// TestReindexActivatesSearchParameter: a stored SearchParameter becomes
// searchable once the reindex command has run over every resource, and an
// interrupted run started before it was stored does not resume past the
// resources it never indexed by it.
func TestReindexActivatesSearchParameter(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a, err := openApp(ctx, dir, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	sys := withCLI(ctx)
	put := func(typ, id, body string) {
		t.Helper()
		if _, err := a.store.Update(sys, typ, id, []byte(body), store.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range []string{"blue", "green", "blue"} {
		id := fmt.Sprintf("p%d", i)
		put("Patient", id, `{"resourceType":"Patient","id":"`+id+`","extension":[{"url":"http://example.org/eye-colour","valueCode":"`+c+`"}]}`)
	}
	put("SearchParameter", "eye-colour", `{"resourceType":"SearchParameter","id":"eye-colour","url":"http://example.org/SearchParameter/eye-colour",
		"name":"EyeColour","status":"active","description":"eye colour","code":"eye-colour","base":["Patient"],"type":"token",
		"expression":"Patient.extension.where(url='http://example.org/eye-colour').value"}`)
	a.Close()
	// An interrupted run from before the SearchParameter was stored.
	if err := os.WriteFile(filepath.Join(dir, "reindex.cursor"), []byte("999999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Run(ctx, []string{"reindex", "--data", dir, "--batch", "2"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"starting from the beginning", "indexing by SearchParameter/eye-colour version 1", "SearchParameter/eye-colour version 1 is now searchable", "reindexed 4 resources"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	db, err := openDB(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RegisterParams(ctx, reg.Indexed()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := reg.LoadCustom(ctx, db, false); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, fhir.R4(), reg)
	q, err := st.ParseQueryString("Patient", "eye-colour=blue")
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.Search(sys, q)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range p.Resources {
		got = append(got, r.ID)
	}
	if !slices.Equal(got, []string{"p0", "p2"}) {
		t.Errorf("eye-colour=blue found %v", got)
	}
}
