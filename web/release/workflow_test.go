package release_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/custodian-him/custodian/access"
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
