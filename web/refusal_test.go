package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/coding"
	"github.com/custodian-him/custodian/mpi/identity"
	"github.com/custodian-him/custodian/registry"
	"github.com/custodian-him/custodian/roi"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/web"
	"github.com/custodian-him/custodian/web/codes"
	"github.com/custodian-him/custodian/web/duplicates"
	"github.com/custodian-him/custodian/web/encoder"
	"github.com/custodian-him/custodian/web/feeds"
	"github.com/custodian-him/custodian/web/outcomes"
	"github.com/custodian-him/custodian/web/release"
	"github.com/custodian-him/custodian/web/review"
)

// TestRefusedPagesAreAudited: a user whose role does not give them a
// page — every module's pages and the workbench's own, GET or POST — is
// refused with 403, and the refusal leaves exactly one entry in the audit
// trail naming the user and what was refused: the page (a refused
// operation whose query is the method and path) or, for a POST that takes
// a workflow step or writes a coding Claim, that step or write, as the
// store records it. Nothing is read before the refusal: the modules are
// built over no code sets, no chart reviewer and no measures' record,
// which a page that went on would need. The trail still verifies.
func TestRefusedPagesAreAudited(t *testing.T) {
	db, st := sqldbtest.OpenStore(t)
	st.AuditLog = db
	st.Guard = access.Guard{} // as the server has it
	defs, err := registry.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	h := &web.Handler{Records: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h.Modules = []web.Module{
		codes.Module(nil, nil, h),
		duplicates.Module(&identity.Service{Store: st}, h),
		encoder.Module(h, &coding.Queue{Store: st}, nil, nil),
		feeds.Module(feeds.Feed{Store: st}, h),
		outcomes.Module(outcomes.Config{Web: h, Registry: &registry.Service{Store: st, Definitions: defs}, Patients: st}),
		release.Module(&roi.Service{Store: st}, h),
		review.Module(nil, h),
	}
	page := func(p string) string { return "page GET " + p }
	for i, c := range []struct {
		method, path, role string
		// action and query of the entry; resources it names
		action, query string
		resources     []string
	}{
		{"GET", codes.PathSearch, access.RoleAuditor, audit.ActionOperation, page(codes.PathSearch), nil},
		{"GET", codes.PathSearch + "icd10cm/E11.9", access.RoleROISpecialist, audit.ActionOperation, page(codes.PathSearch + "icd10cm/E11.9"), nil},
		{"GET", codes.PathDRG, access.RoleRegistrar, audit.ActionOperation, page(codes.PathDRG), nil},
		// A long path is named by its first 512 bytes.
		{"GET", codes.PathSearch + strings.Repeat("x", 600), access.RoleAuditor, audit.ActionOperation, page((codes.PathSearch + strings.Repeat("x", 600))[:512] + "…"), nil},
		{"POST", codes.PathDRG, access.RoleRegistrar, audit.ActionOperation, "page POST " + codes.PathDRG, nil},
		{"GET", duplicates.PathQueue, access.RoleCoder, audit.ActionOperation, page(duplicates.PathQueue), nil},
		{"GET", duplicates.PathPair + "t1", access.RoleCoder, audit.ActionOperation, page(duplicates.PathPair + "t1"), nil},
		{"GET", duplicates.PathHistory, access.RoleRecordAnalyst, audit.ActionOperation, page(duplicates.PathHistory), nil},
		{"POST", duplicates.PathPair + "t1/merge", access.RoleCoder, audit.ActionDecide, access.WorkflowPatientLink, []string{"Task/t1"}},
		{"GET", encoder.PathDNFB, access.RoleRegistrar, audit.ActionOperation, page(encoder.PathDNFB), nil},
		{"GET", encoder.PathEncounter + "e1", access.RoleRecordAnalyst, audit.ActionOperation, page(encoder.PathEncounter + "e1"), nil},
		{"POST", encoder.PathEncounter + "e1", access.RoleRecordAnalyst, audit.ActionUpdate, "", []string{"Claim/" + coding.ClaimID("e1")}},
		{"GET", feeds.Path, access.RoleCoder, audit.ActionOperation, page(feeds.Path), nil},
		{"POST", feeds.Path + "replay", access.RoleAdministrator, audit.ActionDecide, access.WorkflowFeed, []string{"Basic"}},
		{"GET", outcomes.PathMeasures, access.RoleCoder, audit.ActionOperation, page(outcomes.PathMeasures), nil},
		{"GET", outcomes.PathMeasures + "readmission-30day", access.RoleCoder, audit.ActionOperation, page(outcomes.PathMeasures + "readmission-30day"), nil},
		{"GET", outcomes.PathMeasures + "readmission-30day/cases", access.RoleClinician, audit.ActionOperation, page(outcomes.PathMeasures + "readmission-30day/cases"), nil},
		{"GET", outcomes.PathRegistries, access.RoleCoder, audit.ActionOperation, page(outcomes.PathRegistries), nil},
		{"GET", outcomes.PathRegistries + "diabetes", access.RoleCoder, audit.ActionOperation, page(outcomes.PathRegistries + "diabetes"), nil},
		{"GET", outcomes.PathRegistries + "diabetes/cases/p1", access.RoleCoder, audit.ActionOperation, page(outcomes.PathRegistries + "diabetes/cases/p1"), []string{"Patient/p1"}},
		{"GET", outcomes.PathRegistries + "diabetes/export.csv", access.RoleCoder, audit.ActionOperation, page(outcomes.PathRegistries + "diabetes/export.csv"), nil},
		{"GET", outcomes.PathRegistries + "diabetes/export.json", access.RoleCoder, audit.ActionOperation, page(outcomes.PathRegistries + "diabetes/export.json"), nil},
		{"POST", outcomes.PathRegistries + "diabetes/decide", access.RoleCoder, audit.ActionDecide, access.WorkflowRegistryCase, []string{"Task/" + registry.TaskID("diabetes", "p1")}},
		{"GET", release.PathQueue, access.RoleCoder, audit.ActionOperation, page(release.PathQueue), nil},
		{"GET", release.PathNew, access.RoleCoder, audit.ActionOperation, page(release.PathNew), nil},
		{"GET", release.PathAuthorize, access.RoleCoder, audit.ActionOperation, page(release.PathAuthorize), nil},
		{"GET", "/roi/requests/t1", access.RoleCoder, audit.ActionOperation, page("/roi/requests/t1"), nil},
		{"GET", release.PathAccounting, access.RoleCoder, audit.ActionOperation, page(release.PathAccounting), nil},
		{"POST", release.PathNew, access.RoleCoder, audit.ActionDecide, access.WorkflowRelease, []string{"Task"}},
		{"GET", review.PathQueue, access.RoleCoder, audit.ActionOperation, page(review.PathQueue), nil},
		{"GET", review.PathClinician, access.RoleCoder, audit.ActionOperation, page(review.PathClinician), nil},
		{"GET", review.PathReport, access.RoleClinician, audit.ActionOperation, page(review.PathReport), nil},
		{"GET", "/dashboard", access.RoleCoder, audit.ActionOperation, page("/dashboard"), nil},
		{"GET", "/patients", access.RoleAuditor, audit.ActionOperation, page("/patients"), nil},
	} {
		user := "u" + strconv.Itoa(i)
		var body io.Reader
		if c.method == "POST" {
			body = strings.NewReader(url.Values{"patient": {"p1"}, "action": {"accept"}}.Encode())
		}
		r := httptest.NewRequest(c.method, c.path+"?q=Jane+Doe", body)
		if body != nil {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		r = r.WithContext(custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: user, Kind: access.KindUser, Roles: []string{c.role}}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusForbidden {
			t.Errorf("%s %s as %s: %d, want 403", c.method, c.path, c.role, w.Code)
		}
		es, err := st.FindAudit(sysCtx(), audit.Filter{Actor: user})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 {
			t.Errorf("%s %s as %s: %d audit entries, want 1", c.method, c.path, c.role, len(es))
			continue
		}
		e := es[0]
		if e.Action != c.action || e.Query != c.query || e.Outcome != custodian.EFORBIDDEN || !slices.Equal(e.Resources, c.resources) || !slices.Equal(e.Roles, []string{c.role}) {
			t.Errorf("%s %s as %s: entry %s %q %s %v %v, want %s %q %s %v", c.method, c.path, c.role,
				e.Action, e.Query, e.Outcome, e.Resources, e.Roles, c.action, c.query, custodian.EFORBIDDEN, c.resources)
		}
		if slices.Equal(c.resources, []string{"Patient/p1"}) && !slices.Equal(e.Patients, []string{"p1"}) {
			t.Errorf("%s %s: the entry names patients %v, want [p1]", c.method, c.path, e.Patients)
		}
	}
	// A page the role does give leaves no refusal.
	r := httptest.NewRequest("GET", feeds.Path, nil)
	r = r.WithContext(custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "dana", Kind: access.KindUser, Roles: []string{access.RoleHIMDirector}}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("the feeds page as the HIM director: %d", w.Code)
	}
	if es, err := st.FindAudit(sysCtx(), audit.Filter{Actor: "dana", Failed: true}); err != nil || len(es) != 0 {
		t.Errorf("an allowed page: %d refusals, %v", len(es), err)
	}
	res, err := audit.Verify(context.Background(), db)
	if err != nil || !res.OK {
		t.Fatalf("audit verify: %+v, %v", res, err)
	}
}

func sysCtx() context.Context {
	return custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
}
