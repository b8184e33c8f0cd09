package outcomes_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/registry"
)

// TestRefusedDecisionsAudited: a registry decision or follow-up POSTed
// by a role that does not decide cases is refused, changes nothing, and is
// in the audit trail as a refused registry-case step naming the case's
// Task, as a refused FHIR write of it is.
func TestRefusedDecisionsAudited(t *testing.T) {
	e := newEnv(t, 60)
	cands, err := e.reg.Cases("diabetes", registry.Candidate)
	if err != nil || len(cands) == 0 {
		t.Fatalf("no diabetes candidates: %v", err)
	}
	pt := cands[0].Patient
	task := "Task/" + registry.TaskID("diabetes", pt)
	for _, action := range []string{"accept", "follow-up"} {
		form := url.Values{"patient": {pt}, "action": {action}}
		req := httptest.NewRequest("POST", "/outcomes/registries/diabetes/decide", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req = req.WithContext(custodian.NewContextWithActor(context.Background(),
			&custodian.Actor{ID: "carl", Kind: access.KindUser, Roles: []string{access.RoleClinician}}))
		rec := httptest.NewRecorder()
		e.wb.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Errorf("%s by a clinician: %d, want 403", action, rec.Code)
		}
	}
	sys := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	es, err := e.st.FindAudit(sys, audit.Filter{Actor: "carl", Outcome: custodian.EFORBIDDEN, Action: audit.ActionDecide})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, x := range es {
		if slices.Equal(x.Resources, []string{task}) && x.Query == access.WorkflowRegistryCase {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d refused registry-case steps naming %s in the trail, want 2 (%d refusals)", n, task, len(es))
	}
	if acc, _ := e.reg.Cases("diabetes", registry.Accepted); len(acc) != 0 {
		t.Errorf("the clinician's posts accepted %d cases", len(acc))
	}
}
