package identity_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/mpi/identity"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
)

type hospital struct {
	st  *store.Store
	col *synth.Collector
	svc *identity.Service
}

var sys = custodian.NewContextWithActor(context.Background(), custodian.SystemActor())

func user(id, role string) context.Context {
	return custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: id, Kind: "user", Roles: []string{role}})
}

// load puts a small generated hospital in a real store, with the live
// index and the queue's watcher registered.
func load(t *testing.T, patients int) *hospital {
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
	if patients > 0 {
		if _, err := synth.Generate(ctx, synth.Config{Patients: patients, Seed: 5}, col); err != nil {
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
		results, err := st.PutBatch(sys, batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}
	ix, err := fhirapi.BuildMatchIndex(sys, st)
	if err != nil {
		t.Fatal(err)
	}
	svc := &identity.Service{Store: st, Index: ix}
	st.Watchers = []store.Watcher{fhirapi.MatchWatcher(ix, nil), svc.Watcher()}
	return &hospital{st: st, col: col, svc: svc}
}

func (h *hospital) fact(t *testing.T, kind string) *synth.Fact {
	for i := range h.col.Facts {
		if f := &h.col.Facts[i]; f.Kind == kind {
			return f
		}
	}
	t.Fatalf("the generated hospital has no %s fact", kind)
	return nil
}

// compartment returns the bodies (minus meta) of Patient id's compartment
// by reference, the Patient left out.
func (h *hospital) compartment(t *testing.T, id string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, typ := range fhir.R4().ResourceTypes() {
		ps := fhir.PatientCompartmentParams(typ)
		if len(ps) == 0 || typ == "Patient" {
			continue
		}
		q, _, err := h.st.ParseQuery(typ, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		q.Count = 1000
		q.Compartment = &store.Compartment{Type: "Patient", ID: id, Params: map[string][]string{typ: ps}}
		page, err := h.st.Search(sys, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Resources {
			out[r.Ref()] = h.body(t, r.Type, r.ID)
		}
	}
	return out
}

func (h *hospital) body(t *testing.T, typ, id string) map[string]any {
	t.Helper()
	r, err := h.st.Read(sys, typ, id)
	if err != nil {
		t.Fatal(err)
	}
	res, err := store.Decode(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	delete(res, "meta")
	return res
}

func id(ref string) string { _, i := store.SplitReference(ref); return i }

func TestMergeAndUnmerge(t *testing.T) {
	h := load(t, 60)
	f := h.fact(t, synth.FactDuplicate)
	survivor, retired := id(f.Patient), id(f.Other)
	before := h.compartment(t, retired)
	if len(before) == 0 {
		t.Fatalf("Patient/%s has no data to move", retired)
	}
	beforeS, beforeR := h.body(t, "Patient", survivor), h.body(t, "Patient", retired)

	// A coder may not merge.
	if _, err := h.svc.Merge(user("cody", access.RoleCoder), survivor, retired, false); custodian.ErrorCode(err) != custodian.EFORBIDDEN {
		t.Fatalf("a coder's merge: %v, want EFORBIDDEN", err)
	}
	dir := user("dana", access.RoleHIMDirector)
	counted, statements := sqldb.CountSearchStatements(dir)
	pre, err := h.svc.Merge(counted, survivor, retired, true)
	if err != nil {
		t.Fatal(err)
	}
	// The record is read in one search over every type of the compartment,
	// not one statement per type.
	if n := statements.Load(); n > 1 {
		t.Errorf("the preview read the record in %d search statements, want 1", n)
	}
	if len(pre.Changed) != len(before)+2 || pre.Task != "" {
		t.Fatalf("preview lists %d changes (task %q), want %d", len(pre.Changed), pre.Task, len(before)+2)
	}
	if got := h.compartment(t, retired); len(got) != len(before) {
		t.Fatal("the preview wrote something")
	}
	m, err := h.svc.Merge(dir, survivor, retired, false)
	if err != nil {
		t.Fatal(err)
	}
	if left := h.compartment(t, retired); len(left) != 0 {
		t.Errorf("after the merge Patient/%s still holds %d resources", retired, len(left))
	}
	after := h.compartment(t, survivor)
	for ref := range before {
		if after[ref] == nil {
			t.Errorf("%s did not move to the survivor", ref)
		}
	}
	sp, rp := h.body(t, "Patient", survivor), h.body(t, "Patient", retired)
	if rp["active"] != false || !strings.Contains(mustJSON(rp["link"]), `"replaced-by"`) || !strings.Contains(mustJSON(sp["link"]), `"Patient/`+retired+`"`) {
		t.Errorf("links: survivor %s retired %s active %v", mustJSON(sp["link"]), mustJSON(rp["link"]), rp["active"])
	}
	if !strings.Contains(mustJSON(sp["identifier"]), `"old"`) {
		t.Errorf("the survivor did not keep the retired identifiers: %s", mustJSON(sp["identifier"]))
	}
	// Merging again is refused.
	if _, err := h.svc.Merge(dir, survivor, retired, false); custodian.ErrorCode(err) != custodian.ECONFLICT {
		t.Errorf("second merge: %v, want ECONFLICT", err)
	}
	// The trail names the director on the merge. (Filtered by action: the
	// entries of the reads before it may reach the chain after it — read
	// entries are journaled and appended within 200 ms.)
	entries, err := h.st.FindAudit(sys, audit.Filter{Actor: "dana", Action: audit.ActionTransaction})
	if err != nil {
		t.Fatal(err)
	}
	if !auditNames(entries, "Task/"+m.Task) {
		t.Errorf("no audit entry by dana names Task/%s", m.Task)
	}

	// Unmerge restores every resource.
	if _, err := h.svc.Unmerge(user("cody", access.RoleCoder), m.Task); custodian.ErrorCode(err) != custodian.EFORBIDDEN {
		t.Errorf("a coder's unmerge: %v", err)
	}
	if _, err := h.svc.Unmerge(dir, m.Task); err != nil {
		t.Fatal(err)
	}
	restored := h.compartment(t, retired)
	for ref, want := range before {
		if !reflect.DeepEqual(restored[ref], want) {
			t.Errorf("%s after unmerge:\n got %s\nwant %s", ref, mustJSON(restored[ref]), mustJSON(want))
		}
	}
	if got := h.body(t, "Patient", survivor); !reflect.DeepEqual(got, beforeS) {
		t.Errorf("survivor after unmerge %s, want %s", mustJSON(got), mustJSON(beforeS))
	}
	if got := h.body(t, "Patient", retired); !reflect.DeepEqual(got, beforeR) {
		t.Errorf("retired after unmerge %s, want %s", mustJSON(got), mustJSON(beforeR))
	}
	if _, err := h.svc.Unmerge(dir, m.Task); custodian.ErrorCode(err) != custodian.ECONFLICT {
		t.Errorf("second unmerge: %v, want ECONFLICT", err)
	}
	entries, _ = h.st.FindAudit(sys, audit.Filter{Actor: "dana"})
	if !auditNames(entries, "Task/"+m.Task) || len(entries) < 2 {
		t.Errorf("unmerge not audited: %d entries", len(entries))
	}
}

// TestUnmergeRefusesChanged: a resource changed after the merge stops the
// unmerge, which writes nothing.
func TestUnmergeRefusesChanged(t *testing.T) {
	h := load(t, 60)
	f := h.fact(t, synth.FactDuplicate)
	survivor, retired := id(f.Patient), id(f.Other)
	before := h.compartment(t, retired)
	dir := user("dana", access.RoleHIMDirector)
	m, err := h.svc.Merge(dir, survivor, retired, false)
	if err != nil {
		t.Fatal(err)
	}
	var ref string
	for r := range before {
		ref = r
		break
	}
	typ, rid := store.SplitReference(ref)
	res := h.body(t, typ, rid)
	res["language"] = "en"
	body, _ := store.Encode(res)
	if _, err := h.st.Update(sys, typ, rid, body, store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.Unmerge(dir, m.Task)
	if custodian.ErrorCode(err) != custodian.ECONFLICT || !strings.Contains(err.Error(), ref) {
		t.Fatalf("unmerge after %s changed: %v, want ECONFLICT naming it", ref, err)
	}
	if rp := h.body(t, "Patient", retired); rp["active"] != false {
		t.Error("the refused unmerge wrote the retired patient")
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func auditNames(entries []*audit.Entry, ref string) bool {
	for _, e := range entries {
		for _, r := range e.Resources {
			if strings.HasPrefix(r, ref+"/") || r == ref {
				return true
			}
		}
	}
	return false
}
