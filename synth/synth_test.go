package synth_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/synth"
)

// hashWriter hashes everything Generate writes, in order.
type hashWriter struct {
	h         [2]interface{ Write([]byte) (int, error) }
	resources int
	facts     int
}

func newHashWriter() (*hashWriter, func() string) {
	h := sha256.New()
	w := &hashWriter{}
	w.h[0] = h
	return w, func() string { return fmt.Sprintf("%x", h.Sum(nil)) }
}

func (w *hashWriter) Resource(typ, id string, body []byte) error {
	w.resources++
	fmt.Fprintf(w.h[0], "%s/%s\n", typ, id)
	w.h[0].Write(body)
	return nil
}

func (w *hashWriter) Fact(f *synth.Fact) error {
	w.facts++
	b, _ := json.Marshal(f)
	w.h[0].Write(b)
	return nil
}

func TestDeterminism(t *testing.T) {
	run := func(seed uint64, workers int) (string, int) {
		w, sum := newHashWriter()
		if _, err := synth.Generate(context.Background(), synth.Config{Patients: 120, Seed: seed, Workers: workers}, w); err != nil {
			t.Fatal(err)
		}
		return sum(), w.resources
	}
	a, n := run(42, 1)
	b, _ := run(42, 3)
	c, _ := run(42, 2)
	if a != b || a != c {
		t.Errorf("the same seed gave different output with different worker counts: %s %s %s", a, b, c)
	}
	if d, _ := run(43, 2); d == a {
		t.Error("different seeds gave the same output")
	}
	if n < 120*20 {
		t.Errorf("only %d resources for 120 people", n)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]synth.Config{
		"negative patients": {Patients: -1},
		"short window":      {Patients: 1, Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)},
		"bad rate":          {Patients: 1, DuplicateRate: 0.9},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := synth.Generate(context.Background(), cfg, synth.Discard{}); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := synth.Generate(ctx, synth.Config{Patients: 5000, Seed: 1}, synth.Discard{}); err == nil {
		t.Error("a cancelled context did not stop generation")
	}
}

// dataset is a generated hospital decoded for checking. Observations are
// validated and counted but not kept.
type dataset struct {
	cfg       synth.Config
	sum       *synth.Summary
	byType    map[string]map[string]map[string]any // type -> id -> resource (not Observation)
	ids       map[string]bool                      // every "Type/id"
	refs      []string                             // every literal reference found
	issues    []string
	facts     []synth.Fact
	types     []string
	codeCount int
}

func (d *dataset) Resource(typ, id string, body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		d.issues = append(d.issues, fmt.Sprintf("%s/%s: %v", typ, id, err))
		return nil
	}
	if m["resourceType"] != typ || m["id"] != id {
		d.issues = append(d.issues, fmt.Sprintf("%s/%s: resourceType or id differ from the body", typ, id))
	}
	for _, is := range fhir.R4().Validate(m) {
		if len(d.issues) < 50 {
			d.issues = append(d.issues, fmt.Sprintf("%s/%s: %s %s", typ, id, is.Path, is.Message))
		}
	}
	key := typ + "/" + id
	if d.ids[key] {
		d.issues = append(d.issues, "duplicate id "+key)
	}
	d.ids[key] = true
	walk(m, func(k string, v any) {
		if s, ok := v.(string); ok && k == "reference" {
			d.refs = append(d.refs, s)
		}
	})
	if typ != "Observation" {
		if d.byType[typ] == nil {
			d.byType[typ] = map[string]map[string]any{}
		}
		d.byType[typ][id] = m
	}
	return nil
}

func (d *dataset) Fact(f *synth.Fact) error {
	d.facts = append(d.facts, *f)
	return nil
}

func walk(v any, fn func(k string, v any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			fn(k, y)
			walk(y, fn)
		}
	case []any:
		for _, y := range x {
			walk(y, fn)
		}
	}
}

var (
	dsOnce sync.Once
	ds     *dataset
)

// hospital generates (once) the data set the checks below share.
func hospital(t *testing.T) *dataset {
	t.Helper()
	dsOnce.Do(func() {
		n := 800
		if testing.Short() {
			n = 300
		}
		d := &dataset{cfg: synth.Config{Patients: n, Seed: 2025}, byType: map[string]map[string]map[string]any{}, ids: map[string]bool{}}
		sum, err := synth.Generate(context.Background(), d.cfg, d)
		if err != nil {
			t.Fatal(err)
		}
		d.sum = sum
		ds = d
	})
	if ds == nil {
		t.Fatal("generation failed")
	}
	return ds
}

func TestValid(t *testing.T) {
	d := hospital(t)
	for _, is := range d.issues {
		t.Error(is)
	}
	for _, typ := range []string{"Patient", "Encounter", "Condition", "Procedure", "Observation", "DiagnosticReport", "ImagingStudy",
		"MedicationRequest", "AllergyIntolerance", "DocumentReference", "Consent", "Organization", "Location", "Practitioner", "PractitionerRole"} {
		if d.sum.Resources[typ] == 0 {
			t.Errorf("no %s generated", typ)
		}
	}
}

func TestReferencesResolve(t *testing.T) {
	d := hospital(t)
	bad := 0
	for _, r := range d.refs {
		if !d.ids[r] {
			if bad++; bad < 10 {
				t.Errorf("reference %q does not resolve", r)
			}
		}
	}
	if len(d.refs) == 0 {
		t.Fatal("no references found")
	}
}

func str(m map[string]any, path ...string) string {
	var v any = m
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			if len(x) == 0 {
				return ""
			}
			v = x[0].(map[string]any)[p]
		default:
			return ""
		}
	}
	if a, ok := v.([]any); ok && len(a) > 0 {
		v = a[0]
	}
	s, _ := v.(string)
	return s
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	layout := time.RFC3339
	if len(s) == 10 {
		layout = time.DateOnly
	}
	v, err := time.Parse(layout, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return v
}

func age(birth, at time.Time) int {
	y := at.Year() - birth.Year()
	if at.Month() < birth.Month() || at.Month() == birth.Month() && at.Day() < birth.Day() {
		y--
	}
	return y
}

// TestCodes checks every ICD-10 code against the embedded subset: known,
// billable in FY2025, valid over the whole window, and consistent with
// the patient's age and sex (the MCE edits).
func TestCodes(t *testing.T) {
	d := hospital(t)
	codes := synth.Codes()
	start, end := d.cfg.Start, d.cfg.End
	if start.IsZero() {
		start, end = time.Date(2022, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC)
	}
	injected := map[string]bool{} // Conditions whose code is a recorded fault
	for _, f := range d.facts {
		if f.Kind == synth.FactDeficiency && strings.HasPrefix(f.Resource, "Condition/") {
			injected[f.Resource] = true
		}
	}
	for id, c := range d.byType["Condition"] {
		code := str(c, "code", "coding", "code")
		if injected["Condition/"+id] {
			continue
		}
		ci := codes[code]
		if ci == nil || ci.System != "cm" || !ci.BillableFY2025 {
			t.Errorf("Condition/%s: %s is not a billable FY2025 ICD-10-CM code of the subset", id, code)
			continue
		}
		if ci.ValidFrom > start.Format(time.DateOnly) || ci.ValidTo < end.Format(time.DateOnly) {
			t.Errorf("%s is not valid over the whole window (%s..%s)", code, ci.ValidFrom, ci.ValidTo)
		}
		p := d.byType["Patient"][strings.TrimPrefix(str(c, "subject", "reference"), "Patient/")]
		birth := parseTime(t, str(p, "birthDate"))
		at := parseTime(t, str(c, "recordedDate"))
		a := age(birth, at)
		for _, attr := range ci.Attributes {
			ok := true
			switch attr {
			case "NEWBORN":
				ok = a == 0
			case "PEDIATRIC":
				ok = a <= 17
			case "MATERNITY":
				ok = a >= 9 && a <= 64
			case "ADULT":
				ok = a >= 15
			}
			if !ok {
				t.Errorf("Condition/%s: %s (%s) for a patient aged %d", id, code, attr, a)
			}
		}
		if sex := map[string]string{"male": "M", "female": "F"}[str(p, "gender")]; ci.Sex != "" && ci.Sex != sex {
			t.Errorf("Condition/%s: %s is for sex %s, the patient is %s", id, code, ci.Sex, str(p, "gender"))
		}
		if strings.HasPrefix(code, "O") || strings.HasPrefix(code, "Z3A") || strings.HasPrefix(code, "Z37") {
			if str(p, "gender") != "female" || a < 12 {
				t.Errorf("Condition/%s: pregnancy code %s for a %d-year-old %s", id, code, a, str(p, "gender"))
			}
		}
	}
	for id, pr := range d.byType["Procedure"] {
		code := str(pr, "code", "coding", "code")
		if ci := codes[code]; ci == nil || ci.System != "pcs" || !ci.BillableFY2025 {
			t.Errorf("Procedure/%s: %s is not a valid FY2025 ICD-10-PCS code of the subset", id, code)
		}
	}
	for _, f := range d.facts {
		if f.Kind != synth.FactCoding {
			continue
		}
		for _, attr := range codes[f.Principal].Attributes {
			if attr == "UNACCEPTABLE" || attr == "ECODEPDX" || attr == "MANIF" {
				t.Errorf("%s: principal diagnosis %s is %s as principal", f.Encounter, f.Principal, attr)
			}
		}
	}
}

// notesOf indexes the encounter's DocumentReferences.
func (d *dataset) notesOf() map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, doc := range d.byType["DocumentReference"] {
		enc := str(doc, "context", "encounter", "reference")
		out[enc] = append(out[enc], doc)
	}
	return out
}

func noteType(doc map[string]any) string { return str(doc, "type", "coding", "code") }

// TestGroundTruth checks that every injected fact is really so in the data
// and, for chart deficiencies, that the data has no deficiency the truth
// does not list.
func TestGroundTruth(t *testing.T) {
	d := hospital(t)
	pat := func(ref string) map[string]any { return d.byType["Patient"][strings.TrimPrefix(ref, "Patient/")] }
	enc := func(ref string) map[string]any { return d.byType["Encounter"][strings.TrimPrefix(ref, "Encounter/")] }
	notes := d.notesOf()
	residents := map[string]bool{}
	for _, r := range d.byType["PractitionerRole"] {
		if str(r, "code", "coding", "code") == "resident" {
			residents[str(r, "practitioner", "reference")] = true
		}
	}
	consented := map[string]bool{}
	for _, c := range d.byType["Consent"] {
		consented[str(c, "provision", "data", "reference", "reference")] = true
		consented[str(c, "provision", "data", "reference")] = true
	}
	documented := map[string]bool{}
	for _, doc := range d.byType["DocumentReference"] {
		if r := str(doc, "context", "related", "reference"); r != "" {
			documented[r] = true
		}
	}
	condsOf := map[string]map[string]bool{}
	for _, c := range d.byType["Condition"] {
		e := str(c, "encounter", "reference")
		if condsOf[e] == nil {
			condsOf[e] = map[string]bool{}
		}
		condsOf[e][str(c, "code", "coding", "code")] = true
	}
	recorded := map[string]bool{} // kind + encounter/resource/date
	counts := map[string]int{}
	miscoded := map[string]bool{} // encounters with a code recorded as invalid for the date
	for _, f := range d.facts {
		if f.Detail == synth.DefCodeInvalidForDate {
			miscoded[f.Encounter] = true
		}
	}
	for _, f := range d.facts {
		counts[f.Kind]++
		switch f.Kind {
		case synth.FactDuplicate, synth.FactNotDuplicate:
			a, b := pat(f.Patient), pat(f.Other)
			if a == nil || b == nil {
				t.Errorf("%s pair %s %s: a patient is missing", f.Kind, f.Patient, f.Other)
				continue
			}
			if str(a, "identifier", "value") == str(b, "identifier", "value") {
				t.Errorf("%s pair shares an MRN", f.Kind)
			}
			if f.Kind == synth.FactNotDuplicate {
				ga, gb := str(a, "name", "given"), str(b, "name", "given")
				fa, fb := str(a, "name", "family"), str(b, "name", "family")
				switch f.Detail {
				case synth.TrapTwin:
					if fa != fb || str(a, "birthDate") != str(b, "birthDate") || ga == gb || str(a, "address", "line") != str(b, "address", "line") {
						t.Errorf("twins %s %s do not look like twins", f.Patient, f.Other)
					}
				case synth.TrapNamesake, synth.TrapJuniorSenior:
					if fa != fb || ga != gb {
						t.Errorf("%s %s %s do not share a name", f.Detail, f.Patient, f.Other)
					}
				}
			}
		case synth.FactReadmission:
			a, b := enc(f.Encounter), enc(f.Prior)
			if a == nil || b == nil || str(a, "class", "code") != "IMP" || str(b, "class", "code") != "IMP" {
				t.Errorf("readmission %s after %s: not two inpatient encounters", f.Encounter, f.Prior)
				continue
			}
			gap := parseTime(t, str(a, "period", "start")).Sub(parseTime(t, str(b, "period", "end")))
			if gap <= 0 || gap > 30*24*time.Hour || int(gap/(24*time.Hour)) != f.Days {
				t.Errorf("readmission %s: gap %v, recorded %d days", f.Encounter, gap, f.Days)
			}
		case synth.FactDeath:
			p := pat(f.Patient)
			if str(p, "deceasedDateTime") != f.Date {
				t.Errorf("death of %s: deceasedDateTime %q, recorded %q", f.Patient, str(p, "deceasedDateTime"), f.Date)
			}
			if f.Detail == "in-hospital" {
				e := enc(f.Encounter)
				if str(e, "hospitalization", "dischargeDisposition", "coding", "code") != "exp" {
					t.Errorf("in-hospital death %s: disposition is not exp", f.Encounter)
				}
			}
		case synth.FactIdentifier:
			doc := d.byType["DocumentReference"][strings.TrimPrefix(f.Resource, "DocumentReference/")]
			text, err := base64.StdEncoding.DecodeString(str(doc, "content", "attachment", "data"))
			if err != nil || len(f.Span) != 2 || f.Span[1] > len(text) || string(text[f.Span[0]:f.Span[1]]) != f.Text {
				t.Errorf("identifier %q not found at %v in %s", f.Text, f.Span, f.Resource)
			}
		case synth.FactCoding:
			e := enc(f.Encounter)
			if e == nil || len(f.Diagnoses) == 0 || f.Diagnoses[0].Code != f.Principal {
				t.Errorf("coding of %s: encounter missing or principal not first", f.Encounter)
				continue
			}
			coded := condsOf[f.Encounter]
			for _, dx := range f.Diagnoses {
				if !coded[dx.Code] && !miscoded[f.Encounter] {
					t.Errorf("coding of %s: %s has no Condition", f.Encounter, dx.Code)
				}
			}
		case synth.FactDeficiency:
			if f.Detail == synth.DefUnsignedAmendment {
				recorded[synth.DefUnsigned+" "+f.Resource] = true // an unsigned note that amends another
			}
			recorded[f.Detail+" "+f.Encounter] = true
			if f.Resource != "" {
				recorded[f.Detail+" "+f.Resource] = true
			}
			if f.Detail == synth.DefMissingProgressNote {
				recorded[f.Detail+" "+f.Encounter+" "+f.Date[:10]] = true
			}
		}
	}
	// Every inpatient stay against the rules: whatever breaks one must be
	// a recorded deficiency, and every recorded one must be broken.
	asOf := time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC)
	found := map[string]bool{}
	check := func(kind, key string, broken bool) {
		if broken {
			found[kind+" "+key] = true
			if !recorded[kind+" "+key] {
				t.Errorf("%s %s is not in the ground truth", kind, key)
			}
		}
	}
	for id, e := range d.byType["Encounter"] {
		if str(e, "class", "code") != "IMP" {
			continue
		}
		ref := "Encounter/" + id
		start := parseTime(t, str(e, "period", "start"))
		end := parseTime(t, str(e, "period", "end"))
		var hp, ds []map[string]any
		progress := map[string]bool{}
		for _, doc := range notes[ref] {
			signer := str(doc, "authenticator", "reference")
			author := str(doc, "author", "reference")
			check(synth.DefUnsigned, "DocumentReference/"+str(doc, "id"), signer == "" || str(doc, "docStatus") != "final")
			check(synth.DefMissingCosignature, "DocumentReference/"+str(doc, "id"), signer != "" && residents[author] && residents[signer])
			switch noteType(doc) {
			case "34117-2":
				hp = append(hp, doc)
			case "18842-5":
				ds = append(ds, doc)
			case "11506-3":
				progress[str(doc, "content", "attachment", "creation")[:10]] = true
			}
		}
		check(synth.DefMissingHP, ref, len(hp) == 0)
		for _, doc := range hp {
			check(synth.DefLateHP, "DocumentReference/"+str(doc, "id"), parseTime(t, str(doc, "date")).Sub(start) > 24*time.Hour)
		}
		check(synth.DefMissingDischargeSummary, ref, len(ds) == 0 && asOf.Sub(end) > 30*24*time.Hour)
		for _, doc := range ds {
			check(synth.DefLateDischargeSummary, "DocumentReference/"+str(doc, "id"), parseTime(t, str(doc, "date")).Sub(end) > 30*24*time.Hour)
		}
		for day := time.Date(start.Year(), start.Month(), start.Day()+1, 9, 0, 0, 0, start.Location()); day.Before(end) && day.YearDay() != end.YearDay(); day = day.Add(24 * time.Hour) {
			check(synth.DefMissingProgressNote, ref+" "+day.Format(time.DateOnly), !progress[day.Format(time.DateOnly)])
		}
	}
	for id, pr := range d.byType["Procedure"] {
		if str(pr, "category", "coding", "code") != "387713003" {
			continue
		}
		e := enc(str(pr, "encounter", "reference"))
		if str(e, "class", "code") != "IMP" {
			continue
		}
		ref := "Procedure/" + id
		check(synth.DefMissingConsent, ref, !consented[ref])
		check(synth.DefMissingOperativeNote, ref, !documented[ref])
	}
	checked := map[string]bool{synth.DefUnsigned: true, synth.DefMissingCosignature: true, synth.DefMissingHP: true, synth.DefLateHP: true,
		synth.DefMissingDischargeSummary: true, synth.DefLateDischargeSummary: true, synth.DefMissingProgressNote: true,
		synth.DefMissingConsent: true, synth.DefMissingOperativeNote: true}
	for k := range recorded {
		kind, key, _ := strings.Cut(k, " ")
		if !checked[kind] {
			continue // the other kinds are checked by chart review's own scoring (chart/truth_test.go)
		}
		if strings.HasPrefix(key, "Encounter/") && strings.Count(key, " ") == 0 && (kind == synth.DefUnsigned || kind == synth.DefMissingCosignature ||
			kind == synth.DefLateHP || kind == synth.DefLateDischargeSummary || kind == synth.DefMissingConsent || kind == synth.DefMissingOperativeNote || kind == synth.DefMissingProgressNote) {
			continue // indexed by resource or date instead
		}
		if !found[k] {
			t.Errorf("recorded deficiency %s is not in the data", k)
		}
	}
	for _, kind := range []string{synth.FactDuplicate, synth.FactNotDuplicate, synth.FactDeficiency, synth.FactReadmission, synth.FactDeath, synth.FactIdentifier, synth.FactCoding} {
		if counts[kind] == 0 {
			t.Errorf("no %s facts", kind)
		}
	}
}

// rateWriter keeps only what TestRates needs.
type rateWriter struct {
	synth.Discard
	stays, died       int
	principal         map[string]string // inpatient encounter -> principal code
	facts             map[string]int
	readmitOf         map[string]int // principal of the index stay -> unplanned readmissions
	live              map[string]int // principal of the index stay -> live discharges
	resources, people int
}

func (w *rateWriter) Resource(typ, id string, body []byte) error {
	w.resources++
	if typ != "Encounter" || !bytes.Contains(body, []byte(`"code":"IMP"`)) {
		return nil
	}
	w.stays++
	if bytes.Contains(body, []byte(`"code":"exp"`)) {
		w.died++
	}
	return nil
}

func (w *rateWriter) Fact(f *synth.Fact) error {
	w.facts[f.Kind+" "+f.Detail]++
	switch f.Kind {
	case synth.FactCoding:
		w.principal[f.Encounter] = f.Principal
	case synth.FactReadmission:
		if f.Detail == "unplanned" {
			w.readmitOf[group(w.principal[f.Prior])]++
		}
	}
	return nil
}

// group puts heart failure and COPD principals together.
func group(code string) string {
	switch {
	case strings.HasPrefix(code, "I50"), code == "I11.0", code == "I13.0", code == "J44.1":
		return "chf-copd"
	}
	return "other"
}

// TestRates checks the injected rates are realistic, on 3,000 people.
func TestRates(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 3,000 people")
	}
	const people = 3000
	w := &rateWriter{principal: map[string]string{}, facts: map[string]int{}, readmitOf: map[string]int{}, live: map[string]int{}}
	sum, err := synth.Generate(context.Background(), synth.Config{Patients: people, Seed: 77}, w)
	if err != nil {
		t.Fatal(err)
	}
	// Live discharges per group, from the coding facts and deaths.
	deadStay := map[string]bool{}
	_ = deadStay
	for _, p := range w.principal {
		w.live[group(p)]++
	}
	live := w.stays - w.died
	unplanned := w.facts[synth.FactReadmission+" unplanned"]
	traps := w.facts[synth.FactNotDuplicate+" "+synth.TrapTwin] + w.facts[synth.FactNotDuplicate+" "+synth.TrapNamesake] + w.facts[synth.FactNotDuplicate+" "+synth.TrapJuniorSenior]
	for _, c := range []struct {
		name        string
		got, lo, hi float64
	}{
		{"duplicate registrations per person", float64(w.facts[synth.FactDuplicate+" "]) / people, 0.013, 0.028},
		{"look-alike pairs per person", float64(traps) / people, 0.006, 0.02},
		{"inpatient mortality", float64(w.died) / float64(w.stays), 0.015, 0.06},
		{"30-day unplanned readmission", float64(unplanned) / float64(live), 0.08, 0.18},
		{"30-day readmission after CHF/COPD", float64(w.readmitOf["chf-copd"]) / float64(w.live["chf-copd"]), 0.12, 0.32},
		{"stays per person-year", float64(w.stays) / people / 3, 0.04, 0.12},
		{"deficiencies per stay", float64(sum.Facts[synth.FactDeficiency]) / float64(w.stays), 0.1, 0.8},
		{"resources per person", float64(sum.Total) / people, 80, 300},
	} {
		t.Logf("%s: %.3f", c.name, c.got)
		if c.got < c.lo || c.got > c.hi {
			t.Errorf("%s = %.3f, want between %.3f and %.3f", c.name, c.got, c.lo, c.hi)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	var total int
	var elapsed time.Duration
	for i := 0; b.Loop(); i++ {
		sum, err := synth.Generate(context.Background(), synth.Config{Patients: 500, Seed: uint64(i)}, synth.Discard{})
		if err != nil {
			b.Fatal(err)
		}
		total += sum.Total
		elapsed += sum.Elapsed
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "resources/s")
	b.ReportMetric(float64(total)/float64(b.N)/500, "resources/person")
}

// TestTimelines checks each record's encounters: none after the patient's
// death, none overlapping an inpatient stay, all within the window.
func TestTimelines(t *testing.T) {
	d := hospital(t)
	type span struct {
		start, end time.Time
		class, id  string
	}
	byPatient := map[string][]span{}
	end := time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC)
	overlay := map[string]bool{} // an overlay's visit may overlap its host's stays
	for _, f := range d.facts {
		if f.Kind == synth.FactOverlay {
			overlay[f.Encounter] = true
		}
	}
	for id, e := range d.byType["Encounter"] {
		s := span{parseTime(t, str(e, "period", "start")), parseTime(t, str(e, "period", "end")), str(e, "class", "code"), id}
		if !s.start.Before(s.end) || s.end.After(end) {
			t.Errorf("Encounter/%s: period %v..%v out of order or after the as-of date", id, s.start, s.end)
		}
		p := str(e, "subject", "reference")
		byPatient[p] = append(byPatient[p], s)
	}
	for p, spans := range byPatient {
		pt := d.byType["Patient"][strings.TrimPrefix(p, "Patient/")]
		if dd := str(pt, "deceasedDateTime"); dd != "" {
			death := parseTime(t, dd)
			for _, s := range spans {
				if s.end.After(death) {
					t.Errorf("%s: Encounter/%s ends after the death", p, s.id)
				}
			}
		}
		birth := parseTime(t, str(pt, "birthDate"))
		for i, a := range spans {
			if a.start.Before(birth) {
				t.Errorf("%s: Encounter/%s before birth", p, a.id)
			}
			for _, b := range spans[i+1:] {
				if overlay["Encounter/"+a.id] || overlay["Encounter/"+b.id] {
					continue
				}
				if (a.class == "IMP" || b.class == "IMP") && a.start.Before(b.end) && b.start.Before(a.end) {
					t.Errorf("%s: Encounter/%s and Encounter/%s overlap", p, a.id, b.id)
				}
			}
		}
	}
}

func TestDirWriterRoundTrip(t *testing.T) {
	dir := t.TempDir()
	w, err := synth.NewDirWriter(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	var c synth.Collector
	sum, err := synth.Generate(context.Background(), synth.Config{Patients: 30, Seed: 5}, multi{w, &c})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if len(w.Files()) != len(sum.Resources)+1 {
		t.Errorf("%d files for %d types", len(w.Files()), len(sum.Resources))
	}
	f, err := os.Open(filepath.Join(dir, synth.GroundTruthFile+".gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := synth.ReadFacts(zr, func(got *synth.Fact) error {
		if want := c.Facts[n]; got.Kind != want.Kind || got.Patient != want.Patient || got.Encounter != want.Encounter {
			t.Errorf("fact %d read back differently", n)
		}
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != len(c.Facts) {
		t.Errorf("read %d facts, wrote %d", n, len(c.Facts))
	}
	if _, err := synth.NewDirWriter(dir, false); err == nil {
		t.Error("a directory with output was accepted")
	}
}

type multi [2]synth.Writer

func (m multi) Resource(typ, id string, body []byte) error {
	for _, w := range m {
		if err := w.Resource(typ, id, body); err != nil {
			return err
		}
	}
	return nil
}

func (m multi) Fact(f *synth.Fact) error {
	for _, w := range m {
		if err := w.Fact(f); err != nil {
			return err
		}
	}
	return nil
}
