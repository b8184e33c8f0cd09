package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readPairs(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "id_a,id_b,probability,weight,class" {
		t.Fatalf("header %v", rows)
	}
	return rows[1:]
}

const mpiPeopleCSV = `rec_id,first_name,last_name,dob,gender,address_1,city,zip,phone,ssn
a1,Robert,Okafor,1961-03-14,M,12 Elm Street,Columbus,43215,555-201-3344,999-12-3456
a2,Bob,Okafor,1961-03-14,M,12 Elm St,Columbus,43215,(555) 201-3344,999123456
b1,Maria,Gonzalez,1985-11-02,F,400 Oak Avenue,Dublin,43017,555-310-9988,
b2,María,Gonzales,1985-11-02,F,400 Oak Ave,Dublin,43017,,
c1,Wei,Chen,1990-07-21,M,9 Maple Drive,Delaware,43015,555-777-1212,999-55-1200
d1,Ann,Kowalski,1948-01-30,F,77 Pine Road,Marion,43302,555-644-0101,
`

func TestMPIDedupeCommand(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "people.csv", mpiPeopleCSV)
	out := filepath.Join(dir, "pairs.csv")
	var stdout, stderr bytes.Buffer
	cmd := &MPICommand{Stdout: &stdout, Stderr: &stderr}
	if err := cmd.Run(context.Background(), []string{"dedupe", "--in", in, "--out", out}); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	rows := readPairs(t, out)
	got := map[string]bool{}
	last := 2.0
	for _, r := range rows {
		got[r[0]+"-"+r[1]] = true
		p, err := strconv.ParseFloat(r[2], 64)
		if err != nil || p > last || p < 0.5 {
			t.Errorf("probability %q out of order or below the threshold", r[2])
		}
		last = p
	}
	if !got["a1-a2"] || !got["b1-b2"] || len(rows) != 2 {
		t.Errorf("pairs %v, want a1-a2 and b1-b2", rows)
	}
	if !strings.Contains(stderr.String(), "6 records") {
		t.Errorf("summary: %s", stderr.String())
	}
}

func TestMPILinkCommandAndMapping(t *testing.T) {
	dir := t.TempDir()
	left := writeFile(t, dir, "left.csv", mpiPeopleCSV)
	right := writeFile(t, dir, "right.csv", "key,fn,ln,born,post\nx,Bobby,Okafor,19610314,43215\ny,Zed,Quinn,2001-01-01,90210\n")
	out := filepath.Join(dir, "pairs.csv")
	var stdout, stderr bytes.Buffer
	cmd := &MPICommand{Stdout: &stdout, Stderr: &stderr}
	// A mapping for both files names columns the left file lacks.
	err := cmd.Run(context.Background(), []string{"link", "--left", left, "--right", right, "--map", "given=fn", "--out", out})
	if custodian.ErrorCode(err) != custodian.EINVALID || !strings.Contains(err.Error(), "left.csv") {
		t.Fatalf("err %v, want EINVALID about left.csv", err)
	}
	if err := cmd.Run(context.Background(), []string{"link", "--left", left, "--right", right, "--right-map", "id=key,given=fn,family=ln,birth_date=born,postcode=post",
		"--out", out}); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	rows := readPairs(t, out)
	if len(rows) != 2 || rows[0][1] != "x" || rows[1][1] != "x" {
		t.Errorf("pairs %v, want a1-x and a2-x", rows)
	}
}

func TestMPICommandNDJSON(t *testing.T) {
	dir := t.TempDir()
	p := func(id, given, family, dob string) string {
		return `{"resourceType":"Patient","id":"` + id + `","name":[{"family":"` + family + `","given":["` + given + `"]}],"gender":"female","birthDate":"` + dob + `","address":[{"line":["5 Birch Lane"],"city":"Lima","postalCode":"45801"}]}`
	}
	in := writeFile(t, dir, "Patient.ndjson", p("p1", "Katherine", "Hall", "1972-04-09")+"\n\n"+p("p2", "Kathy", "Hall", "1972-09-04")+"\n"+p("p3", "Olu", "Adeyemi", "2003-12-25")+"\n")
	var stdout, stderr bytes.Buffer
	cmd := &MPICommand{Stdout: &stdout, Stderr: &stderr}
	if err := cmd.Run(context.Background(), []string{"dedupe", "--in", in, "--out", "-"}); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "id_a,id_b,probability,weight,class\np1,p2,") || strings.Count(stdout.String(), "\n") != 2 {
		t.Errorf("output:\n%s", stdout.String())
	}
	bad := writeFile(t, dir, "bad.ndjson", p("p1", "A", "B", "2000-01-01")+"\n"+`{"resourceType":"Observation","id":"o"}`+"\n")
	err := cmd.Run(context.Background(), []string{"dedupe", "--in", bad, "--out", "-"})
	if custodian.ErrorCode(err) != custodian.EINVALID || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a non-Patient line: %v, want EINVALID naming line 2", err)
	}
}

func TestMPICommandErrors(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "people.csv", mpiPeopleCSV)
	cases := []struct {
		name string
		args []string
	}{
		{"no subcommand", []string{"nonsense"}},
		{"no input", []string{"dedupe", "--out", "-"}},
		{"no output", []string{"dedupe", "--in", in}},
		{"link with one side", []string{"link", "--left", in, "--out", "-"}},
		{"bad threshold", []string{"dedupe", "--in", in, "--out", "-", "--threshold", "1.5"}},
		{"bad mapping", []string{"dedupe", "--in", in, "--out", "-", "--map", "given"}},
		{"unknown field", []string{"dedupe", "--in", in, "--out", "-", "--map", "height=rec_id"}},
		{"missing file", []string{"dedupe", "--in", filepath.Join(dir, "nope.csv"), "--out", "-"}},
		{"stray argument", []string{"dedupe", "--in", in, "--out", "-", "extra"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := (&MPICommand{Stdout: &stdout, Stderr: &stderr}).Run(context.Background(), c.args); err == nil {
				t.Errorf("accepted %v", c.args)
			}
		})
	}
}

func TestMPIBenchCommand(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), []string{"generate", "--patients", "300", "--seed", "3", "--duplicate-rate", "0.1", "--trap-rate", "0.1", "--out", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("generate: %v\n%s", err, stderr.String())
	}
	stdout.Reset()
	cmd := &MPICommand{Stdout: &stdout, Stderr: &stderr}
	if err := cmd.Run(context.Background(), []string{"bench", "--in", filepath.Join(dir, "Patient.ndjson"), "--truth", filepath.Join(dir, "ground-truth.ndjson")}); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, want := range []string{"records", "automatic links    precision", "F1", "peak memory", "look-alike twin"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("bench output lacks %q:\n%s", want, stdout.String())
		}
	}
}
