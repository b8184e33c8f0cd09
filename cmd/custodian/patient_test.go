package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// TestPatientCommand queues a pair, merges it, unmerges it and reports,
// through "custodian patient".
func TestPatientCommand(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a, err := openApp(ctx, dir, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	sys := custodian.NewContextWithActor(ctx, custodian.SystemActor())
	for id, given := range map[string]string{"p1": "Bartholomew", "p2": "Bartholomew", "p3": "Zuzanna"} {
		body := `{"resourceType":"Patient","id":"` + id + `","name":[{"family":"Nakashima","given":["` + given + `"]}],"gender":"male","birthDate":"1962-08-14","telecom":[{"system":"phone","value":"555-0100-` + id + `"}]}`
		if id == "p3" {
			body = strings.Replace(body, "1962-08-14", "2001-02-03", 1)
		}
		if _, err := a.store.Update(sys, "Patient", id, []byte(body), store.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.store.Update(sys, "Encounter", "e1", []byte(`{"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p2"}}`), store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	run := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := (&PatientCommand{Stdout: &out, Stderr: &errb}).Run(ctx, append(args, "--data", dir))
		return out.String(), err
	}
	if _, err := run("merge", "--source", "p2"); custodian.ErrorCode(err) != custodian.EINVALID {
		t.Errorf("merge without --target: %v", err)
	}
	out, err := run("queue")
	if err != nil || !strings.Contains(out, "3 patients scored; 1 new duplicate candidates") {
		t.Fatalf("queue: %q %v", out, err)
	}
	out, err = run("merge", "--source", "p2", "--target", "p1")
	if err != nil || !strings.Contains(out, "Encounter/e1/_history/1") {
		t.Fatalf("merge: %q %v", out, err)
	}
	task := strings.TrimSuffix(strings.Fields(out[strings.Index(out, "(Task/")+6:])[0], ");")
	if out, err = run("unmerge", "--task", task); err != nil || !strings.Contains(out, "3 resources restored") {
		t.Fatalf("unmerge %s: %q %v", task, out, err)
	}
	out, err = run("report", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Patients       int64
		OpenCandidates int
		Merges         map[string]int
		Unmerges       map[string]int
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Patients != 3 || rep.OpenCandidates != 0 || len(rep.Merges) != 1 || len(rep.Unmerges) != 1 {
		t.Errorf("report %s", out)
	}
}
