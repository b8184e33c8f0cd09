package main

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

func TestAuditCommands(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a, err := openApp(ctx, dir, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	actx := custodian.NewContextWithActor(ctx, &custodian.Actor{ID: "ana", Kind: "user", Roles: []string{"clinician"}, PurposeOfUse: "TREAT"})
	out, err := a.store.Create(actx, "Patient", []byte(`{"resourceType":"Patient"}`), store.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pid := out.Resource.ID
	if _, err := a.store.Read(actx, "Patient", pid); err != nil {
		t.Fatal(err)
	}
	a.Close()

	run := func(args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		err := Run(ctx, append(args, "--data", dir), &stdout, &stderr)
		return stdout.String(), err
	}
	got, err := run("audit", "verify")
	if err != nil || !strings.Contains(got, "intact: 2 entries") {
		t.Fatalf("verify: %q %v", got, err)
	}
	got, err = run("audit", "report", "--patient", pid)
	if err != nil || !strings.Contains(got, "ana") || !strings.Contains(got, "read") || !strings.Contains(got, "TREAT") {
		t.Fatalf("report: %q %v", got, err)
	}
	// Tampering shows.
	db, err := sql.Open("sqlite", filepath.Join(dir, "custodian.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE audit_block SET body = replace(body, 'TREAT', 'ETREAT') WHERE first_seq = 2`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	got, err = run("audit", "verify")
	if err == nil || !strings.Contains(got, "BROKEN at entry 2") {
		t.Fatalf("verify after tampering: %q %v", got, err)
	}
}
