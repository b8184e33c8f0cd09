package coding_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/coding"
	"github.com/custodian-him/custodian/store"
)

// TestFinalRuleOnAHiddenPatient: the final coding rule runs the age and
// sex edits and the grouping on the patient's data even when the writer
// may not see the patient. A coder who may not see a restricted patient
// writes a final Claim whose diagnosis conflicts with the patient's sex:
// it is refused (422) with the one issue EditHiddenData, which names no
// edit, code, sex, age or MS-DRG; so is a Claim stating an MS-DRG that is
// not the grouper's. A Claim that passes is stored. Once the coder breaks
// the glass for the patient, the conflicting Claim is refused naming the
// sex edit.
func TestFinalRuleOnAHiddenPatient(t *testing.T) {
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
	var px []coding.Procedure
	for _, p := range h.truth[enc].Procedures {
		px = append(px, coding.Procedure{Code: p, Date: list[0].Admitted.Format(time.DateOnly)})
	}
	id := coding.ClaimID(enc)
	// final saves dx as the coder's draft, as the coder sees the patient
	// now, and returns it made final, as a body to write.
	final := func(dx []coding.Diagnosis, change func(map[string]any)) []byte {
		t.Helper()
		claim := finalDraft(t, h, q, cody, enc, dx, px)
		if change != nil {
			change(claim)
		}
		b, _ := json.Marshal(claim)
		return b
	}
	clean := final(dx, nil)
	wrongDRG := final(dx, func(c map[string]any) { setDRG(c, "999") })
	withConflict := append(slices.Clone(dx), coding.Diagnosis{Code: conflict, POA: "Y"})
	// The codes do conflict with the patient's sex, as the coder sees it now.
	if _, err := q.Save(cody, enc, withConflict, px, true); !strings.Contains(errText(err), coding.EditSex) {
		t.Fatalf("finalising %s for a %v patient: %v, want %s", conflict, pt["gender"], err, coding.EditSex)
	}
	conflicting := final(withConflict, nil)

	// The patient's registration is restricted: the coder no longer sees it.
	pt["meta"] = map[string]any{"security": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}}}
	pb, _ := json.Marshal(pt)
	if _, err := h.st.Update(sys, "Patient", pid, pb, store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.Read(cody, "Patient", pid); custodian.ErrorCode(err) != custodian.ENOTFOUND {
		t.Fatalf("the coder reads the restricted patient: %v", err)
	}
	// The abstract of the stay (the workspace, $coding-abstract) is
	// refused as restricted, saying what to do and nothing of the patient.
	var re *coding.RestrictedError
	if _, err := q.Abstract(cody, enc); custodian.ErrorCode(err) != custodian.EFORBIDDEN || !errors.As(err, &re) ||
		re.Patient != "Patient/"+pid || re.Encounter != enc || !strings.Contains(custodian.ErrorMessage(err), "Break the glass") {
		t.Errorf("the abstract of the restricted patient's stay: %v, want a RestrictedError (EFORBIDDEN) saying to break the glass", err)
	} else if msg := custodian.ErrorMessage(err); strings.Contains(msg, "male") || strings.Contains(msg, pt["birthDate"].(string)) {
		t.Errorf("the refusal tells of the patient: %s", msg)
	}
	for _, c := range []struct {
		name string
		body []byte
	}{{"a diagnosis conflicting with the hidden sex", conflicting}, {"an MS-DRG that is not the grouper's", wrongDRG}} {
		_, err = h.st.Update(cody, "Claim", id, c.body, store.WriteOptions{})
		if custodian.ErrorCode(err) != custodian.EUNPROCESSABLE || !strings.Contains(errText(err), coding.EditHiddenData) {
			t.Errorf("%s, the patient hidden: %v, want EUNPROCESSABLE naming %s", c.name, errText(err), coding.EditHiddenData)
		}
		for _, leak := range []string{coding.EditSex, coding.EditAge, "sex is", "the patient is ", conflict, "grouper's for", "female", "male "} {
			if strings.Contains(errText(err), leak) {
				t.Errorf("%s: the rule tells a coder who may not see the patient %q: %s", c.name, leak, errText(err))
			}
		}
	}
	// The refusals are in the patient's trail (a privacy officer's access
	// report filters by patient), naming the Claim and the patient, though
	// the coder was told nothing of the patient.
	refused, err := h.st.FindAudit(sys, audit.Filter{Patient: pid, Action: audit.ActionUpdate, Failed: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(refused) != 2 {
		t.Errorf("the patient's trail holds %d refused entries, want the 2 refused Claims: %v", len(refused), refused)
	}
	for _, e := range refused {
		if e.Action != audit.ActionUpdate || e.Actor != "cody" || e.Outcome != custodian.EUNPROCESSABLE ||
			!slices.Equal(e.Resources, []string{"Claim/" + id}) || !slices.Equal(e.Patients, []string{pid}) {
			t.Errorf("refused write in the patient's trail: %+v, want cody's refused update of Claim/%s naming Patient/%s", e, id, pid)
		}
	}
	if _, err := h.st.Update(cody, "Claim", id, clean, store.WriteOptions{}); err != nil {
		t.Errorf("a Claim that passes the edits, the patient hidden: %v", errText(err))
	}

	// With the glass broken the coder sees the patient, and so does the rule.
	if n := len(glassReads(t, h, sys, pid)); n != 0 {
		t.Fatalf("%d break-the-glass reads before the glass is broken", n)
	}
	reason := "coding the stay needs the registration"
	if err := h.st.BreakGlass(cody, pid, reason, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.Update(cody, "Claim", id, conflicting, store.WriteOptions{}); custodian.ErrorCode(err) != custodian.EUNPROCESSABLE || !strings.Contains(errText(err), coding.EditSex) {
		t.Errorf("the final Claim after breaking the glass: %v, want EUNPROCESSABLE naming %s", errText(err), coding.EditSex)
	}
	// The rule read the patient only because the glass is broken: that
	// read is in the trail as a break-the-glass read, though the write
	// was refused (its refusal told the coder of the patient's sex) …
	want := []string{"Patient/" + pid}
	if es := glassReads(t, h, sys, pid); len(es) != 1 || !slices.Equal(es[0].Resources, want) || es[0].Reason != reason || !slices.Equal(es[0].Patients, []string{pid}) {
		t.Errorf("break-the-glass reads after the refused write: %v, want one of %v with the reason", es, want)
	}
	// … so is a batch's (PutBatch) …
	batch, _ := store.Decode(conflicting)
	if res, err := h.st.PutBatch(cody, []map[string]any{batch}); err != nil || custodian.ErrorCode(res[0].Err) != custodian.EUNPROCESSABLE {
		t.Errorf("the conflicting Claim in a batch: %v, %v; want EUNPROCESSABLE", err, res)
	}
	if n := len(glassReads(t, h, sys, pid)); n != 2 {
		t.Errorf("%d break-the-glass reads after the refused batch, want 2", n)
	}
	// … and once more, with the write, when the write is stored (a new
	// version of the Claim stored while the patient was hidden).
	again, _ := store.Decode(clean)
	again["created"] = time.Date(2025, 1, 1, 0, 0, 1, 0, time.UTC).Format(time.RFC3339)
	clean, _ = json.Marshal(again)
	if _, err := h.st.Update(cody, "Claim", id, clean, store.WriteOptions{}); err != nil {
		t.Fatal(errText(err))
	}
	if es := glassReads(t, h, sys, pid); len(es) != 3 || !slices.Equal(es[0].Resources, want) {
		t.Errorf("break-the-glass reads after the stored write: %v, want three of %v", es, want)
	}
	if res, err := audit.Verify(sys, h.db.(audit.Scanner)); err != nil || !res.OK {
		t.Errorf("audit verify: %+v, %v", res, err)
	}
}

// glassReads are the reads of patient's record under a broken glass in
// the trail, newest first.
func glassReads(t *testing.T, h *hospital, ctx context.Context, patient string) []*audit.Entry {
	t.Helper()
	es, err := h.st.FindAudit(ctx, audit.Filter{Patient: patient, BreakGlass: true, Action: audit.ActionRead})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// setDRG states drg as the MS-DRG of claim, wherever claim states one.
func setDRG(claim map[string]any, drg string) {
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["system"] == coding.SystemMSDRG {
				v["code"] = drg
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(claim)
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
