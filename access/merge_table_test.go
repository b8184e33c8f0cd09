package access_test

import (
	"slices"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/mpi/identity"
)

// TestMergeFollowsTheStoresTable: the identity service asks the store's
// Guard who merges (the patient-link workflow), not the default table: a
// site that lets the clinician merge and not the HIM director gets exactly
// that, and the refusal is in the audit trail.
func TestMergeFollowsTheStoresTable(t *testing.T) {
	a := openAPI(t)
	ws := access.DefaultWorkflows()
	for i := range ws {
		if ws[i].Name == access.WorkflowPatientLink {
			ws[i].Deciders = []string{access.RoleClinician}
		}
	}
	a.st.Guard = access.Guard{Workflows: ws}
	svc := &identity.Service{Store: a.st}
	for _, id := range []string{"s1", "r1"} {
		a.seed("Patient", id, patient)
	}
	if _, err := svc.Merge(userCtx("dora", access.RoleHIMDirector), "s1", "r1", false); custodian.ErrorCode(err) != custodian.EFORBIDDEN {
		t.Fatalf("merge by the HIM director, whom the site's table leaves out: %v, want EFORBIDDEN", err)
	}
	refused, err := a.st.FindAudit(sysCtx, audit.Filter{Actor: "dora", Outcome: custodian.EFORBIDDEN})
	if err != nil || len(refused) != 1 || !slices.Equal(refused[0].Resources, []string{"Patient/r1"}) {
		t.Errorf("the refused merge in the trail: %v, %v", err, refused)
	}
	if _, err := svc.Merge(userCtx("cleo", access.RoleClinician), "s1", "r1", false); err != nil {
		t.Fatalf("merge by the clinician, whom the site's table names: %v", err)
	}
}
