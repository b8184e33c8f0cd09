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
	"github.com/custodian-him/custodian/store"
	"github.com/google/go-cmp/cmp"
)

// TestDNFBKept checks the kept DNFB list against the queue read from the
// store, for a coder (who may not see sensitive records) and the system,
// as stays are finalised, drafted, written while the list is being seeded,
// made sensitive, and opened by a broken glass.
func TestDNFBKept(t *testing.T) {
	h := loadHospital(t, 40)
	set := loadSet(t)
	scan, err := coding.NewQueue(h.st, set, drg.New())
	if err != nil {
		t.Fatal(err)
	}
	kept, err := coding.NewQueue(h.st, set, drg.New())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 10, 1, 9, 0, 0, 0, time.UTC)
	scan.Now = func() time.Time { return now }
	kept.Now = scan.Now
	kept.List = coding.NewDNFBList()
	h.st.Watchers = append(h.st.Watchers, kept.List.Watcher())
	cody := actor("cody", access.RoleCoder)
	sys := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())

	if _, err := kept.DNFB(cody); custodian.ErrorCode(err) != custodian.EUNAVAILABLE {
		t.Fatalf("before the seed: want EUNAVAILABLE, got %v", err)
	}
	list, err := scan.DNFB(cody)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) < 4 {
		t.Fatalf("the hospital has %d stays to code; want at least 4", len(list))
	}
	// A stay finalised before the seed (seen by the watcher, kept for the
	// seed to apply).
	finalise(t, scan, cody, list[0].Encounter)
	if err := kept.List.Seed(context.Background(), h.st); err != nil {
		t.Fatal(err)
	}
	same := func(step string) {
		t.Helper()
		for _, ctx := range []context.Context{cody, sys} {
			want, err := scan.DNFB(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := kept.DNFB(ctx)
			if err != nil {
				t.Fatal(err)
			}
			byTime := func(a, b coding.DNFBItem) int {
				if c := a.Discharged.Compare(b.Discharged); c != 0 {
					return c
				}
				return strings.Compare(a.Encounter, b.Encounter)
			}
			slices.SortFunc(want, byTime)
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("%s, as %s: kept DNFB differs from the store's (-want +got):\n%s", step, custodian.ActorFromContext(ctx).ID, d)
			}
		}
	}
	same("seeded")
	finalise(t, scan, cody, list[1].Encounter)
	same("one more finalised")
	if _, err := scan.Save(cody, list[2].Encounter, []coding.Diagnosis{{Code: "J18.9", POA: "Y"}}, nil, false); err != nil {
		t.Fatal(err)
	}
	same("a draft")
	// The third stay becomes restricted: the coder no longer sees it...
	id := strings.TrimPrefix(list[3].Encounter, "Encounter/")
	r, err := h.st.Read(sys, "Encounter", id)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := store.Decode(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := enc["meta"].(map[string]any)
	meta["security"] = []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}}
	if out, err := h.st.PutBatch(sys, []map[string]any{enc}); err != nil || out[0].Err != nil {
		t.Fatal(err, out[0].Err)
	}
	same("a restricted stay")
	got, _ := kept.DNFB(cody)
	if slices.ContainsFunc(got, func(it coding.DNFBItem) bool { return it.Encounter == list[3].Encounter }) {
		t.Fatal("the coder sees the restricted stay")
	}
	// ... until the coder breaks the glass for the patient.
	if err := h.st.BreakGlass(cody, strings.TrimPrefix(list[3].Patient, "Patient/"), "coding this stay for the bill", time.Hour); err != nil {
		t.Fatal(err)
	}
	same("the glass broken")
	got, _ = kept.DNFB(cody)
	if !slices.ContainsFunc(got, func(it coding.DNFBItem) bool { return it.Encounter == list[3].Encounter }) {
		t.Fatal("the coder does not see the restricted stay after breaking the glass")
	}
	// Whom the store refuses the search, the kept list refuses too.
	for _, role := range []string{access.RoleROISpecialist, access.RoleRecordAnalyst, access.RoleHIMDirector} {
		_, want := scan.DNFB(actor("someone", role))
		_, got := kept.DNFB(actor("someone", role))
		if custodian.ErrorCode(got) != custodian.ErrorCode(want) {
			t.Errorf("%s: kept DNFB error %v, the store's %v", role, got, want)
		}
	}
}

// finalise codes enc with its recorded diagnoses, all present on
// admission, and finalises it.
func finalise(t *testing.T, q *coding.Queue, ctx context.Context, enc string) {
	t.Helper()
	a, err := q.Abstract(ctx, enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Diagnoses {
		a.Diagnoses[i].POA = "Y"
	}
	if _, err := q.Save(ctx, enc, a.Diagnoses, a.Procedures, true); err != nil {
		t.Fatalf("finalising %s: %v", enc, err)
	}
}
