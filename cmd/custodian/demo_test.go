package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

func TestDemoLoadsOnce(t *testing.T) {
	ctx := context.Background()
	a, err := openApp(ctx, t.TempDir(), "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var out bytes.Buffer
	if err := loadDemo(ctx, a.store, 5, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "(0 rejected)") {
		t.Fatalf("demo load: %s", out.String())
	}
	count := func(typ string) int64 {
		sys := custodian.NewContextWithActor(ctx, &custodian.Actor{ID: "t", Kind: "system"})
		p, err := a.store.Search(sys, &store.Query{Types: []string{typ}, CountTotal: true})
		if err != nil {
			t.Fatal(err)
		}
		return p.Total
	}
	patients, notes := count("Patient"), count("DocumentReference")
	if patients < 5 || notes == 0 {
		t.Fatalf("demo has %d patients and %d notes", patients, notes)
	}
	out.Reset()
	if err := loadDemo(ctx, a.store, 5, &out); err != nil || out.Len() != 0 || count("Patient") != patients {
		t.Fatalf("second start loaded again: %q %v", out.String(), err)
	}
}
