package coding_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/coding"
	"github.com/custodian-him/custodian/drg"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
)

// hospital is a small generated hospital loaded in a real store.
type hospital struct {
	st    *store.Store
	db    store.Backend
	col   *synth.Collector
	truth map[string]*synth.Fact // FactCoding by encounter reference
}

func loadHospital(t testing.TB, patients int) *hospital {
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
	col := &synth.Collector{}
	if _, err := synth.Generate(ctx, synth.Config{Patients: patients, Seed: 11}, col); err != nil {
		t.Fatal(err)
	}
	var batch []map[string]any
	for _, body := range col.Bodies {
		res, err := store.Decode(body)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, res)
	}
	results, err := st.PutBatch(custodian.NewContextWithActor(ctx, custodian.SystemActor()), batch)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil {
			t.Fatalf("loading the generated hospital: %v", r.Err)
		}
	}
	h := &hospital{st: st, db: db, col: col, truth: map[string]*synth.Fact{}}
	for i := range col.Facts {
		if f := &col.Facts[i]; f.Kind == synth.FactCoding {
			h.truth[f.Encounter] = f
		}
	}
	return h
}

func actor(id, role string) context.Context {
	return custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: id, Kind: "user", Roles: []string{role}})
}

func TestQueueFinalize(t *testing.T) {
	h := loadHospital(t, 40)
	q, err := coding.NewQueue(h.st, loadSet(t), drg.New())
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2025, 10, 1, 9, 0, 0, 0, time.UTC)
	q.Now = func() time.Time { clock = clock.Add(10 * time.Minute); return clock }
	cody, rita := actor("cody", access.RoleCoder), actor("rita", access.RoleRecordAnalyst)

	list, err := q.DNFB(cody)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(h.truth) {
		t.Fatalf("DNFB has %d encounters, the hospital has %d inpatient stays", len(list), len(h.truth))
	}
	for i, it := range list {
		if it.Status != coding.StatusUncoded || it.AgeDays < 10 || (i > 0 && it.Discharged.Before(list[i-1].Discharged)) {
			t.Fatalf("DNFB item %d: %+v", i, it)
		}
	}
	enc := list[0].Encounter
	f := h.truth[enc]

	// The abstract starts from the record's coded diagnoses, in order.
	a, err := q.Abstract(cody, enc)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != coding.StatusUncoded || len(a.Diagnoses) != len(f.Diagnoses) || a.Diagnoses[0].Code != f.Principal {
		t.Fatalf("abstract %+v, want the diagnoses %+v", a.Diagnoses, f.Diagnoses)
	}
	if !hasEdit(a.Edits, coding.EditPOAMissing) {
		t.Errorf("an abstract without POA indicators should show POA_MISSING, got %+v", a.Edits)
	}
	// Finalising with error edits is refused.
	var dx []coding.Diagnosis
	for _, d := range f.Diagnoses {
		dx = append(dx, coding.Diagnosis{Code: d.Code})
	}
	if _, err := q.Save(cody, enc, dx, nil, true); custodian.ErrorCode(err) != custodian.EUNPROCESSABLE {
		t.Fatalf("finalising without POA: want EUNPROCESSABLE, got %v", err)
	}
	// The ground truth's coding finalises, with the DRG the grouper gives.
	dx = dx[:0]
	for _, d := range f.Diagnoses {
		dx = append(dx, coding.Diagnosis{Code: d.Code, POA: d.POA})
	}
	var px []coding.Procedure
	for _, p := range f.Procedures {
		px = append(px, coding.Procedure{Code: p, Date: a.Admitted.Format(time.DateOnly)})
	}
	if _, err := q.Save(rita, enc, dx, px, true); custodian.ErrorCode(err) != custodian.EFORBIDDEN {
		t.Fatalf("a record analyst finalising: want EFORBIDDEN, got %v", err)
	}
	fin, err := q.Save(cody, enc, dx, px, true)
	if err != nil {
		t.Fatal(err)
	}
	if fin.Status != coding.StatusFinal || fin.ClaimVersion != 1 || fin.Coder != "cody" {
		t.Fatalf("finalised abstract: %+v", fin)
	}
	want := groupTruth(t, a, f, fin.DRG.Version)
	if fin.DRG == nil || fin.DRG.DRG != want {
		t.Fatalf("DRG %+v, want %d", fin.DRG, want)
	}
	r, err := h.st.Read(cody, "Claim", strings.TrimPrefix(fin.Claim, "Claim/"))
	if err != nil {
		t.Fatal(err)
	}
	body := string(r.Body)
	for _, s := range []string{`"status":"active"`, `"use":"claim"`, `"code":"institutional"`, `"reference":"` + enc + `"`, `"packageCode"`, `"value":"cody"`} {
		if !strings.Contains(body, s) {
			t.Errorf("the Claim lacks %s: %s", s, body)
		}
	}
	if r.Author != "cody" {
		t.Errorf("the Claim version's author is %q", r.Author)
	}
	// Finalised: off the DNFB; the abstract reads back from the Claim.
	list2, _ := q.DNFB(cody)
	if len(list2) != len(list)-1 || slices.ContainsFunc(list2, func(it coding.DNFBItem) bool { return it.Encounter == enc }) {
		t.Fatalf("after finalising, DNFB has %d (was %d)", len(list2), len(list))
	}
	back, err := q.Abstract(cody, enc)
	if err != nil || back.Status != coding.StatusFinal || len(back.Diagnoses) != len(dx) || back.Diagnoses[1].POA != dx[1].POA || back.DRG.DRG != want {
		t.Fatalf("abstract read back: %+v, %v", back, err)
	}
	// A second finalisation is version 2.
	fin2, err := q.Save(cody, enc, dx, px, true)
	if err != nil || fin2.ClaimVersion != 2 {
		t.Fatalf("re-finalise: %+v %v", fin2, err)
	}
	// A draft of another encounter stays on the DNFB as a draft.
	if _, err := q.Save(actor("cora", access.RoleCoder), list[1].Encounter, dx[:1], nil, false); err != nil {
		t.Fatal(err)
	}
	list3, _ := q.DNFB(cody)
	if list3[0].Encounter != list[1].Encounter || list3[0].Status != coding.StatusDraft {
		t.Fatalf("draft on the DNFB: %+v", list3[0])
	}
	p, err := q.Productivity(cody, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Coders) != 2 || p.Coders[0].Coder != "cody" || p.Coders[0].Finalized != 2 || p.Coders[0].Encounters != 1 || p.Coders[0].Refinalized != 1 || p.Coders[1].Drafts != 1 {
		t.Fatalf("productivity: %+v", p.Coders)
	}
	total := 0
	for _, b := range p.DNFB {
		total += b.Count
	}
	if total != len(list3) || p.DNFBSize != len(list3) {
		t.Fatalf("DNFB buckets %+v, want %d in all", p.DNFB, len(list3))
	}
}

func hasEdit(es []coding.Edit, code string) bool {
	return slices.ContainsFunc(es, func(e coding.Edit) bool { return e.Code == code })
}

// groupTruth groups the ground truth's coding directly.
func groupTruth(t *testing.T, a *coding.Abstract, f *synth.Fact, version string) int {
	t.Helper()
	c := drg.Claim{Age: a.Age, Sex: a.Sex[0], DischargeStatus: a.DischargeStatus}
	conv := func(d synth.DxPOA) drg.Diagnosis {
		poa := byte('1')
		if d.POA != "" {
			poa = d.POA[0]
		}
		return drg.Diagnosis{Code: strings.ReplaceAll(d.Code, ".", ""), POA: poa}
	}
	c.PDx = conv(f.Diagnoses[0])
	for _, d := range f.Diagnoses[1:] {
		c.SDx = append(c.SDx, conv(d))
	}
	c.Procedures = f.Procedures
	res, err := drg.New().Group(&c, drg.Options{Version: version})
	if err != nil {
		t.Fatal(err)
	}
	return res.Final.DRG
}
