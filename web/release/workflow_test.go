package release_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/roi"
	"github.com/custodian-him/custodian/web/release"
)

// TestQueueWithARequestNamingNoPatient: a release request written through
// the FHIR API without a patient is listed with the others; it used to
// make the queue's patient-name search fail ("_id has an empty value")
// and the whole page answer 400.
func TestQueueWithARequestNamingNoPatient(t *testing.T) {
	e := newEnv(t)
	e.submit(e.authorize(nil).ID, nil)
	e.create(`{"resourceType":"Task","intent":"order","status":"requested","authoredOn":"2026-03-01",` +
		`"code":{"coding":[{"system":"https://custodian-him.org/fhir/CodeSystem/him-task","code":"release-of-information"}]},` +
		`"businessStatus":{"coding":[{"system":"https://custodian-him.org/fhir/CodeSystem/roi-status","code":"requested"}]}}`)
	rec := e.serve("GET", release.PathQueue, nil, access.RoleROISpecialist)
	if rec.Code != http.StatusOK {
		t.Fatalf("the queue: %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(rec.Body.String(), "Okafor") {
		t.Error("the queue lost the other request's patient name")
	}
}

// TestRefusedActionsAudited: a release action POSTed by a role that does
// not work release requests is refused, changes nothing, and is in the
// audit trail naming the request, as a refused FHIR write is.
func TestRefusedActionsAudited(t *testing.T) {
	e := newEnv(t)
	req := e.submit(e.authorize(nil).ID, nil)
	for _, c := range []struct{ path, item string }{
		{"/roi/requests/" + req.ID + "/deny", "Task/" + req.ID},
		{release.PathNew, "Task"},
	} {
		rec := e.serve("POST", c.path, url.Values{"reason": {"no records"}}, access.RoleCoder)
		if rec.Code != http.StatusForbidden {
			t.Errorf("POST %s by a coder: %d", c.path, rec.Code)
		}
		es, err := e.st.FindAudit(e.sys, audit.Filter{Actor: "tester", Outcome: custodian.EFORBIDDEN})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(es, func(x *audit.Entry) bool { return slices.Equal(x.Resources, []string{c.item}) }) {
			t.Errorf("POST %s by a coder: no refusal naming %s in the trail (%d refusals)", c.path, c.item, len(es))
		}
	}
	if got, err := e.svc.Get(specialist(), req.ID); err != nil || got.Status != roi.Requested {
		t.Errorf("the request after the refused denial: %v, %v", got, err)
	}
}

// TestRefusedAccountingAudited: the accounting page of a patient asked
// for by a role that does not read accountings is refused and is in the
// audit trail as the refused $accounting of that patient, as through the
// FHIR operation.
func TestRefusedAccountingAudited(t *testing.T) {
	e := newEnv(t)
	pid := e.submit(e.authorize(nil).ID, nil).Patient
	if pid == "" {
		t.Fatal("the request names no patient")
	}
	if rec := e.serve("GET", release.PathAccounting+"?patient="+pid, nil, access.RoleCoder); rec.Code != http.StatusForbidden {
		t.Errorf("the accounting page by a coder: %d", rec.Code)
	}
	es, err := e.st.FindAudit(e.sys, audit.Filter{Actor: "tester", Action: audit.ActionOperation, Patient: pid})
	if err != nil || len(es) != 1 || es[0].Query != "$accounting" || es[0].Outcome != custodian.EFORBIDDEN {
		t.Errorf("the refused accounting in the trail: %v, %+v", err, es)
	}
}
