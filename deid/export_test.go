package deid_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/deid"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
)

// planted are resources added to the generated ones: a patient over 89
// living in a restricted three-digit ZIP area, a scanned image, and a
// data-use agreement.
var planted = []string{
	`{"resourceType":"Patient","id":"old-1","name":[{"family":"Quixote","given":["Zebulon"]}],"birthDate":"1930-02-03",
	  "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Zebulon Quixote, 77 Hidden Lane, Smalltown NH 03601, born 1930-02-03</div>"},
	  "identifier":[{"system":"http://hl7.org/fhir/sid/us-ssn","value":"999-55-1234"}],
	  "telecom":[{"system":"phone","value":"555-777-1212"}],
	  "contact":[{"relationship":[{"text":"daughter"}],"name":{"family":"Quixote","given":["Dulcinea"]},"telecom":[{"system":"phone","value":"555-888-9999"}]}],
	  "address":[{"line":["77 Hidden Lane"],"city":"Smalltown","state":"NH","postalCode":"03601"}]}`,
	`{"resourceType":"Condition","id":"old-cond","subject":{"reference":"Patient/old-1"},"code":{"text":"Fall at home per daughter Dulcinea"},
	  "note":[{"authorString":"Nurse Ratched","time":"2024-01-02T03:04:05Z","text":"Called Dulcinea at 555-888-9999, email dq@example.com, portal https://example.org/p/old-1"}]}`,
	`{"resourceType":"DocumentReference","id":"scan-doc","status":"current","subject":{"reference":"Patient/old-1"},
	  "content":[{"attachment":{"contentType":"image/png","url":"Binary/scan-1","title":"Scanned consent"}}]}`,
	`{"resourceType":"Binary","id":"scan-2","contentType":"application/pdf","meta":{"extension":[{"url":"https://custodian-him.org/fhir/StructureDefinition/binary-content",
	  "extension":[{"url":"sha256","valueString":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},{"url":"size","valueDecimal":4}]}]}}`,
	`{"resourceType":"Observation","id":"old-obs","status":"final","code":{"text":"note"},"subject":{"reference":"Patient/old-1"},
	  "effectiveDateTime":"2024-05-06T07:08:09-05:00","valueString":"Zebulon Quixote, 96 years old, called from 555-777-1212"}`,
	`{"resourceType":"Binary","id":"scan-1","contentType":"image/png","data":"iVBORw0KGgo="}`,
	`{"resourceType":"Contract","id":"dua-1","status":"executed"}`,
}

type fixture struct {
	st    *store.Store
	ctx   context.Context
	c     synth.Collector
	count map[string]int // resources stored per type
	// planted are the identifiers plantEverywhere put in every kind of
	// string element (identifier → where).
	planted map[string]string
}

func load(t *testing.T, patients int) *fixture { return loadTB(t, patients) }

func loadTB(t testing.TB, patients int) *fixture {
	t.Helper()
	ctx := context.Background()
	db := sqldbtest.Open(t)
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RegisterParams(ctx, reg.Indexed()); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, fhir.R4(), reg)
	st.Guard, st.AuditLog = access.Guard{}, db
	f := &fixture{st: st, ctx: custodian.NewContextWithActor(ctx, custodian.SystemActor()), count: map[string]int{}}
	if _, err := synth.Generate(ctx, synth.Config{Patients: patients, Seed: 13}, &f.c); err != nil {
		t.Fatal(err)
	}
	var batch []map[string]any
	add := func(body []byte) {
		m, err := store.Decode(body)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, m)
	}
	for _, b := range f.c.Bodies {
		add(b)
	}
	for _, p := range planted {
		add([]byte(p))
	}
	everywhere, ids := plantEverywhere(t, f.c.Types, f.c.IDs, f.c.Bodies, 5)
	if len(everywhere) == 0 {
		t.Fatal("no identifiers planted in the string elements")
	}
	f.planted = ids
	for _, p := range everywhere {
		add(p)
	}
	for i := 0; i < len(batch); i += 500 {
		part := batch[i:min(i+500, len(batch))]
		types := make([]string, len(part))
		for j, m := range part {
			types[j], _ = m["resourceType"].(string)
		}
		res, err := st.PutBatch(f.ctx, part)
		if err != nil {
			t.Fatal(err)
		}
		for j, r := range res {
			if r.Err != nil {
				t.Fatalf("loading a %s: %v", types[j], r.Err)
			}
			f.count[types[j]]++
		}
	}
	return f
}

func (f *fixture) export(t *testing.T, x deid.Export) (*deid.Report, string) {
	t.Helper()
	x.Source = f.st
	if x.Out == "" {
		x.Out = t.TempDir()
	}
	if x.Key == nil {
		x.Key = testKey(t)
	}
	x.Types = fhir.R4().ResourceTypes()
	rep, err := x.Run(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return rep, x.Out
}

func testKey(t *testing.T) *deid.Key {
	k, err := deid.NewKey([]byte("a test key of twenty-four"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// outRes is one output resource, with where it was and its text
// attachments decoded.
type outRes struct {
	where string
	m     map[string]any
	text  string // the line and the decoded attachment texts
}

func readOut(t *testing.T, dir string) map[string][]outRes {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	out := map[string][]outRes{}
	for _, name := range files {
		fh, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 64<<20)
		for n := 1; sc.Scan(); n++ {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("%s line %d: %v", name, n, err)
			}
			text := sc.Text()
			walk(m, func(k string, v any) {
				if s, ok := v.(string); ok && k == "data" {
					if b, err := base64.StdEncoding.DecodeString(s); err == nil {
						text += "\n" + string(b)
					}
				}
			})
			typ := m["resourceType"].(string)
			out[typ] = append(out[typ], outRes{where: fmt.Sprintf("%s line %d (%s/%s)", filepath.Base(name), n, typ, m["id"]), m: m, text: text})
		}
		fh.Close()
	}
	return out
}

func walk(v any, fn func(k string, v any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			fn(k, e)
			walk(e, fn)
		}
	case []any:
		for _, e := range x {
			walk(e, fn)
		}
	}
}

// identifiers are the known identifiers of the generated patients: names,
// MRN, SSN, phones, email, full birth date, street line, and what the
// generator planted in notes.
func identifiers(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	ids := map[string]string{} // identifier -> what it is
	for i, typ := range f.c.Types {
		if typ != "Patient" {
			continue
		}
		var p struct {
			Name []struct {
				Family string
				Given  []string
			}
			Identifier []struct{ Value string }
			Telecom    []struct{ Value string }
			BirthDate  string
			Address    []struct{ Line []string }
		}
		if err := json.Unmarshal(f.c.Bodies[i], &p); err != nil {
			t.Fatal(err)
		}
		who := "Patient/" + f.c.IDs[i]
		for _, n := range p.Name {
			ids[n.Family] = who + " family name"
			for _, g := range n.Given {
				ids[g] = who + " given name"
			}
			if len(n.Given) > 0 {
				ids[n.Given[0]+" "+n.Family] = who + " name"
			}
		}
		for _, x := range p.Identifier {
			ids[x.Value] = who + " identifier"
		}
		for _, x := range p.Telecom {
			ids[x.Value] = who + " telecom"
		}
		ids[p.BirthDate] = who + " birth date"
		for _, a := range p.Address {
			for _, l := range a.Line {
				ids[l] = who + " street address"
			}
		}
	}
	for _, fact := range f.c.Facts {
		if fact.Kind == synth.FactIdentifier && fact.Detail != "age" {
			ids[fact.Text] = fact.Resource + " planted " + fact.Detail
		}
	}
	for s, what := range f.planted {
		ids[s] = what
	}
	for _, s := range []string{"Zebulon", "Quixote", "999-55-1234", "555-777-1212", "77 Hidden Lane", "1930-02-03", "03601",
		"Dulcinea", "555-888-9999", "Ratched", "dq@example.com", "https://example.org/p/old-1", "Smalltown"} {
		ids[s] = "planted Patient/old-1"
	}
	delete(ids, "")
	return ids
}

// contains reports whether s holds id as a whole word.
func contains(s, id string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], id)
		if i < 0 {
			return false
		}
		i += off
		before, after := i == 0 || !wordByte(s[i-1]), i+len(id) == len(s) || !wordByte(s[i+len(id)])
		if before && after {
			return true
		}
		off = i + 1
	}
}

func wordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

var fullDate = regexp.MustCompile(`\b\d{4}-(\d{2})-(\d{2})`)

func TestExport(t *testing.T) {
	f := load(t, 25)
	t.Run("safe harbor", func(t *testing.T) { testSafeHarbor(t, f) })
	t.Run("date shift", func(t *testing.T) { testDateShift(t, f) })
	t.Run("limited data set", func(t *testing.T) { testLimited(t, f) })
}

func testSafeHarbor(t *testing.T, f *fixture) {
	before, _ := f.st.FindAudit(f.ctx, audit.Filter{Action: audit.ActionExport, Limit: 100})
	rep, dir := f.export(t, deid.Export{Method: deid.SafeHarbor})
	out := readOut(t, dir)

	// Counts: every stored resource is written, but the Binary (reported).
	for typ, n := range f.count {
		want := n
		if typ == "Binary" {
			want = 0
		}
		if got := len(out[typ]); got != want {
			t.Errorf("%s: %d written, %d stored", typ, got, n)
		}
		if tr := rep.Types[typ]; tr == nil || tr.Read != n || tr.Written != want {
			t.Errorf("%s: report %+v, %d stored", typ, tr, n)
		}
	}
	if rep.Dropped != f.count["Binary"] || rep.Types["Binary"].Rules["binary-dropped"] != 2 {
		t.Errorf("dropped attachments not reported: %d", rep.Dropped)
	}
	if n := rep.Types["DocumentReference"].Rules["attachment-url-removed"]; n != 1 {
		t.Errorf("%d links to attachment content removed, want 1", n)
	}

	// No known identifier anywhere.
	ids := identifiers(t, f)
	leaks := 0
	for _, rs := range out {
		for _, r := range rs {
			for id, what := range ids {
				if contains(r.text, id) {
					leaks++
					if leaks <= 20 {
						t.Errorf("leak: %q (%s) in %s", id, what, r.where)
					}
				}
			}
			if m := fullDate.FindAllStringSubmatch(r.text, -1); m != nil {
				for _, d := range m {
					if d[1] != "01" || d[2] != "01" {
						t.Errorf("a full date %s in %s", d[0], r.where)
						break
					}
				}
			}
		}
	}
	if leaks > 0 {
		t.Errorf("%d leaks of %d known identifiers", leaks, len(ids))
	}
	checkPlantedKept(t, out, testKey(t).Pseudonym)
	checkOldDates(t, out, testKey(t).Pseudonym)

	// Every reference resolves inside the export.
	have := map[string]bool{}
	for typ, rs := range out {
		for _, r := range rs {
			have[typ+"/"+r.m["id"].(string)] = true
		}
	}
	refs := 0
	for _, rs := range out {
		for _, r := range rs {
			walk(r.m, func(k string, v any) {
				if s, ok := v.(string); ok && k == "reference" && !strings.HasPrefix(s, "#") {
					refs++
					if !have[s] {
						t.Errorf("reference %s in %s does not resolve", s, r.where)
					}
				}
			})
		}
	}
	if refs == 0 {
		t.Error("no references in the output")
	}

	// Ages over 89 grouped; ZIP3 rule.
	key := testKey(t)
	old := find(out["Patient"], key.Pseudonym("Patient", "old-1"))
	if old == nil {
		t.Fatal("the planted patient is missing")
	}
	if _, ok := old["birthDate"]; ok || !strings.Contains(fmt.Sprint(old["extension"]), "90+") {
		t.Errorf("patient over 89: %v", old)
	}
	if zip := old["address"].([]any)[0].(map[string]any)["postalCode"]; zip != "000" {
		t.Errorf("restricted ZIP3 written %v", zip)
	}
	for _, r := range out["Patient"] {
		for _, a := range asList(r.m["address"]) {
			if z, _ := a.(map[string]any)["postalCode"].(string); len(z) != 3 {
				t.Errorf("postal code %q in %s", z, r.where)
			}
		}
	}
	for _, fact := range f.c.Facts {
		if fact.Kind == synth.FactIdentifier && fact.Detail == "age" {
			typ, id, _ := strings.Cut(fact.Resource, "/")
			r := findOut(out[typ], key.Pseudonym(typ, id))
			if r == nil || strings.Contains(r.text, fact.Text+"-year-old") {
				t.Errorf("age %s of %s not grouped", fact.Text, fact.Resource)
			}
		}
	}

	// The export is in the audit trail.
	after, err := f.st.FindAudit(f.ctx, audit.Filter{Action: audit.ActionExport, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(after)-len(before) != 2 || !strings.Contains(after[0].Query, "deid export method=safe-harbor") {
		t.Errorf("audit entries of the export: %d", len(after)-len(before))
	}
	t.Logf("%d resources, %d identifiers checked, %d references", rep.Read, len(ids), refs)
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func find(rs []outRes, id string) map[string]any {
	if r := findOut(rs, id); r != nil {
		return r.m
	}
	return nil
}

func findOut(rs []outRes, id string) *outRes {
	for i := range rs {
		if rs[i].m["id"] == id {
			return &rs[i]
		}
	}
	return nil
}

func testDateShift(t *testing.T, f *fixture) {
	key := testKey(t)
	_, dir := f.export(t, deid.Export{Method: deid.SafeHarbor, DateShift: true, Key: key})
	out := readOut(t, dir)
	checked := map[string]int{}
	shifts := map[string]int{}
	for i, typ := range f.c.Types {
		if typ != "Encounter" {
			continue
		}
		var e struct {
			ID      string
			Subject struct{ Reference string }
			Period  struct{ Start, End string }
		}
		json.Unmarshal(f.c.Bodies[i], &e)
		o := find(out["Encounter"], key.Pseudonym("Encounter", e.ID))
		if o == nil {
			t.Fatalf("Encounter/%s missing", e.ID)
		}
		p := o["period"].(map[string]any)
		in, _ := time.Parse(time.RFC3339, e.Period.Start)
		got, err := time.Parse(time.RFC3339, p["start"].(string))
		if err != nil {
			t.Fatal(err)
		}
		days := int(got.Sub(in).Hours() / 24)
		pt := strings.TrimPrefix(e.Subject.Reference, "Patient/")
		if s, ok := shifts[pt]; ok && s != days {
			t.Errorf("Encounter/%s shifted %d days, another of the same patient %d", e.ID, days, s)
		}
		shifts[pt] = days
		if days != key.Shift(pt) {
			t.Errorf("Encounter/%s shifted %d days, want %d", e.ID, days, key.Shift(pt))
		}
		if e.Period.End != "" {
			inEnd, _ := time.Parse(time.RFC3339, e.Period.End)
			outEnd, _ := time.Parse(time.RFC3339, p["end"].(string))
			if outEnd.Sub(got) != inEnd.Sub(in) {
				t.Errorf("Encounter/%s: length of stay changed", e.ID)
			}
		}
		checked[pt]++
	}
	// A patient's own dates move with the rest of the record.
	for i, typ := range f.c.Types {
		if typ != "Patient" {
			continue
		}
		var p struct{ ID, BirthDate string }
		json.Unmarshal(f.c.Bodies[i], &p)
		o := find(out["Patient"], key.Pseudonym("Patient", p.ID))
		bd, ok := o["birthDate"].(string)
		if !ok {
			continue // over 89
		}
		in, _ := time.Parse("2006-01-02", p.BirthDate)
		got, err := time.Parse("2006-01-02", bd)
		if err != nil || int(got.Sub(in).Hours()/24) != key.Shift(p.ID) {
			t.Errorf("Patient/%s birth date %s shifted to %s, want %d days", p.ID, p.BirthDate, bd, key.Shift(p.ID))
		}
	}
	distinct := map[int]bool{}
	for _, s := range shifts {
		distinct[s] = true
	}
	if len(checked) < 5 || len(distinct) < 3 {
		t.Errorf("shift checked on %d patients with %d distinct shifts", len(checked), len(distinct))
	}
}

func testLimited(t *testing.T, f *fixture) {
	for _, c := range []struct {
		dua  string
		code string
	}{{"", custodian.EINVALID}, {"Contract/none", custodian.EPRECONDITION}, {"Patient/old-1", custodian.EINVALID}} {
		x := deid.Export{Source: f.st, Method: deid.Limited, DUA: c.dua, Key: testKey(t), Out: t.TempDir(), Types: []string{"Patient"}}
		if _, err := x.Run(f.ctx); custodian.ErrorCode(err) != c.code {
			t.Errorf("dua %q: %v, want %s", c.dua, err, c.code)
		}
	}
	rep, dir := f.export(t, deid.Export{Method: deid.Limited, DUA: "dua-1"})
	if rep.DUA != "Contract/dua-1" {
		t.Errorf("agreement %q", rep.DUA)
	}
	out := readOut(t, dir)
	old := find(out["Patient"], testKey(t).Pseudonym("Patient", "old-1"))
	a := old["address"].([]any)[0].(map[string]any)
	if old["birthDate"] != "1930-02-03" || a["city"] != "Smalltown" || a["postalCode"] != "03601" || a["line"] != nil || old["name"] != nil || old["telecom"] != nil || old["identifier"] != nil {
		t.Errorf("limited data set patient: %v", old)
	}
	obs := find(out["Observation"], testKey(t).Pseudonym("Observation", "old-obs"))
	if s := obs["valueString"].(string); strings.Contains(s, "Zebulon") || strings.Contains(s, "555-777") || !strings.Contains(s, "96 years") {
		t.Errorf("limited data set text: %q", s)
	}
	if !bytes.Contains([]byte(fmt.Sprint(obs["effectiveDateTime"])), []byte("2024-05-06")) {
		t.Errorf("limited data set date: %v", obs["effectiveDateTime"])
	}
}
