package access_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
)

// TestConditionalWritesAreJudged takes workflow steps through the FHIR
// API's conditional interactions — update and delete by criteria, and
// create-if-none-exist — as a role that may write the type but not take
// the step: each is refused with 403, changes nothing and is in the audit
// trail; the role that takes the step may.
func TestConditionalWritesAreJudged(t *testing.T) {
	a := openAPI(t)
	a.requireWriteGuard()
	withID := func(body, value string) map[string]any {
		m := res(t, body)
		m["identifier"] = []any{map[string]any{"system": "urn:test", "value": value}}
		return m
	}
	refusals := func(user string) []*audit.Entry {
		t.Helper()
		es, err := a.st.FindAudit(sysCtx, audit.Filter{Actor: user, Outcome: custodian.EFORBIDDEN})
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	seed := func(typ, id string, m map[string]any) {
		t.Helper()
		b, _ := json.Marshal(m)
		a.seed(typ, id, string(b))
	}

	// Update by criteria: a coder may update Tasks, not decide a case.
	seed("Task", "c1", withID(regCandidate, "c1"))
	accepted := withID(regAccepted, "c1")
	b, _ := json.Marshal(accepted)
	if code, out := a.do("PUT", "Task?identifier="+url.QueryEscape("urn:test|c1"), "cody", access.RoleCoder, b); code != http.StatusForbidden || !forbiddenOutcome(out) {
		t.Errorf("conditional update deciding a case, by a coder: %d %v", code, out)
	}
	if a.current("Task", "c1")["status"] != "requested" {
		t.Error("the refused conditional update decided the case")
	}
	if code, out := a.do("PUT", "Task?identifier="+url.QueryEscape("urn:test|c1"), "rita", access.RoleRegistrar, b); code != http.StatusOK {
		t.Errorf("conditional update deciding a case, by the registrar: %d %v", code, out)
	}

	// Create if none exist: a coder may create Tasks, not an accepted case.
	b, _ = json.Marshal(withID(regAccepted, "c2"))
	if code, out := a.do("POST", "Task", "cody", access.RoleCoder, b, "If-None-Exist", "identifier=urn:test|c2"); code != http.StatusForbidden || !forbiddenOutcome(out) {
		t.Errorf("conditional create of an accepted case, by a coder: %d %v", code, out)
	}

	// Delete by criteria: merge records are written by the merge alone;
	// even the HIM director, who may delete Tasks, may not delete one.
	seed("Task", "m1", withID(`{"resourceType":"Task","intent":"order","status":"completed",
		"code":{"coding":[{"system":"https://custodian.example/fhir/CodeSystem/mpi","code":"patient-merge"}]}}`, "m1"))
	if code, out := a.do("DELETE", "Task?identifier="+url.QueryEscape("urn:test|m1"), "dora", access.RoleHIMDirector, nil); code != http.StatusForbidden || !forbiddenOutcome(out) {
		t.Errorf("conditional delete of a merge record, by the HIM director: %d %v", code, out)
	}
	if a.current("Task", "m1") == nil {
		t.Error("the refused conditional delete deleted the merge record")
	}
	// A plain Task the director may delete by criteria.
	seed("Task", "p1", withID(plainTask, "p1"))
	if code, out := a.do("DELETE", "Task?identifier="+url.QueryEscape("urn:test|p1"), "dora", access.RoleHIMDirector, nil); code >= 300 {
		t.Errorf("conditional delete of a plain Task, by the HIM director: %d %v", code, out)
	}

	if n := len(refusals("cody")); n != 2 {
		t.Errorf("the coder's refused conditional writes in the trail: %d, want 2", n)
	}
	if es := refusals("dora"); len(es) != 1 || es[0].Action != audit.ActionDelete {
		t.Errorf("the director's refused conditional delete in the trail: %+v", es)
	}
}

// TestEverythingIsAudited: Patient/$everything by a user is recorded with
// the patient it returned, like any read.
func TestEverythingIsAudited(t *testing.T) {
	a := openAPI(t)
	a.seed("Patient", "e1", patient)
	a.seed("Condition", "e1c", `{"resourceType":"Condition","subject":{"reference":"Patient/e1"},
		"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"E11.9"}]}}`)
	code, out := a.do("GET", "Patient/e1/$everything", "cleo", access.RoleClinician, nil)
	if code != http.StatusOK {
		t.Fatalf("$everything: %d %v", code, out)
	}
	es, err := a.st.FindAudit(sysCtx, audit.Filter{Actor: "cleo"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(es, func(e *audit.Entry) bool { return slices.Contains(e.Patients, "e1") && e.Outcome == "success" }) {
		t.Errorf("$everything left no entry naming the patient: %+v", es)
	}
}
