package access_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/mpi/identity"
	"github.com/custodian-him/custodian/registry"
	"github.com/custodian-him/custodian/roi"
	"github.com/custodian-him/custodian/web"
	"github.com/custodian-him/custodian/web/duplicates"
	"github.com/custodian-him/custodian/web/release"
)

// siteWorkflows is a site's table: registry cases decided by the record
// analyst and the HIM director (not the registrar), release of
// information worked by the privacy officer and the HIM director (not the
// ROI specialist), duplicates reviewed by the record analyst too.
func siteWorkflows() []access.Workflow {
	ws := access.DefaultWorkflows()
	for i := range ws {
		switch ws[i].Name {
		case access.WorkflowRegistryCase, access.WorkflowDuplicate:
			ws[i].Deciders = []string{access.RoleRecordAnalyst, access.RoleHIMDirector}
		case access.WorkflowRelease:
			ws[i].Deciders = []string{access.RolePrivacyOfficer, access.RoleHIMDirector}
		}
	}
	return ws
}

// TestWorkflowTableIsTheOnePlace changes who takes three workflows'
// steps in the store's Guard alone, then checks that the FHIR API, the
// registry and release-of-information services and the workbench's
// release and duplicate pages all follow it: the roles added may, the
// roles removed may not.
func TestWorkflowTableIsTheOnePlace(t *testing.T) {
	a := openAPI(t)
	a.st.Guard = access.Guard{Workflows: siteWorkflows()}
	a.requireWriteGuard()
	a.seed("Patient", "p1", patient)

	// The FHIR API.
	for _, c := range []struct {
		role, body string
		want       int
	}{
		{access.RoleRecordAnalyst, regAccepted, http.StatusCreated},
		{access.RoleRegistrar, regAccepted, http.StatusForbidden},
		{access.RolePrivacyOfficer, roiOpen, http.StatusCreated},
		{access.RoleROISpecialist, roiOpen, http.StatusForbidden},
	} {
		if code, out := a.do("POST", "Task", "u-"+c.role, c.role, []byte(c.body)); code != c.want {
			t.Errorf("API: POST Task by %s: %d %v, want %d", c.role, code, out, c.want)
		}
	}

	// The services.
	defs, err := registry.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	reg := &registry.Service{Store: a.st, Definitions: defs}
	if got, want := reg.DecideRoles(), []string{access.RoleRecordAnalyst, access.RoleHIMDirector}; !slices.Equal(got, want) {
		t.Errorf("registry DecideRoles = %v, want %v", got, want)
	}
	for _, c := range []struct {
		role string
		want string
	}{{access.RoleRecordAnalyst, ""}, {access.RoleRegistrar, custodian.EFORBIDDEN}} {
		pid := "p-" + c.role
		a.seed("Patient", pid, patient)
		a.seed("Task", registry.TaskID("diabetes", pid), `{"resourceType":"Task","status":"requested","intent":"order",
			"businessStatus":{"text":"candidate"},"instantiatesUri":"`+registry.CanonicalBase+`diabetes",
			"code":{"coding":[{"system":"`+registry.CanonicalBase+`CodeSystem/task","code":"registry-case"}]},
			"for":{"reference":"Patient/`+pid+`"},"authoredOn":"2025-01-01T00:00:00Z"}`)
		if _, err := reg.Decide(userCtx("u-"+c.role, c.role), "diabetes", pid, true, "", nil); custodian.ErrorCode(err) != c.want && (c.want != "" || err != nil) {
			t.Errorf("registry: decide by %s: %v, want %q", c.role, err, c.want)
		}
	}
	svc := &roi.Service{Store: a.st}
	if got, want := svc.Releasers(), []string{access.RolePrivacyOfficer, access.RoleHIMDirector}; !slices.Equal(got, want) {
		t.Errorf("roi Releasers = %v, want %v", got, want)
	}
	submit := func(role string) (*roi.Request, error) {
		return svc.Submit(userCtx("u-"+role, role), &roi.Request{RequesterKind: roi.Patient, RequesterName: "Pat Doe", Patient: "p1",
			Purpose: "HOPERAT", Basis: roi.BasisIndividual, IdentityVerified: "driving licence", Received: time.Now(), Types: []string{"Condition"}})
	}
	req, err := submit(access.RolePrivacyOfficer)
	if err != nil {
		t.Fatalf("roi: submit by the privacy officer: %v", err)
	}
	if _, err := submit(access.RoleROISpecialist); custodian.ErrorCode(err) != custodian.EFORBIDDEN {
		t.Errorf("roi: submit by the ROI specialist: %v, want EFORBIDDEN", err)
	}
	if _, _, err := svc.Release(userCtx("u-roi", access.RoleROISpecialist), req.ID, roi.Delivery{Method: "mail"}); custodian.ErrorCode(err) != custodian.EFORBIDDEN {
		t.Errorf("roi: release by the ROI specialist: %v, want EFORBIDDEN", err)
	}
	// The service's refusal is in the trail like the store's.
	if es, err := a.st.FindAudit(sysCtx, audit.Filter{Actor: "u-roi", Outcome: custodian.EFORBIDDEN}); err != nil || len(es) != 1 || !slices.Equal(es[0].Resources, []string{"Task/" + req.ID}) {
		t.Errorf("the refused release in the trail: %v, %d entries", err, len(es))
	}

	// The workbench pages.
	wb := &web.Handler{Records: a.st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	wb.Modules = append(wb.Modules, release.Module(svc, wb), duplicates.Module(&identity.Service{Store: a.st}, wb))
	page := func(path, role string) int {
		t.Helper()
		r := httptest.NewRequest("GET", path, nil)
		r = r.WithContext(userCtx("u-"+role, role))
		w := httptest.NewRecorder()
		wb.ServeHTTP(w, r)
		if w.Code >= 400 && w.Code != http.StatusForbidden {
			t.Logf("%s as %s: %s", path, role, w.Body.String())
		}
		return w.Code
	}
	for _, c := range []struct {
		path, role string
		want       int
	}{
		{release.PathQueue, access.RolePrivacyOfficer, http.StatusOK},
		{release.PathQueue, access.RoleHIMDirector, http.StatusOK},
		{release.PathQueue, access.RoleROISpecialist, http.StatusForbidden},
		{release.PathAccounting, access.RoleROISpecialist, http.StatusForbidden},
		{release.PathAccounting, access.RolePrivacyOfficer, http.StatusOK},
		{duplicates.PathQueue, access.RoleRecordAnalyst, http.StatusOK},
		{duplicates.PathQueue, access.RoleHIMDirector, http.StatusOK},
		{duplicates.PathQueue, access.RoleCoder, http.StatusForbidden},
		{duplicates.PathHistory, access.RoleRecordAnalyst, http.StatusForbidden}, // merging is patient-link's, unchanged
	} {
		if got := page(c.path, c.role); got != c.want {
			t.Errorf("page %s as %s: %d, want %d", c.path, c.role, got, c.want)
		}
	}
	// The navigation offers the pages to the same roles.
	for _, m := range wb.Modules {
		for _, n := range m.Nav {
			var want []string
			switch n.Path {
			case release.PathQueue:
				want = []string{access.RolePrivacyOfficer, access.RoleHIMDirector}
			case duplicates.PathQueue:
				want = []string{access.RoleRecordAnalyst, access.RoleHIMDirector}
			default:
				continue
			}
			if slices.ContainsFunc(n.Roles, func(r string) bool { return !slices.Contains(want, r) }) {
				t.Errorf("nav %s offered to %v, want only %v", n.Label, n.Roles, want)
			}
		}
	}
}
