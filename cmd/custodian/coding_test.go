package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/codeset"
	"github.com/custodian-him/custodian/coding"
	"github.com/custodian-him/custodian/drg"
	"github.com/custodian-him/custodian/synth"
)

func TestCodeSuggestCommand(t *testing.T) {
	dir := t.TempDir()
	note := filepath.Join(dir, "note.txt")
	text := "DISCHARGE SUMMARY\nPRINCIPAL DIAGNOSIS: Community-acquired pneumonia.\nSECONDARY DIAGNOSES:\n- Essential hypertension\n- Chronic systolic CHF\nHOSPITAL COURSE: He denies chest pain.\n"
	if err := os.WriteFile(note, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCode(t, "suggest", "--file", note)
	if err != nil || !strings.HasPrefix(out, "J18.9\t") || !strings.Contains(out, "I11.0\t") || strings.Contains(out, "R07.9") {
		t.Fatalf("suggest tsv: %v\n%s", err, out)
	}
	if f := strings.Split(strings.SplitN(out, "\n", 2)[0], "\t"); len(f) != 4 || !strings.Contains(f[3], "pneumonia") {
		t.Errorf("TSV line: code, title, score, evidence: %q", f)
	}
	out, err = runCode(t, "suggest", "--file", note, "--format", "json", "--setting", "outpatient")
	var res struct {
		Setting     string
		Suggestions []struct {
			Code     string
			Evidence []struct{ Start, End int }
		}
	}
	if err != nil || json.Unmarshal([]byte(out), &res) != nil || res.Setting != "outpatient" || len(res.Suggestions) == 0 {
		t.Fatalf("suggest json: %v\n%s", err, out)
	}
	e := res.Suggestions[0].Evidence[0]
	if e.Start < 0 || e.End > len(text) || e.End <= e.Start {
		t.Errorf("evidence span %+v", e)
	}
	empty := filepath.Join(dir, "empty.txt")
	os.WriteFile(empty, nil, 0o600)
	if out, err := runCode(t, "suggest", "--file", empty); err != nil || out != "" {
		t.Errorf("empty note: %v %q", err, out)
	}
	big := filepath.Join(dir, "big.txt")
	os.WriteFile(big, bytes.Repeat([]byte("HTN. "), 10<<20/5), 0o600)
	if _, err := runCode(t, "suggest", "--file", big); custodian.ErrorCode(err) != custodian.ETOOLARGE {
		t.Errorf("10 MB note: %v", err)
	}
	for _, args := range [][]string{{"suggest"}, {"suggest", "--file", note, "--setting", "ward"}, {"suggest", "--file", note, "--format", "xml"}, {"suggest", "--file", filepath.Join(dir, "missing")}} {
		if _, err := runCode(t, args...); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
}

func TestCodingCommand(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	g := storeGenerated(t, dir, 20, 5, except("Observation", "DiagnosticReport", "MedicationRequest", "ImagingStudy", "AllergyIntolerance", "DocumentReference"))
	a, col := g.app, g.col
	stays := 0
	var f *synth.Fact
	for i := range col.Facts {
		if col.Facts[i].Kind == synth.FactCoding {
			stays++
			f = &col.Facts[i]
		}
	}
	// One stay finalised by a coder.
	set, _ := codeset.Load()
	q, err := coding.NewQueue(a.store, set, drg.New())
	if err != nil {
		t.Fatal(err)
	}
	var dx []coding.Diagnosis
	for _, d := range f.Diagnoses {
		dx = append(dx, coding.Diagnosis{Code: d.Code, POA: d.POA})
	}
	var px []coding.Procedure
	for _, p := range f.Procedures {
		px = append(px, coding.Procedure{Code: p, Date: "2024-01-01"})
	}
	cody := custodian.NewContextWithActor(ctx, &custodian.Actor{ID: "cody", Kind: "user", Roles: []string{"coder"}})
	if _, err := q.Save(cody, f.Encounter, dx, px, true); err != nil {
		t.Fatal(err)
	}
	a.Close()

	run := func(args ...string) (string, string, error) {
		var out, errs bytes.Buffer
		err := (&CodingCommand{Stdout: &out, Stderr: &errs}).Run(ctx, append(args, "--data", dir))
		return out.String(), errs.String(), err
	}
	out, errs, err := run("queue")
	if err != nil || strings.Count(out, "\n") != stays-1 || strings.Contains(out, f.Encounter+"\t") || !strings.Contains(errs, "not final coded") {
		t.Fatalf("queue: %v\n%s\n%s", err, out, errs)
	}
	out, _, err = run("queue", "--format", "json")
	var qj struct {
		Encounters []coding.DNFBItem
		Buckets    []coding.AgeBucket
	}
	if err != nil || json.Unmarshal([]byte(out), &qj) != nil || len(qj.Encounters) != stays-1 || len(qj.Buckets) != 5 {
		t.Fatalf("queue json: %v\n%s", err, out)
	}
	out, _, err = run("productivity", "--from", time.Now().AddDate(0, 0, -1).Format(time.DateOnly))
	if err != nil || !strings.Contains(out, "cody\t1\t1\t0\t0\t1\t1.00\t") {
		t.Fatalf("productivity: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"frobnicate"}, {"productivity", "--from", "soon"}, {"queue", "--format", "xml"}} {
		if _, _, err := run(args...); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
}
