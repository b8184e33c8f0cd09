package mllp_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/custodian-him/custodian/ingest/mllp"
	"github.com/custodian-him/custodian/store"
)

// TestUpdatesThatChangeNothing follows one stay through the feed and
// checks the versions it leaves: an update that says nothing new (a
// demographics update sent again under another control id, a result
// naming a known patient) writes no version, and an update without
// diagnosis segments (DG1) keeps the visit's diagnoses — in HL7 v2's
// snapshot mode an absent segment group says nothing about them — so the
// visit gets a version only when the discharge changes it.
func TestUpdatesThatChangeNothing(t *testing.T) {
	st := newStore(t)
	h := handler(st)
	ctx := context.Background()
	const p = 7
	resend := func(raw []byte, k string) []byte {
		// The same content under another control id (MSH-10).
		return []byte(strings.Replace(string(raw), "|X-000007-"+k+"|", "|X-000007-"+k+"-again|", 1))
	}
	type step struct {
		name               string
		raw                []byte
		patient, encounter int64
		diagnoses          int
		status             string
	}
	steps := []step{
		{"admission with a diagnosis (A01)", stay("X", p, 0), 1, 1, 1, "in-progress"},
		{"demographics update without DG1 (A08)", stay("X", p, 3), 2, 1, 1, "in-progress"},
		{"the same update again under another control id", resend(stay("X", p, 3), "3"), 2, 1, 1, "in-progress"},
		{"a result (ORU^R01)", stay("X", p, 1), 2, 1, 1, "in-progress"},
		{"the result again under another control id", resend(stay("X", p, 1), "1"), 2, 1, 1, "in-progress"},
		{"a note (MDM^T02)", stay("X", p, 4), 2, 1, 1, "in-progress"},
		{"discharge without DG1 (A03)", stay("X", p, 5), 2, 2, 1, "finished"},
		{"the discharge again under another control id", resend(stay("X", p, 5), "5"), 2, 2, 1, "finished"},
	}
	for _, s := range steps {
		in := inbound(t, s.raw)
		for i, err := range h.HandleBatch(ctx, []mllp.Inbound{in}) {
			if err != nil {
				t.Fatalf("%s: message %d: %v", s.name, i, err)
			}
		}
		pats := count(t, st, "Patient", "_count=10")
		encs := count(t, st, "Encounter", "_count=10")
		if len(pats) != 1 || len(encs) != 1 {
			t.Fatalf("%s: %d patients and %d encounters, want 1 and 1", s.name, len(pats), len(encs))
		}
		if pats[0].VersionID != s.patient {
			t.Errorf("%s: Patient at version %d, want %d", s.name, pats[0].VersionID, s.patient)
		}
		if encs[0].VersionID != s.encounter {
			t.Errorf("%s: Encounter at version %d, want %d", s.name, encs[0].VersionID, s.encounter)
		}
		enc, err := store.Decode(encs[0].Body)
		if err != nil {
			t.Fatal(err)
		}
		dx, _ := enc["diagnosis"].([]any)
		if len(dx) != s.diagnoses {
			t.Errorf("%s: the visit lists %d diagnoses, want %d: %s", s.name, len(dx), s.diagnoses, encs[0].Body)
		}
		if enc["status"] != s.status {
			t.Errorf("%s: the visit is %v, want %s", s.name, enc["status"], s.status)
		}
		if conds := count(t, st, "Condition", "_count=10"); len(conds) != 1 || conds[0].VersionID != 1 {
			t.Errorf("%s: %d conditions (want 1, at version 1)", s.name, len(conds))
		}
		// The result's report and six observations, written once.
		for typ, want := range map[string]int{"DiagnosticReport": 1, "Observation": 6} {
			if i := slices.IndexFunc(steps, func(x step) bool { return x.name == s.name }); i < 3 {
				want = 0
			}
			got := count(t, st, typ, "_count=20")
			if len(got) != want {
				t.Errorf("%s: %d %s, want %d", s.name, len(got), typ, want)
			}
			for _, r := range got {
				if r.VersionID != 1 || !strings.Contains(string(r.Body), `"reference":"Patient/`+pats[0].ID+`"`) {
					t.Errorf("%s: %s/%s at version %d, or not about Patient/%s: %s", s.name, typ, r.ID, r.VersionID, pats[0].ID, r.Body)
				}
			}
		}
	}
}

// TestBatchKeepsDiagnoses stores eight stays in batches, each batch one
// step of every stay: the visits end with their admitting diagnosis and
// two versions (admission, discharge), the patients with two (admission,
// the demographics update).
func TestBatchKeepsDiagnoses(t *testing.T) {
	const patients = 8
	st := newStore(t)
	h := handler(st)
	ctx := context.Background()
	for k := range stayMessages {
		var batch []mllp.Inbound
		for p := range patients {
			batch = append(batch, inbound(t, stay("K", p, k)))
		}
		for i, err := range h.HandleBatch(ctx, batch) {
			if err != nil {
				t.Fatalf("step %d, message %d: %v", k, i, err)
			}
		}
	}
	encs := count(t, st, "Encounter", "_count=100")
	if len(encs) != patients {
		t.Fatalf("%d encounters, want %d", len(encs), patients)
	}
	for _, e := range encs {
		enc, err := store.Decode(e.Body)
		if err != nil {
			t.Fatal(err)
		}
		if dx, _ := enc["diagnosis"].([]any); len(dx) != 1 || e.VersionID != 2 || enc["status"] != "finished" {
			t.Errorf("Encounter/%s at version %d, %v, with %d diagnoses; want version 2, finished, 1", e.ID, e.VersionID, enc["status"], len(dx))
		}
	}
	for _, p := range count(t, st, "Patient", "_count=100") {
		if p.VersionID != 2 {
			t.Errorf("Patient/%s at version %d, want 2", p.ID, p.VersionID)
		}
	}
}

// TestLaterRoundKeepsWhatTheFirstWrote gives one batch an admission with a
// diagnosis and a demographics update without one, for the same visit:
// the update waits for a later round, and keeps the diagnosis the
// admission wrote in the first.
func TestLaterRoundKeepsWhatTheFirstWrote(t *testing.T) {
	st := newStore(t)
	h := handler(st)
	for i, err := range h.HandleBatch(context.Background(), []mllp.Inbound{inbound(t, stay("L", 3, 0)), inbound(t, stay("L", 3, 3))}) {
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	encs := count(t, st, "Encounter", "_count=10")
	if len(encs) != 1 {
		t.Fatalf("%d encounters, want 1", len(encs))
	}
	enc, err := store.Decode(encs[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	if dx, _ := enc["diagnosis"].([]any); len(dx) != 1 {
		t.Errorf("the visit lists %d diagnoses, want 1: %s", len(dx), encs[0].Body)
	}
	if pats := count(t, st, "Patient", "_count=10"); len(pats) != 1 || !strings.Contains(string(pats[0].Body), "(217)556") {
		t.Errorf("the demographics update is missing")
	}
}
