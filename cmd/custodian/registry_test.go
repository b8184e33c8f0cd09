package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func runRegistry(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := &RegistryCommand{Stdout: &out, Stderr: &errOut, Now: func() time.Time { return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) }}
	err := c.Run(context.Background(), args)
	return out.String(), err
}

func TestRegistryCommand(t *testing.T) {
	dir, err := makeDemoData(t, 40)
	if err != nil {
		t.Fatal(err)
	}
	out, err := runRegistry(t, "find", "--data", dir)
	if err != nil || !strings.Contains(out, "diabetes: ") {
		t.Fatalf("find: %v\n%s", err, out)
	}
	out, _ = runRegistry(t, "find", "--data", dir)
	if strings.Contains(out, ": 1") || strings.Contains(out, ": 2") || !strings.Contains(out, "diabetes: 0 new") {
		t.Errorf("a second find found new cases:\n%s", out)
	}
	out, err = runRegistry(t, "cases", "--registry", "diabetes", "--status", "candidate", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 {
		t.Fatalf("no diabetes candidates among 40 patients:\n%s", out)
	}
	patient := strings.Fields(lines[1])[0]
	if out, err := runRegistry(t, "decide", "--registry", "diabetes", "--patient", patient, "--accept", "--field", "footExam=yes", "--data", dir); err != nil {
		t.Fatalf("decide: %v %s", err, out)
	}
	if _, err := runRegistry(t, "decide", "--registry", "diabetes", "--patient", patient, "--reject", "--data", dir); err == nil {
		t.Error("a rejection without a reason was taken")
	}
	// the data ends in 2025; on 2027-01-01 the case is overdue until followed up
	out, _ = runRegistry(t, "cases", "--registry", "diabetes", "--overdue", "--data", dir)
	if !strings.Contains(out, patient) {
		t.Errorf("overdue list lacks %s:\n%s", patient, out)
	}
	if _, err := runRegistry(t, "followup", "--registry", "diabetes", "--patient", patient, "--date", "2026-12-20", "--data", dir); err != nil {
		t.Fatal(err)
	}
	out, _ = runRegistry(t, "cases", "--registry", "diabetes", "--overdue", "--data", dir)
	if strings.Contains(out, patient) {
		t.Errorf("followed-up case still overdue:\n%s", out)
	}
	out, err = runRegistry(t, "export", "--registry", "diabetes", "--status", "accepted", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][0] != patient {
		t.Fatalf("csv export: %v %v", err, rows)
	}
	out, err = runRegistry(t, "export", "--registry", "diabetes", "--format", "fhir", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		ResourceType string
		Entry        []struct{ Resource map[string]any }
	}
	if err := json.Unmarshal([]byte(out), &b); err != nil || b.ResourceType != "Bundle" || len(b.Entry) != 2 || b.Entry[0].Resource["resourceType"] != "Group" {
		t.Fatalf("fhir export: %v %s", err, out)
	}
	out, err = runRegistry(t, "list", "--data", dir)
	if err != nil || !strings.Contains(out, "stroke") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	// a site's own definition, copied from a shipped one and changed
	def, err := runRegistry(t, "definition", "stroke")
	if err != nil {
		t.Fatal(err)
	}
	site := t.TempDir()
	mine := strings.Replace(strings.Replace(def, `"id": "stroke"`, `"id": "tia"`, 1), `"I60-I61", "I63"`, `"G45"`, 1)
	if mine == def {
		t.Fatal("the shipped stroke definition changed shape")
	}
	if err := os.WriteFile(filepath.Join(site, "tia.json"), []byte(mine), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runRegistry(t, "find", "--definitions", site, "--data", dir); err != nil || !strings.Contains(out, "tia: ") {
		t.Errorf("site definition: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(site, "bad.json"), []byte(`{"id":"bad"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runRegistry(t, "list", "--definitions", site, "--data", dir); err == nil {
		t.Error("a broken definition was accepted")
	}
}
