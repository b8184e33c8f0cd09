package coding_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/coding"
	"github.com/custodian-him/custodian/store"
)

// TestFinalRuleReadsAsTheWriter: the final coding rule reads the stay and
// the patient as the writer would. A coder who may not see a restricted
// patient writes a final Claim whose diagnosis conflicts with the
// patient's sex: the refusal (if any) names no sex or age edit and says
// nothing of the patient. Once the coder breaks the glass for the patient,
// the same write is refused for the sex conflict.
func TestFinalRuleReadsAsTheWriter(t *testing.T) {
	h, q := ruledHospital(t)
	sys := custodian.NewContextWithActor(t.Context(), custodian.SystemActor())
	cody := actor("cody", access.RoleCoder)
	list, err := q.DNFB(cody)
	if err != nil || len(list) == 0 {
		t.Fatalf("DNFB: %d stays, %v", len(list), err)
	}
	enc := list[0].Encounter
	pid := strings.TrimPrefix(list[0].Patient, "Patient/")
	pr, err := h.st.Read(sys, "Patient", pid)
	if err != nil {
		t.Fatal(err)
	}
	pt, _ := store.Decode(pr.Body)
	// A diagnosis for the other sex only: benign prostatic hyperplasia for
	// a woman, an ovarian cyst for a man.
	conflict := "N40.0"
	if pt["gender"] == "male" {
		conflict = "N83.201"
	}
	var dx []coding.Diagnosis
	for _, d := range h.truth[enc].Diagnoses {
		dx = append(dx, coding.Diagnosis{Code: d.Code, POA: d.POA})
	}
	dx = append(dx, coding.Diagnosis{Code: conflict, POA: "Y"})
	var px []coding.Procedure
	for _, p := range h.truth[enc].Procedures {
		px = append(px, coding.Procedure{Code: p, Date: list[0].Admitted.Format(time.DateOnly)})
	}
	// The codes do conflict with the patient's sex, as the coder sees it now.
	if _, err := q.Save(cody, enc, dx, px, true); !strings.Contains(errText(err), coding.EditSex) {
		t.Fatalf("finalising %s for a %v patient: %v, want %s", conflict, pt["gender"], err, coding.EditSex)
	}
	if _, err := q.Save(cody, enc, dx, px, false); err != nil {
		t.Fatal(err)
	}
	id := coding.ClaimID(enc)
	cr, err := h.st.Read(cody, "Claim", id)
	if err != nil {
		t.Fatal(err)
	}
	claim, _ := store.Decode(cr.Body)
	claim["status"] = "active"
	delete(claim, "meta")
	body, _ := json.Marshal(claim)

	// The patient's registration is restricted: the coder no longer sees it.
	pt["meta"] = map[string]any{"security": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}}}
	pb, _ := json.Marshal(pt)
	if _, err := h.st.Update(sys, "Patient", pid, pb, store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.Read(cody, "Patient", pid); custodian.ErrorCode(err) != custodian.ENOTFOUND {
		t.Fatalf("the coder reads the restricted patient: %v", err)
	}
	_, err = h.st.Update(cody, "Claim", id, body, store.WriteOptions{})
	for _, leak := range []string{coding.EditSex, coding.EditAge, "patient's sex", "the patient is "} {
		if strings.Contains(errText(err), leak) {
			t.Errorf("the rule tells a coder who may not see the patient %q: %s", leak, errText(err))
		}
	}

	// With the glass broken the coder sees the patient, and so does the rule.
	if err := h.st.BreakGlass(cody, pid, "coding the stay needs the registration", time.Hour); err != nil {
		t.Fatal(err)
	}
	claim["created"] = time.Date(2025, 1, 1, 0, 0, 1, 0, time.UTC).Format(time.RFC3339)
	body, _ = json.Marshal(claim)
	if _, err := h.st.Update(cody, "Claim", id, body, store.WriteOptions{}); custodian.ErrorCode(err) != custodian.EUNPROCESSABLE || !strings.Contains(errText(err), coding.EditSex) {
		t.Errorf("the final Claim after breaking the glass: %v, want EUNPROCESSABLE naming %s", errText(err), coding.EditSex)
	}
}

// errText is an error's message with its issues' messages.
func errText(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	var e *custodian.Error
	if errors.As(err, &e) {
		for _, is := range e.Issues {
			s += "; " + is.Message
		}
	}
	return s
}
