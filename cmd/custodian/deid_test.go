package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
)

// TestDeidExport runs "custodian deid export" over a small generated
// hospital: a key is made beside the output, the report counts what was
// read, and a second run with that key gives the same pseudonyms.
func TestDeidExport(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	g := storeGenerated(t, dir, 5, 5, nil)
	g.app.Close()

	run := func(args ...string) (string, string, error) {
		var out, errs bytes.Buffer
		err := (&DeidCommand{Stdout: &out, Stderr: &errs}).Run(ctx, append([]string{"export", "--data", dir}, args...))
		return out.String(), errs.String(), err
	}
	out1 := filepath.Join(t.TempDir(), "one")
	stdout, stderr, err := run("--method", "safe-harbor", "--out", out1)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	if !strings.Contains(stderr, "warning") || !strings.Contains(stdout, "resources read") {
		t.Errorf("stdout %q stderr %q", stdout, stderr)
	}
	if _, err := os.Stat(out1 + ".key"); err != nil {
		t.Fatal("no key written beside the output")
	}
	if _, err := os.Stat(filepath.Join(out1, "report.txt")); err != nil {
		t.Fatal("no report.txt")
	}
	var rep struct{ Read int }
	b, _ := os.ReadFile(filepath.Join(out1, "report.json"))
	if err := json.Unmarshal(b, &rep); err != nil || rep.Read != len(g.stored) {
		t.Errorf("report read %d of %d (%v)", rep.Read, len(g.stored), err)
	}
	out2 := filepath.Join(t.TempDir(), "two")
	if _, stderr, err := run("--method", "safe-harbor", "--out", out2, "--key-file", out1+".key", "--type", "Patient"); err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	p1, _ := os.ReadFile(filepath.Join(out1, "Patient.ndjson"))
	p2, _ := os.ReadFile(filepath.Join(out2, "Patient.ndjson"))
	if len(p1) == 0 || !bytes.Equal(p1, p2) {
		t.Error("the same key gave different Patients")
	}
	out3 := filepath.Join(t.TempDir(), "three")
	if _, stderr, err := run("--method", "safe-harbor", "--out", out3, "--key-file", out1+".key", "--since", "2999-01-01"); err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	b, _ = os.ReadFile(filepath.Join(out3, "report.json"))
	rep.Read = -1
	if err := json.Unmarshal(b, &rep); err != nil || rep.Read != 0 {
		t.Errorf("--since in the future read %d resources (%v)", rep.Read, err)
	}
	for _, bad := range [][]string{
		{"--method", "expert", "--out", out2},
		{"--method", "safe-harbor"},
		{"--method", "limited", "--out", out2},
		{"--method", "safe-harbor", "--out", out2, "--type", "Nothing"},
		{"--method", "safe-harbor", "--out", out2, "--since", "last week"},
		{"--method", "safe-harbor", "--out", out2, "--key-file", filepath.Join(dir, "missing.key")},
	} {
		if _, _, err := run(bad...); custodian.ErrorCode(err) != custodian.EINVALID {
			t.Errorf("%v: %v, want EINVALID", bad, err)
		}
	}
	if _, _, err := run("--method", "limited", "--dua", "Contract/none", "--out", filepath.Join(t.TempDir(), "four")); custodian.ErrorCode(err) != custodian.EPRECONDITION {
		t.Errorf("limited without its agreement in the store: %v", err)
	}
	if _, _, err := run("--method", "safe-harbor", "--key-file", out1+".key", "--out", out1); custodian.ErrorCode(err) != custodian.ECONFLICT {
		t.Errorf("export into a directory with an earlier export: %v", err)
	}
}
