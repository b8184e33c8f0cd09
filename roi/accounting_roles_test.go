package roi_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
)

// TestAccountingReaders: the accounting of disclosures is read by the
// roles that work release requests and by the privacy officer — through
// the service, so the FHIR operation and the command line hold the same
// line as the workbench page. Other roles that may search Tasks (a coder,
// a clinician) are refused, and the refusal is in the audit trail.
func TestAccountingReaders(t *testing.T) {
	e := newEnv(t)
	as := func(role string) context.Context {
		return custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "u-" + role, Kind: access.KindUser, Roles: []string{role}})
	}
	if got, want := e.svc.AccountingRoles(), []string{access.RoleROISpecialist, access.RoleHIMDirector, access.RolePrivacyOfficer}; !slices.Equal(got, want) {
		t.Errorf("AccountingRoles = %v, want %v", got, want)
	}
	for _, role := range []string{access.RoleROISpecialist, access.RoleHIMDirector, access.RolePrivacyOfficer, access.RoleCoder, access.RoleClinician, access.RoleRegistrar} {
		_, err := e.svc.Accounting(as(role), e.patient, time.Time{}, time.Time{})
		want := slices.Contains(e.svc.AccountingRoles(), role)
		if want != (err == nil) || !want && custodian.ErrorCode(err) != custodian.EFORBIDDEN {
			t.Errorf("accounting read by %s: %v", role, err)
		}
		if want {
			continue
		}
		// The entry says what was refused — the $accounting operation on
		// the patient — and is found by action and by patient.
		es, err := e.st.FindAudit(system(), audit.Filter{Actor: "u-" + role, Outcome: custodian.EFORBIDDEN, Action: audit.ActionOperation, Patient: e.patient})
		if err != nil || len(es) != 1 || es[0].Query != "$accounting" || !slices.Equal(es[0].Resources, []string{"Patient/" + e.patient}) {
			t.Errorf("the refused accounting read by %s in the trail: %v, %+v", role, err, es)
		}
	}
}
