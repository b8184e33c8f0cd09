package fhirapi_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/custodian-him/custodian/internal/fhirexamples"
)

// knownInvalid reads the examples the R4 specification itself gets wrong
// (kept, with reasons, next to the validator).
func knownInvalid(t *testing.T) map[string]bool {
	f, err := os.Open("../fhir/testdata/examples-known-invalid.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, " ")
		m[name] = true
	}
	return m
}

func decodeJSON(t *testing.T, b []byte) map[string]any {
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// withoutServerMeta drops what the server sets: meta.versionId and
// meta.lastUpdated (and meta itself if nothing else is left).
func withoutServerMeta(m map[string]any) map[string]any {
	meta, _ := m["meta"].(map[string]any)
	if meta != nil {
		delete(meta, "versionId")
		delete(meta, "lastUpdated")
		if len(meta) == 0 {
			delete(m, "meta")
		}
	}
	return m
}

// TestExamplesRoundTrip stores every resource of the official R4 examples
// package through the API (PUT with its own id) and reads it back equal.
func TestExamplesRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("conformance load skipped in -short mode")
	}
	c := newServer(t)
	known := knownInvalid(t)
	var stored, rejected int
	err := fhirexamples.Each(func(name string, body []byte) error {
		ex := decodeJSON(t, body)
		typ, _ := ex["resourceType"].(string)
		id, _ := ex["id"].(string)
		var r *response
		if id != "" {
			r = c.do("PUT", "/fhir/"+typ+"/"+id, string(body))
		} else {
			r = c.do("POST", "/fhir/"+typ, string(body))
		}
		if known[name] {
			if r.status != http.StatusBadRequest {
				t.Errorf("%s is listed as invalid but got %d", name, r.status)
			}
			rejected++
			return nil
		}
		if r.status != http.StatusOK && r.status != http.StatusCreated {
			t.Errorf("%s: status %d: %.400s", name, r.status, r.raw)
			return nil
		}
		got := c.do("GET", "/fhir/"+typ+"/"+r.str("id"), "")
		if got.status != http.StatusOK {
			t.Errorf("%s: read back status %d", name, got.status)
			return nil
		}
		want := withoutServerMeta(ex)
		have := withoutServerMeta(decodeJSON(t, got.raw))
		if id == "" {
			delete(have, "id")
		}
		if !reflect.DeepEqual(want, have) {
			t.Errorf("%s: read back differs from what was stored", name)
		}
		stored++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d examples stored and read back equal; %d known-invalid examples rejected", stored, rejected)
	if stored+rejected != 5306 {
		t.Errorf("%d examples seen, want 5306", stored+rejected)
	}
}

// TestSyntheaBundles loads the Synthea data set: the shared organisation and
// practitioner batch bundles, then every patient as one transaction.
func TestSyntheaBundles(t *testing.T) {
	if testing.Short() {
		t.Skip("Synthea load skipped in -short mode")
	}
	c := newServer(t)
	var bundles int
	err := fhirexamples.EachSynthea(func(name string, body []byte) error {
		r := c.do("POST", "/fhir", string(body))
		if r.status != http.StatusOK {
			t.Fatalf("%s: status %d: %.500s", name, r.status, r.raw)
		}
		for i, e := range r.entries() {
			st := e.(map[string]any)["response"].(map[string]any)["status"].(string)
			if !strings.HasPrefix(st, "2") {
				t.Fatalf("%s: entry %d: %s", name, i, st)
			}
		}
		bundles++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Patient": "79", "Encounter": "4006", "Observation": "17279", "DocumentReference": "4006", "Claim": "4028"}
	for typ, n := range want {
		if got := c.do("GET", "/fhir/"+typ+"?_total=accurate&_count=0", "").str("total"); got != n {
			t.Errorf("%s: %s stored, want %s", typ, got, n)
		}
	}
	// References were rewritten to the stored patients: every Encounter
	// of the first patient is found by patient search.
	p := c.do("GET", "/fhir/Patient?_count=1", "")
	pid := p.str("entry", "0", "resource", "id")
	enc := c.do("GET", "/fhir/Encounter?subject=Patient/"+pid+"&_total=accurate&_count=0", "")
	if enc.str("total") == "0" {
		t.Errorf("no encounters found for Patient/%s", pid)
	}
	t.Logf("%d bundles loaded", bundles)
}
