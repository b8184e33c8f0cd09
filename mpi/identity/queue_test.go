package identity_test

import (
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/ingest/hl7v2"
	"github.com/custodian-him/custodian/ingest/mllp"
	"github.com/custodian-him/custodian/mpi/identity"
	"github.com/custodian-him/custodian/store"
)

func patient(given, family, birth, sex, extra string) []byte {
	return []byte(`{"resourceType":"Patient","name":[{"family":"` + family + `","given":["` + given + `"]}],"gender":"` + sex +
		`","birthDate":"` + birth + `","address":[{"line":["12 Orchard Lane"],"city":"Springfield","postalCode":"62704"}],"telecom":[{"system":"phone","value":"217-555-0143"}]` + extra + `}`)
}

func (h *hospital) create(t *testing.T, typ string, body []byte) string {
	t.Helper()
	out, err := h.st.Create(sys, typ, body, store.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out.Resource.ID
}

func (h *hospital) tasks(t *testing.T, code string) []map[string]any {
	t.Helper()
	q, err := h.st.ParseQueryString("Task", "code="+identity.System+"|"+code)
	if err != nil {
		t.Fatal(err)
	}
	page, err := h.st.Search(sys, q)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, r := range page.Resources {
		res, _ := store.Decode(r.Body)
		res["id"] = r.ID
		out = append(out, res)
	}
	return out
}

func TestQueueAndNotDuplicate(t *testing.T) {
	h := load(t, 0)
	a := h.create(t, "Patient", patient("Katherine", "Okafor", "1984-03-17", "female", ""))
	b := h.create(t, "Patient", patient("Kathrine", "Okafor", "1984-03-17", "female", ""))
	if s, err := h.svc.Sync(sys); err != nil || s.Candidates != 1 {
		t.Fatalf("sync %+v %v, want 1 candidate", s, err)
	}
	c := h.tasks(t, identity.CodeCandidate)
	if len(c) != 1 {
		t.Fatalf("%d candidate Tasks, want 1", len(c))
	}
	j := mustJSON(c[0])
	if !strings.Contains(j, "Patient/"+a) || !strings.Contains(j, "Patient/"+b) || !strings.Contains(j, `"probability"`) || !strings.Contains(j, "given:") {
		t.Errorf("candidate Task lacks the pair or the evidence: %s", j)
	}
	// A coder may not decide; the director may.
	if err := h.svc.NotDuplicate(user("cody", access.RoleCoder), c[0]["id"].(string), ""); custodian.ErrorCode(err) != custodian.EFORBIDDEN {
		t.Errorf("coder: %v", err)
	}
	if err := h.svc.NotDuplicate(user("dana", access.RoleHIMDirector), c[0]["id"].(string), "sisters-in-law"); err != nil {
		t.Fatal(err)
	}
	// The pair never comes back, whichever of them changes.
	body := patient("Kathrine", "Okafor", "1984-03-17", "female", `,"id":"`+b+`","maritalStatus":{"text":"married"}`)
	if _, err := h.st.Update(sys, "Patient", b, body, store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if s, err := h.svc.Sync(sys); err != nil || s.Candidates != 0 || s.Patients != 1 {
		t.Fatalf("sync after the decision %+v %v, want 1 patient and no candidate", s, err)
	}
	if c := h.tasks(t, identity.CodeCandidate); len(c) != 1 || !strings.Contains(mustJSON(c[0]["businessStatus"]), identity.BusinessNotDuplicate) {
		t.Errorf("candidates after the decision: %s", mustJSON(c))
	}
}

func TestOverlay(t *testing.T) {
	h := load(t, 0)
	p := h.create(t, "Patient", patient("Marcus", "Lindqvist", "1950-11-02", "male", ""))
	lone := h.create(t, "Patient", patient("Ines", "Carvalho", "1999-06-30", "female", ""))
	h.create(t, "Encounter", []byte(`{"resourceType":"Encounter","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/`+p+`"}}`))
	h.svc.Sync(sys)
	// Another person written over both records: only the one with
	// clinical data is an overlay.
	for _, id := range []string{p, lone} {
		body := patient("Sofia", "Brennan", "1988-01-09", "female", `,"id":"`+id+`"`)
		if _, err := h.st.Update(sys, "Patient", id, body, store.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// A correction of the name alone is no overlay.
	fix := patient("Sofia", "Brenan", "1988-01-09", "female", `,"id":"`+p+`"`)
	s, err := h.svc.Sync(sys)
	if err != nil || s.Overlays != 1 {
		t.Fatalf("sync %+v %v, want 1 overlay", s, err)
	}
	if _, err := h.st.Update(sys, "Patient", p, fix, store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if s, err := h.svc.Sync(sys); err != nil || s.Overlays != 0 {
		t.Fatalf("sync after a name fix %+v %v, want no overlay", s, err)
	}
	o := h.tasks(t, identity.CodeOverlay)
	if len(o) != 1 || !strings.Contains(mustJSON(o[0]["focus"]), "Patient/"+p+"/_history/2") {
		t.Errorf("overlay Tasks %s", mustJSON(o))
	}
}

// TestA40 sends registrations and a merge through the HL7 v2 store
// handler with the service as its IdentityChanger.
func TestA40(t *testing.T) {
	h := load(t, 0)
	feed := &custodian.Actor{ID: "feed", Kind: "system"}
	sh := &mllp.StoreHandler{Store: h.st, Mapper: hl7v2.NewMapper(nil), Identity: h.svc, Actor: feed}
	send := func(raw string) error {
		m, err := hl7v2.Parse([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return sh.Handle(sys, m, []byte(raw))
	}
	msh := func(typ, id string) string {
		return "MSH|^~\\&|REG|GENERAL|CUSTODIAN|GENERAL|20260301101500||" + typ + "|" + id + "|P|2.5\r"
	}
	if err := send(msh("ADT^A04", "m1") + "EVN|A04|20260301101500\rPID|1||700100^^^GENERAL^MR||Abara^Chidi||19700412|M\rPV1|1|O|CLINIC^^^GENERAL||||||||||||||||V100^^^GENERAL^VN\r"); err != nil {
		t.Fatal(err)
	}
	if err := send(msh("ADT^A04", "m2") + "EVN|A04|20260301101600\rPID|1||700200^^^GENERAL^MR||Abara^Chidi^O||19700412|M\rPV1|1|O|CLINIC^^^GENERAL||||||||||||||||V200^^^GENERAL^VN\r"); err != nil {
		t.Fatal(err)
	}
	a40 := msh("ADT^A40^ADT_A39", "m3") + "EVN|A40|20260302090000\rPID|1||700100^^^GENERAL^MR||Abara^Chidi||19700412|M\rMRG|700200^^^GENERAL^MR\r"
	if err := send(a40); err != nil {
		t.Fatal(err)
	}
	merges := h.tasks(t, identity.CodeMerge)
	if len(merges) != 1 {
		t.Fatalf("%d merge Tasks after the A40, want 1", len(merges))
	}
	survivor := id(merges[0]["focus"].(map[string]any)["reference"].(string))
	enc := h.compartment(t, survivor)
	n := 0
	for ref := range enc {
		if strings.HasPrefix(ref, "Encounter/") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("the survivor holds %d encounters after the merge, want 2", n)
	}
	// The same merge again (another control id) changes nothing.
	if err := send(strings.Replace(a40, "|m3|", "|m4|", 1)); err != nil {
		t.Fatal(err)
	}
	if len(h.tasks(t, identity.CodeMerge)) != 1 {
		t.Error("a repeated A40 merged again")
	}
}

func TestReport(t *testing.T) {
	h := load(t, 0)
	a := h.create(t, "Patient", patient("Katherine", "Okafor", "1984-03-17", "female", ""))
	b := h.create(t, "Patient", patient("Kathrine", "Okafor", "1984-03-17", "female", ""))
	elsewhere := strings.NewReplacer("12 Orchard Lane", "4 Harbour Road", "Springfield", "Dover", "62704", "19901", "217-555-0143", "302-555-0199")
	h.create(t, "Patient", []byte(elsewhere.Replace(string(patient("Marcus", "Lindqvist", "1950-11-02", "male", "")))))
	h.create(t, "Patient", []byte(strings.Replace(elsewhere.Replace(string(patient("Ines", "Carvalho", "1999-06-30", "female", ""))), "4 Harbour", "90 Quarry", 1)))
	if _, err := h.svc.Sync(sys); err != nil {
		t.Fatal(err)
	}
	dir := user("dana", access.RoleHIMDirector)
	rep, err := h.svc.Report(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Patients != 4 || rep.OpenCandidates != 1 || rep.DuplicateRate != 0.25 || len(rep.Merges) != 0 {
		t.Fatalf("report before the merge %+v", rep)
	}
	cands, err := h.svc.Candidates(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cands) != 1 || !cands[0].Open || cands[0].Class == "" || cands[0].Task == "" ||
		!(cands[0].Patient == a && cands[0].Other == b || cands[0].Patient == b && cands[0].Other == a) {
		t.Fatalf("candidates %+v, want the pair %s, %s", cands, a, b)
	}
	c := h.tasks(t, identity.CodeCandidate)
	focus := id(c[0]["focus"].(map[string]any)["reference"].(string))
	other := focus
	if focus == b {
		other = id(c[0]["input"].([]any)[0].(map[string]any)["valueReference"].(map[string]any)["reference"].(string))
	}
	m, err := h.svc.Merge(dir, other, b, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Unmerge(dir, m.Task); err != nil {
		t.Fatal(err)
	}
	rep, err = h.svc.Report(dir)
	if err != nil {
		t.Fatal(err)
	}
	month := h.st.Now().UTC().Format("2006-01")
	if rep.OpenCandidates != 0 || rep.Merges[month] != 1 || rep.Unmerges[month] != 1 {
		t.Errorf("report after a merge and an unmerge %+v", rep)
	}
}
