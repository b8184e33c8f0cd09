package chart

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/custodian-him/custodian/sqldb/sqldbtest"
)

var update = flag.Bool("update", false, "rewrite testdata/facts/golden.json (only after bumping factsVersion when facts changed)")

// factSample is a version of a resource (body nil for a delete).
type factSample struct {
	typ, id string
	body    []byte
}

// factSamples are the resources of testdata/facts (see PROVENANCE.md),
// three chart Tasks and a delete of each type.
func factSamples(t *testing.T) []factSample {
	t.Helper()
	var out []factSample
	for _, r := range sqldbtest.ReadNDJSON(t, filepath.Join("testdata", "facts", "resources.ndjson.gz")) {
		out = append(out, factSample{r.Type, r.ID, r.Body})
	}
	at := time.Date(2025, 3, 2, 11, 0, 0, 0, time.FixedZone("", -5*3600))
	for i, d := range []*Deficiency{
		{Key: "hp|Encounter/e1", Rule: "hp", Kind: KindMissingDischargeSummary, Title: "Discharge summary", Encounter: "Encounter/e1",
			Patient: "Patient/p1", Focus: "Encounter/e1", Owner: "Practitioner/att", Open: true, Since: at, Due: at.Add(48 * time.Hour),
			Evidence: "none filed", Clear: "file it", Service: "Medicine", Class: "IMP", Discharge: at},
		{Key: "progress|Encounter/e1|2025-03-01", Rule: "progress", Kind: KindMissingProgressNote, Encounter: "Encounter/e1",
			Patient: "Patient/p1", Focus: "Encounter/e1", Date: "2025-03-01", Since: at, Cleared: at.Add(time.Hour)},
		{Key: "x|Procedure/pr1", Rule: "x", Kind: "late-operative-note", Focus: "Procedure/pr1"},
	} {
		status := []string{StatusRequested, StatusCompleted, StatusCancelled}[i]
		b, err := json.Marshal(toTask(d, status, at))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, factSample{"Task", TaskID(d.Key), b})
	}
	out = append(out, factSample{"Task", "not-chart", []byte(`{"resourceType":"Task","id":"not-chart","status":"requested"}`)})
	for _, typ := range factTypes {
		out = append(out, factSample{typ, "gone", nil})
	}
	return out
}

// reviewerOf files samples in a new reviewer, straight from their bodies
// or through their facts.
func reviewerOf(t *testing.T, samples []factSample, throughFacts bool) *Reviewer {
	t.Helper()
	rv := NewReviewer(nil)
	s := rv.view()
	for _, x := range samples {
		v := s.decodeVersion(x.typ, x.body)
		if throughFacts {
			data := encodeFact(x.typ, v)
			if data == nil {
				v = nil
			} else {
				var err error
				if v, err = decodeFact(x.typ, data); err != nil {
					t.Fatalf("%s/%s: %v", x.typ, x.id, err)
				}
			}
		}
		if v == nil && x.typ == "Task" {
			v = (*taskRec)(nil)
		}
		s.file(x.typ, x.id, v)
	}
	return rv
}

// TestFactsRoundTrip files every sample straight and through its fact:
// the indexes are the same, a fact reads back to the same fact, and every
// fact cut short is refused.
func TestFactsRoundTrip(t *testing.T) {
	samples := factSamples(t)
	want, got := Dump(reviewerOf(t, samples, false), true), Dump(reviewerOf(t, samples, true), true)
	if len(want["_notes"]) == 0 || len(want["_obs"]) == 0 || len(want["_tasks"]) == 0 || len(want["_consents"]) == 0 {
		t.Fatalf("the samples leave parts of the index empty: %q", want)
	}
	for k := range want {
		if want[k] != got[k] {
			t.Errorf("%s through facts:\n%s\nwant:\n%s", k, got[k], want[k])
		}
	}
	kept := 0
	for _, x := range samples {
		rv := NewReviewer(nil)
		data := encodeFact(x.typ, rv.view().decodeVersion(x.typ, x.body))
		if data == nil {
			continue
		}
		kept++
		v, err := decodeFact(x.typ, data)
		if err != nil {
			t.Fatalf("%s/%s: %v", x.typ, x.id, err)
		}
		if again := encodeFact(x.typ, v); !bytes.Equal(again, data) {
			t.Errorf("%s/%s: the fact read back writes %x, not %x", x.typ, x.id, again, data)
		}
		for i := range data {
			if _, err := decodeFact(x.typ, data[:i]); !errors.Is(err, errFact) {
				t.Fatalf("%s/%s cut to %d of %d bytes: %v, want errFact", x.typ, x.id, i, len(data), err)
			}
		}
		if _, err := decodeFact(x.typ, append(bytes.Clone(data), 0)); !errors.Is(err, errFact) {
			t.Errorf("%s/%s with a byte more: %v, want errFact", x.typ, x.id, err)
		}
	}
	if kept < 30 {
		t.Errorf("only %d samples kept a fact", kept)
	}
}

// golden is testdata/facts/golden.json: the facts of the samples and the
// factsVersion they were written with.
type golden struct {
	Version int               `json:"version"`
	Facts   map[string]string `json:"facts"`
}

// TestFactsGolden fails when what the index keeps of a resource (or how
// it is written) changes while factsVersion stays the same: saved facts
// of the old kind would otherwise be read as if current.
func TestFactsGolden(t *testing.T) {
	path := filepath.Join("testdata", "facts", "golden.json")
	got := golden{Version: factsVersion, Facts: map[string]string{}}
	rv := NewReviewer(nil)
	for _, x := range factSamples(t) {
		got.Facts[x.typ+"/"+x.id] = base64.StdEncoding.EncodeToString(encodeFact(x.typ, rv.view().decodeVersion(x.typ, x.body)))
	}
	var want golden
	b, err := os.ReadFile(path)
	if err != nil && !*update {
		t.Fatal(err)
	}
	if err == nil {
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
	}
	var changed []string
	for k, v := range got.Facts {
		if want.Facts[k] != v {
			changed = append(changed, k)
		}
	}
	for k := range want.Facts {
		if _, ok := got.Facts[k]; !ok {
			changed = append(changed, k)
		}
	}
	slices.Sort(changed)
	if *update {
		if len(changed) > 0 && want.Version == factsVersion && want.Facts != nil {
			t.Fatalf("the facts of %q changed but factsVersion is still %d: bump it before -update", changed, factsVersion)
		}
		b, _ := json.MarshalIndent(got, "", " ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	switch {
	case len(changed) > 0 && want.Version == factsVersion:
		t.Errorf("the facts of %q changed but factsVersion is still %d: bump it, then run go test -run TestFactsGolden -update", changed, factsVersion)
	case want.Version != factsVersion:
		t.Errorf("factsVersion is %d, the golden facts are of version %d: run go test -run TestFactsGolden -update", factsVersion, want.Version)
	}
}
