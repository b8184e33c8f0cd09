package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
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
	for _, tbl := range []string{"idx_token", "idx_reference", "idx_date", "idx_string", "idx_uri"} {
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
