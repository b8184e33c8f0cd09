package duplicates_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
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
