package access_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
)

// TestRefusalsSayWhatWasRefused: a workflow step refused by the store's
// Guard is recorded as a refused step (action "decide") naming the
// workflow and the item, and a refused operation (action "operation") as
// that operation on its resources, not as a write or read that never
// happened. Both are found by action and by patient, shown as AuditEvents
// that say so, searched by action through the FHIR API, and the chain
// holding them verifies.
func TestRefusalsSayWhatWasRefused(t *testing.T) {
	db, st := sqldbtest.OpenStore(t)
	st.Guard, st.AuditLog = access.Guard{}, db
	cody := userCtx("cody", access.RoleCoder)
	for _, c := range []struct{ workflow, item, patient string }{
		{access.WorkflowPatientLink, "Patient/p1", "p1"},
		{access.WorkflowRelease, "Task/t1", ""},
		{access.WorkflowRegistryCase, "Task", ""},
	} {
		if err := st.MayDecide(cody, c.workflow, c.item); custodian.ErrorCode(err) != custodian.EFORBIDDEN {
			t.Fatalf("a coder's %s step: %v, want EFORBIDDEN", c.workflow, err)
		}
		es, err := st.FindAudit(sysCtx, audit.Filter{Actor: "cody", Action: audit.ActionDecide, Patient: c.patient})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(es, func(e *audit.Entry) bool {
			return e.Query == c.workflow && slices.Equal(e.Resources, []string{c.item}) && e.Outcome == custodian.EFORBIDDEN &&
				(c.patient == "" || slices.Equal(e.Patients, []string{c.patient}))
		}) {
			t.Errorf("no refused %s step on %s in the trail: %+v", c.workflow, c.item, es)
		}
	}
	opErr := custodian.Errorf(custodian.EFORBIDDEN, "no")
	if err := st.RefusedOperation(cody, "$accounting", []string{"Patient/p2"}, opErr); err != opErr {
		t.Fatalf("RefusedOperation returned %v, want the refusal", err)
	}
	es, err := st.FindAudit(sysCtx, audit.Filter{Action: audit.ActionOperation, Patient: "p2"})
	if err != nil || len(es) != 1 || es[0].Query != "$accounting" || !slices.Equal(es[0].Resources, []string{"Patient/p2"}) {
		t.Fatalf("the refused operation in the trail: %v, %+v", err, es)
	}

	// The AuditEvent view says what was refused.
	ev := es[0].AuditEvent()
	if ev["action"] != "E" || !slices.Contains(codes(ev["subtype"]), "operation") {
		t.Errorf("the refused operation as an AuditEvent: action %v, subtype %v", ev["action"], ev["subtype"])
	}
	es, _ = st.FindAudit(sysCtx, audit.Filter{Action: audit.ActionDecide, Patient: "p1"})
	ev = es[0].AuditEvent()
	if ty, _ := ev["type"].(map[string]any); ty["code"] != audit.ActionDecide || !slices.Contains(codes(ev["subtype"]), access.WorkflowPatientLink) {
		t.Errorf("the refused merge as an AuditEvent: type %v, subtype %v", ev["type"], ev["subtype"])
	}

	// AuditEvent search by action finds them.
	h := (&fhirapi.Handler{Store: st, Types: fhir.R4().ResourceTypes()}).Init()
	for action, want := range map[string]int{audit.ActionDecide: 3, audit.ActionOperation: 1} {
		r := httptest.NewRequest("GET", "/fhir/AuditEvent?action="+action, nil)
		r = r.WithContext(custodian.NewContextWithActor(context.Background(),
			&custodian.Actor{ID: "aud", Kind: access.KindUser, Roles: []string{access.RoleAuditor}}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var b struct{ Entry []any }
		if err := json.Unmarshal(w.Body.Bytes(), &b); w.Code != http.StatusOK || err != nil || len(b.Entry) != want {
			t.Errorf("AuditEvent?action=%s: %d, %d entries, want %d", action, w.Code, len(b.Entry), want)
		}
	}
	if res, err := audit.Verify(context.Background(), db); err != nil || !res.OK {
		t.Errorf("verify with the refusals in the chain: %v, %+v", err, res)
	}
}

// codes returns the codes of a list of Codings.
func codes(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		c, _ := x.(map[string]any)
		if s, _ := c["code"].(string); s != "" {
			out = append(out, s)
		}
	}
	return out
}
