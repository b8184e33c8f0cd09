package duplicates_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/web"
	"github.com/custodian-him/custodian/web/duplicates"
)

// TestRefusedDecisionsAudited: a merge, a "not a duplicate" and an
// unmerge POSTed by a role that does not take those steps are refused and
// recorded in the audit trail naming the Task, as a refused FHIR write is.
func TestRefusedDecisionsAudited(t *testing.T) {
	e := newEnv(t, 40)
	task, _, _ := e.pair(t)
	c := e.signIn(t, "cody")
	for _, path := range []string{
		"/duplicates/pairs/" + task + "/merge",
		"/duplicates/pairs/" + task + "/not-duplicate",
		"/duplicates/merges/" + task + "/unmerge",
	} {
		if resp, _ := c.postForm(t, path, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("coder POST %s: %d", path, resp.StatusCode)
		}
	}
	es, err := e.st.FindAudit(e.sys, audit.Filter{Actor: "cody", Outcome: custodian.EFORBIDDEN})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, x := range es {
		if slices.Equal(x.Resources, []string{"Task/" + task}) {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d refusals naming Task/%s in the trail, want 3 (%d refusals in all)", n, task, len(es))
	}
	if m := e.read(t, "Task", task); m["status"] != "requested" {
		t.Errorf("the coder's posts changed the Task: %v", m["status"])
	}
}

// TestPairOffersOnlyYourSteps: under a site's table where the record
// analyst reviews duplicates but only the HIM director merges, the pair
// page offers the analyst "not a duplicate" and no merge (whose preview
// the store would refuse and audit), and offers the director both.
func TestPairOffersOnlyYourSteps(t *testing.T) {
	e := newEnv(t, 40)
	task, _, _ := e.pair(t)
	ws := access.DefaultWorkflows()
	for i := range ws {
		if ws[i].Name == access.WorkflowDuplicate {
			ws[i].Deciders = []string{access.RoleRecordAnalyst, access.RoleHIMDirector}
		}
	}
	e.st.Guard = access.Guard{Workflows: ws}
	wb := &web.Handler{Records: e.st}
	wb.Modules = append(wb.Modules, duplicates.Module(e.svc, wb))
	get := func(role string) (int, string) {
		req := httptest.NewRequest("GET", "/duplicates/pairs/"+task, nil).WithContext(custodian.NewContextWithActor(context.Background(),
			&custodian.Actor{ID: "u-" + role, Kind: access.KindUser, Roles: []string{role}}))
		rec := httptest.NewRecorder()
		wb.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	for _, c := range []struct {
		role             string
		merge, undecided bool
	}{
		{access.RoleRecordAnalyst, false, true},
		{access.RoleHIMDirector, true, true},
	} {
		code, body := get(c.role)
		if code != http.StatusOK {
			t.Fatalf("the pair page for %s: %d", c.role, code)
		}
		if got := strings.Contains(body, `id="preview-merge"`); got != c.merge {
			t.Errorf("the pair page offers %s a merge: %v, want %v", c.role, got, c.merge)
		}
		if got := strings.Contains(body, `id="not-duplicate"`); got != c.undecided {
			t.Errorf("the pair page offers %s \"not a duplicate\": %v, want %v", c.role, got, c.undecided)
		}
	}
}
