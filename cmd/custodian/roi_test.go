package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
)

// TestROICommand runs a court-ordered release of a generated patient's
// notes end to end from the command line, then the accounting that lists it.
func TestROICommand(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	g := storeGenerated(t, dir, 3, 5, only("Patient", "DocumentReference", "Condition", "Encounter", "Organization", "Practitioner", "Location"))
	patient := ""
	for _, m := range g.stored {
		if m["resourceType"] == "DocumentReference" {
			patient = strings.TrimPrefix(m["subject"].(map[string]any)["reference"].(string), "Patient/")
			break
		}
	}
	if patient == "" {
		t.Fatal("the generated patients have no notes")
	}
	g.app.Close()
	run := func(args ...string) string {
		t.Helper()
		var out, errs bytes.Buffer
		if err := (&ROICommand{Stdout: &out, Stderr: &errs}).Run(ctx, append(args, "--data", dir)); err != nil {
			t.Fatalf("roi %s: %v\n%s", strings.Join(args, " "), err, errs.String())
		}
		return out.String()
	}
	today := time.Now().UTC().Format(time.DateOnly)
	out := run("request", "--patient", patient, "--kind", "court-order", "--requester", "Springfield County Court",
		"--purpose", "HLEGAL", "--legal-authority", "Order 2026-CV-0113", "--types", "DocumentReference,Condition", "--received", today)
	m := regexp.MustCompile(`request (ROI-\S+) logged as Task/(\S+), due (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("request: %s", out)
	}
	if want := time.Now().UTC().AddDate(0, 0, 30).Format(time.DateOnly); m[3] != want {
		t.Errorf("due %s, want %s", m[3], want)
	}
	if out := run("list", "--open"); !strings.Contains(out, m[1]) || !strings.Contains(out, "court-order") {
		t.Errorf("queue: %s", out)
	}
	pdf := filepath.Join(dir, "packet.pdf")
	out = run("release", m[2], "--method", "mail", "--out", pdf)
	if !strings.Contains(out, "released to Springfield County Court by mail") {
		t.Errorf("release: %s", out)
	}
	if b, err := os.ReadFile(pdf); err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("packet file: %v", err)
	}
	if out := run("regenerate", m[2]); !strings.Contains(out, "matches the one released") {
		t.Errorf("regenerate: %s", out)
	}
	var acc struct {
		Disclosures []struct{ Recipient, Source, Ref string }
	}
	if err := json.Unmarshal([]byte(run("accounting", "--patient", patient, "--format", "json")), &acc); err != nil {
		t.Fatal(err)
	}
	if len(acc.Disclosures) != 1 || acc.Disclosures[0].Ref != m[1] || acc.Disclosures[0].Recipient != "Springfield County Court" {
		t.Errorf("accounting: %+v", acc)
	}
	var errs bytes.Buffer
	err := (&ROICommand{Stdout: &errs, Stderr: &errs}).Run(ctx, []string{"release", m[2], "--method", "mail", "--data", dir})
	if custodian.ErrorCode(err) != custodian.ECONFLICT {
		t.Errorf("second release: %v, want ECONFLICT", err)
	}
}
