package access_test

import (
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/mpi/identity"
)

// TestMergeIsTheDirectorsStep: merging and unmerging registrations is the
// HIM director's step (the patient-link workflow). The merge writes as
// Custodian itself, so the store's guard cannot see who asked; the
// identity service must ask the same table before it acts. A clinician,
// whom the role table lets update Patients, may not merge.
func TestMergeIsTheDirectorsStep(t *testing.T) {
	a := openAPI(t)
	svc := &identity.Service{Store: a.st}
	for _, role := range userRoles() {
		a.seed("Patient", "s-"+role, patient)
		a.seed("Patient", "r-"+role, patientMoved)
		m, err := svc.Merge(userCtx("u-"+role, role), "s-"+role, "r-"+role, false)
		want := role == access.RoleHIMDirector
		if want && err != nil {
			t.Errorf("merge by %s: %v", role, err)
		}
		if !want && custodian.ErrorCode(err) != custodian.EFORBIDDEN {
			t.Errorf("merge by %s: %v, want EFORBIDDEN", role, err)
		}
		if !want && err == nil {
			// Put it back for the unmerge check below.
			if _, err := svc.Unmerge(sysCtx, m.Task); err != nil {
				t.Fatal(err)
			}
		}
	}
	m, err := svc.Merge(userCtx("dora", access.RoleHIMDirector), "s-coder", "r-coder", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range userRoles() {
		if role == access.RoleHIMDirector {
			continue
		}
		if _, err := svc.Unmerge(userCtx("u-"+role, role), m.Task); custodian.ErrorCode(err) != custodian.EFORBIDDEN {
			t.Errorf("unmerge by %s: %v, want EFORBIDDEN", role, err)
		}
	}
}
