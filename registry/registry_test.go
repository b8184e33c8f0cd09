package registry_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/registry"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
)

type allowAll struct{}

func (allowAll) Allow(*custodian.Actor, string, string) error { return nil }
func (allowAll) SeesSensitive(*custodian.Actor) bool          { return true }

func registrar() context.Context {
	return custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "rita", Kind: "user", Roles: []string{"registrar"}})
}

type fixture struct {
	raw map[string][]map[string]any
	db  *sqldb.DB
	st  *store.Store
	rec *measure.Record
	svc *registry.Service
}

// open stores a generated hospital (what registries read) in a real store
// with the record and the registry service watching it.
func open(t testing.TB, patients int) *fixture {
	t.Helper()
	ctx := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	var col synth.Collector
	if _, err := synth.Generate(ctx, synth.Config{Patients: patients, Seed: 21}, &col); err != nil {
		t.Fatal(err)
	}
	f := &fixture{raw: map[string][]map[string]any{}}
	var batch []map[string]any
	for i, typ := range col.Types {
		switch typ {
		case "Patient", "Encounter", "Condition", "Procedure":
		case "Observation":
			if !bytes.Contains(col.Bodies[i], []byte(`"4548-4"`)) {
				continue
			}
		default:
			continue
		}
		res, err := store.Decode(col.Bodies[i])
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := store.Decode(col.Bodies[i])
		f.raw[typ] = append(f.raw[typ], raw)
		batch = append(batch, res)
	}
	f.db = sqldbtest.Open(t)
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.RegisterParams(ctx, reg.Indexed()); err != nil {
		t.Fatal(err)
	}
	f.st = store.New(f.db, fhir.R4(), reg)
	f.st.Guard, f.st.AuditLog = allowAll{}, f.db
	defs, err := registry.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	f.rec = measure.NewRecord()
	f.svc = &registry.Service{Record: f.rec, Store: f.st, Definitions: defs,
		Now: func() time.Time { return time.Date(2025, 10, 15, 9, 0, 0, 0, time.UTC) }}
	f.st.Watchers = append(f.st.Watchers, f.rec.Watcher(), f.svc.Watcher())
	if _, err := f.svc.FindAll(ctx, ""); custodian.ErrorCode(err) != custodian.EUNAVAILABLE {
		t.Fatalf("case finding before the cases are loaded: %v, want EUNAVAILABLE", err)
	}
	if err := f.svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(batch); i += 4000 {
		res, err := f.st.PutBatch(ctx, batch[i:min(i+4000, len(batch))])
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}
	return f
}

func str(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			if len(c) == 0 {
				return ""
			}
			cur = c[0].(map[string]any)[p]
		}
	}
	s, _ := cur.(string)
	return s
}

// expected is the independent case finding: plain loops over the raw
// resources with the criteria written out again.
func (f *fixture) expected(registryID string) []string {
	class := map[string]string{}
	for _, e := range f.raw["Encounter"] {
		class[e["id"].(string)] = str(e, "class", "code")
	}
	inSet := func(code string, cats ...string) bool {
		c3 := strings.ReplaceAll(code, ".", "")
		for _, cat := range cats {
			lo, hi, isRange := strings.Cut(cat, "-")
			if isRange && len(c3) >= 3 && c3[:3] >= lo && c3[:3] <= hi {
				return true
			}
			if !isRange && strings.HasPrefix(c3, strings.ReplaceAll(cat, ".", "")) {
				return true
			}
		}
		return false
	}
	found := map[string]bool{}
	for _, c := range f.raw["Condition"] {
		code := str(c, "code", "coding", "code")
		enc := strings.TrimPrefix(str(c, "encounter", "reference"), "Encounter/")
		cls := class[enc]
		problem := str(c, "category", "coding", "code") == "problem-list-item"
		pid := strings.TrimPrefix(str(c, "subject", "reference"), "Patient/")
		switch registryID {
		case "cancer":
			if inSet(code, "C00-C96", "D00-D09", "D32-D33", "D42-D43", "D44.3", "D44.4", "D44.5", "D45-D47") && (cls != "" || problem) {
				found[pid] = true
			}
		case "diabetes":
			if inSet(code, "E10-E11", "E13") && (cls != "" || problem) {
				found[pid] = true
			}
		case "stroke":
			if inSet(code, "I60-I61", "I63") && (cls == "IMP" || cls == "EMER") {
				found[pid] = true
			}
		}
	}
	if registryID == "diabetes" {
		for _, o := range f.raw["Observation"] {
			v, _ := o["valueQuantity"].(map[string]any)["value"].(json.Number).Float64()
			if str(o, "code", "coding", "code") == "4548-4" && v >= 6.5 {
				found[strings.TrimPrefix(str(o, "subject", "reference"), "Patient/")] = true
			}
		}
	}
	var out []string
	for p := range found {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func patients(cases []*registry.Case) []string {
	var out []string
	for _, c := range cases {
		out = append(out, c.Patient)
	}
	sort.Strings(out)
	return out
}

// TestCaseFinding runs case finding over history and checks that it finds
// every generated patient meeting each registry's criteria and no other,
// that running it again finds nothing new, and that the cases are Tasks in
// the store that a fresh service loads.
func TestCaseFinding(t *testing.T) {
	f := open(t, 400)
	ctx := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	found, err := f.svc.FindAll(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"cancer", "diabetes", "stroke"} {
		want := f.expected(id)
		cases, _ := f.svc.Cases(id, registry.Candidate)
		got := patients(cases)
		if len(want) == 0 {
			t.Errorf("%s: the generated data has no case: the test proves nothing", id)
		}
		if !slices.Equal(want, got) {
			t.Errorf("%s: want %d cases, got %d\nwant %v\n got %v", id, len(want), len(got), want, got)
		}
		inc, err := f.svc.Incidence(id, "")
		if err != nil {
			t.Fatal(err)
		}
		sum := 0
		for month, n := range inc {
			if len(month) != 7 {
				t.Errorf("%s: incidence month %q", id, month)
			}
			sum += n
		}
		if sum != len(got) {
			t.Errorf("%s: incidence sums to %d, %d cases", id, sum, len(got))
		}
		t.Logf("%s: %d cases", id, len(got))
	}
	again, err := f.svc.FindAll(ctx, "")
	if err != nil || len(again) != 0 {
		t.Errorf("finding again: %d new cases, %v; want none", len(again), err)
	}
	// the Tasks are in the store: a new service reads them back
	fresh := &registry.Service{Record: f.rec, Store: f.st, Definitions: f.svc.Definitions}
	if err := fresh.Load(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, id := range []string{"cancer", "diabetes", "stroke"} {
		n += fresh.Counts(id)[registry.Candidate]
	}
	if n != len(found) {
		t.Errorf("loaded %d cases from the store, found %d", n, len(found))
	}
}

// TestCaseFindingAsDataArrives writes a stroke diagnosis for a patient who
// is in no stroke registry and checks the next Sync finds them, and that
// a diagnosis that does not qualify (an office visit) finds nobody.
func TestCaseFindingAsDataArrives(t *testing.T) {
	f := open(t, 60)
	ctx := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	if _, err := f.svc.FindAll(ctx, ""); err != nil {
		t.Fatal(err)
	}
	strokes := f.expected("stroke")
	visits := map[string]map[string]string{} // patient -> class -> an encounter
	for _, e := range f.raw["Encounter"] {
		p := strings.TrimPrefix(str(e, "subject", "reference"), "Patient/")
		if visits[p] == nil {
			visits[p] = map[string]string{}
		}
		visits[p][str(e, "class", "code")] = e["id"].(string)
	}
	var pid, amb, emer string
	for p, v := range visits {
		if !slices.Contains(strokes, p) && v["AMB"] != "" && v["EMER"] != "" && (pid == "" || p < pid) {
			pid, amb, emer = p, v["AMB"], v["EMER"]
		}
	}
	if pid == "" {
		t.Fatal("no patient outside the stroke registry with both an office and an emergency visit")
	}
	write := func(id, enc string) {
		body := fmt.Sprintf(`{"resourceType":"Condition","id":%q,"subject":{"reference":"Patient/%s"},"encounter":{"reference":"Encounter/%s"},
			"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I63.9"}]},"onsetDateTime":"2025-09-01"}`, id, pid, enc)
		if _, err := f.st.Update(ctx, "Condition", id, []byte(body), store.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	write("new-stroke-office", amb)
	got, err := f.svc.Sync(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("an office-visit stroke code found %d cases (%v); the registry counts inpatient and emergency only", len(got), err)
	}
	write("new-stroke-ed", emer)
	got, err = f.svc.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Registry != "stroke" || got[0].Patient != pid {
		t.Fatalf("Sync found %+v, want Patient/%s for stroke", got, pid)
	}
	if _, err := f.st.Read(ctx, "Task", registry.TaskID("stroke", pid)); err != nil {
		t.Errorf("the candidate's Task: %v", err)
	}
}

// TestDecisionsFollowUpAndExport accepts and rejects cases, records a
// follow-up, and checks the overdue list, the CSV and the FHIR export.
func TestDecisionsFollowUpAndExport(t *testing.T) {
	f := open(t, 120)
	sys := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	if _, err := f.svc.FindAll(sys, "diabetes"); err != nil {
		t.Fatal(err)
	}
	cands, _ := f.svc.Cases("diabetes", registry.Candidate)
	if len(cands) < 3 {
		t.Fatalf("only %d diabetes candidates", len(cands))
	}
	a, b, c := cands[0].Patient, cands[1].Patient, cands[2].Patient
	// The forms of a page of cases are those of the whole list.
	today := time.Now()
	all, err := f.svc.Abstracts("diabetes", registry.Candidate, today)
	if err != nil {
		t.Fatal(err)
	}
	page, err := f.svc.AbstractsOf("diabetes", cands[1:3], today)
	if err != nil || len(page) != 2 {
		t.Fatalf("AbstractsOf: %d, %v", len(page), err)
	}
	for i, got := range page {
		want := all[i+1]
		if got.Patient != want.Patient || got.LastContact != want.LastContact || fmt.Sprint(got.Values) != fmt.Sprint(want.Values) || len(got.Evidence) != len(want.Evidence) {
			t.Errorf("AbstractsOf %s: %+v, want %+v", got.Patient, got, want)
		}
	}
	if _, err := f.svc.AbstractsOf("no-such", cands[:1], today); custodian.ErrorCode(err) != custodian.ENOTFOUND {
		t.Errorf("an unknown registry: %v", err)
	}
	ctx := registrar()
	if _, err := f.svc.Decide(ctx, "diabetes", a, true, "", map[string]string{"footExam": "yes"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Decide(ctx, "diabetes", b, true, "", nil); err != nil {
		t.Fatal(err)
	}
	errs := []struct {
		name    string
		patient string
		accept  bool
		reason  string
		fields  map[string]string
		code    string
	}{
		{"reject without reason", c, false, "", nil, custodian.EINVALID},
		{"automatic field", c, true, "", map[string]string{"lastContact": "2020-01-01"}, custodian.EINVALID},
		{"unknown field", c, true, "", map[string]string{"shoeSize": "9"}, custodian.EINVALID},
		{"not a case", "no-such-patient", true, "", nil, custodian.ENOTFOUND},
	}
	for _, tc := range errs {
		if _, err := f.svc.Decide(ctx, "diabetes", tc.patient, tc.accept, tc.reason, tc.fields); custodian.ErrorCode(err) != tc.code {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
		}
	}
	if _, err := f.svc.Decide(ctx, "diabetes", c, false, "gestational diabetes only", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RecordFollowUp(ctx, "diabetes", c, "2025-10-01"); custodian.ErrorCode(err) != custodian.EUNPROCESSABLE {
		t.Errorf("follow-up of a rejected case: %v, want EUNPROCESSABLE", err)
	}
	// a year after the data ends both accepted cases are overdue; a
	// follow-up contact puts one back on schedule
	later := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if _, err := f.svc.RecordFollowUp(ctx, "diabetes", a, "2026-11-15"); err != nil {
		t.Fatal(err)
	}
	over, err := f.svc.Overdue("diabetes", later)
	if err != nil {
		t.Fatal(err)
	}
	if len(over) != 1 || over[0].Patient != b {
		t.Errorf("overdue: %v, want only Patient/%s", over, b)
	}
	// decisions are kept: a fresh service loads them from the store
	fresh := &registry.Service{Record: f.rec, Store: f.st, Definitions: f.svc.Definitions}
	if err := fresh.Load(sys); err != nil {
		t.Fatal(err)
	}
	if got := fresh.Counts("diabetes"); got[registry.Accepted] != 2 || got[registry.Rejected] != 1 {
		t.Errorf("loaded counts %v", got)
	}
	acc, _ := fresh.Cases("diabetes", registry.Accepted)
	if acc[0].DecidedBy != "rita" || !slices.Contains(acc[0].FollowUps, "2026-11-15") && !slices.Contains(acc[1].FollowUps, "2026-11-15") {
		t.Errorf("loaded cases lost the decider or follow-up: %+v %+v", acc[0], acc[1])
	}

	var buf bytes.Buffer
	if err := f.svc.WriteCSV(&buf, "diabetes", registry.Accepted, later); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "patient" || !slices.Contains(rows[0], "lastHbA1c") {
		t.Fatalf("CSV: %v", rows)
	}
	col := slices.Index(rows[0], "footExam")
	diagnosed := slices.Index(rows[0], "diagnosisDate")
	for _, r := range rows[1:] {
		if r[0] == a && r[col] != "yes" {
			t.Errorf("CSV row of %s lacks the registrar's field: %v", a, r)
		}
		if r[diagnosed] == "" {
			t.Errorf("CSV row %v has no date of diagnosis", r)
		}
	}
	bundle, err := f.svc.Bundle("diabetes", later)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(bundle)
	tree, _ := store.Decode(b2)
	if issues := fhir.R4().Validate(tree); len(issues) > 0 {
		t.Errorf("the export Bundle is not valid FHIR: %v", issues)
	}
	group := bundle["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any)
	if group["resourceType"] != "Group" || group["quantity"] != 2 {
		t.Errorf("group: %v", group)
	}
}

func TestParseDefinition(t *testing.T) {
	tests := []struct {
		name, json string
	}{
		{"no criteria", `{"id":"x","title":"X","criteria":{},"form":[]}`},
		{"bad range", `{"id":"x","title":"X","criteria":{"diagnoses":{"system":"s","include":["I22-I21"]}},"form":[]}`},
		{"bad id", `{"id":"X Y","title":"X","criteria":{"diagnoses":{"system":"s","include":["I21"]}},"form":[]}`},
		{"unknown auto", `{"id":"x","title":"X","criteria":{"diagnoses":{"system":"s","include":["I21"]}},"form":[{"id":"a","label":"A","auto":"guess"}]}`},
		{"field both kinds", `{"id":"x","title":"X","criteria":{"diagnoses":{"system":"s","include":["I21"]}},"form":[{"id":"a","label":"A","auto":"stage","registrar":true}]}`},
		{"bad comparator", `{"id":"x","title":"X","criteria":{"labs":[{"code":"4548-4","comparator":"~","value":1}]},"form":[]}`},
		{"unknown member", `{"id":"x","title":"X","criteria":{"diagnoses":{"system":"s","include":["I21"]}},"form":[],"extra":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := registry.Parse([]byte(tc.json)); custodian.ErrorCode(err) != custodian.EINVALID {
				t.Errorf("got %v, want EINVALID", err)
			}
		})
	}
	for _, id := range []string{"cancer", "diabetes", "stroke"} {
		b, err := registry.BuiltinJSON(id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := registry.Parse(b); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}
