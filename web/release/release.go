// Package release is the workbench's release-of-information pages over
// package roi: the request queue (the ROI specialist's landing page), the
// new request and authorization forms, a request's detail with its
// actions (review with the minimum-necessary selection, extend, deny,
// cancel, release, regenerate and compare) and a patient's accounting of
// disclosures.
//
// Every page acts through roi.Service as the signed-in user, so the
// store's role table and audit trail apply exactly as they do to the
// FHIR operations. Patients are found with a POSTed search and named in
// URLs only by their resource id; every change is a POST carrying the
// session's CSRF token (package httpauth refuses one without it).
package release

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/httpauth"
	"github.com/custodian-him/custodian/roi"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/web"
)

// Paths of the pages.
const (
	PathQueue      = "/roi/queue"
	PathNew        = "/roi/new"
	PathAuthorize  = "/roi/authorizations/new"
	PathAccounting = "/roi/accounting"
	pathRequests   = "/roi/requests/"
)

// Who may use which page: the release queue and its actions are the
// roles that take the steps of the release-of-information workflow
// (roi.Service.Releasers, from the store's Guard: by default the ROI
// specialist and the HIM director); the accounting of disclosures is
// theirs and the privacy officer's (roi.Service.AccountingRoles).
func pageRoles(svc *roi.Service) (work, accounting []string) {
	return svc.Releasers(), svc.AccountingRoles()
}

// maxForm bounds a form's body.
const maxForm = 64 << 10

// Module returns the release-of-information pages for the workbench wb,
// acting through svc: the queue (the ROI specialist's landing page), new
// requests and authorizations, the request detail with its actions, the
// accounting of disclosures, and a dashboard card with the open and
// overdue requests. The pages use wb.Now as their clock when it is set.
func Module(svc *roi.Service, wb *web.Handler) web.Module {
	workRoles, accountingRoles := pageRoles(svc)
	p := &pages{svc: svc, wb: wb, workRoles: workRoles}
	m := http.NewServeMux()
	m.Handle("GET /roi/{$}", http.RedirectHandler(PathQueue, http.StatusSeeOther))
	m.HandleFunc("GET "+PathQueue, p.fn(workRoles, p.queue))
	m.HandleFunc("GET "+PathNew, p.fn(workRoles, p.newRequest))
	m.HandleFunc("POST "+PathNew, p.step(func(*http.Request) string { return "Task" }, p.newRequest))
	m.HandleFunc("GET "+PathAuthorize, p.fn(workRoles, p.newAuthorization))
	m.HandleFunc("POST "+PathAuthorize, p.step(func(*http.Request) string { return "Consent" }, p.newAuthorization))
	m.HandleFunc("POST /roi/authorizations/{id}/revoke", p.step(func(r *http.Request) string { return "Consent/" + r.PathValue("id") }, p.revoke))
	m.HandleFunc("GET "+pathRequests+"{id}", p.fn(workRoles, p.detail))
	m.HandleFunc("POST "+pathRequests+"{id}/{action}", p.step(func(r *http.Request) string { return "Task/" + r.PathValue("id") }, p.act))
	m.HandleFunc("GET "+PathAccounting, p.accountingOf(p.fn(accountingRoles, p.accounting)))
	m.HandleFunc("POST "+PathAccounting, p.fn(accountingRoles, p.accounting))
	m.HandleFunc("/roi/", p.fn(accountingRoles, func(w http.ResponseWriter, r *http.Request) error {
		return custodian.Errorf(custodian.ENOTFOUND, "There is no such page.")
	}))
	// The queue is the ROI specialist's landing page, and an entry for
	// the other roles that work it.
	var nav []web.NavItem
	if slices.Contains(workRoles, access.RoleROISpecialist) {
		nav = append(nav, web.NavItem{Label: "Release of information", Path: PathQueue, Roles: []string{access.RoleROISpecialist}, Landing: true})
	}
	if others := slices.DeleteFunc(slices.Clone(workRoles), func(r string) bool { return r == access.RoleROISpecialist }); len(others) > 0 {
		nav = append(nav, web.NavItem{Label: "Release of information", Path: PathQueue, Roles: others})
	}
	nav = append(nav, web.NavItem{Label: "Accounting of disclosures", Path: PathAccounting, Roles: accountingRoles})
	return web.Module{
		Nav:     nav,
		Prefix:  "/roi/",
		Handler: m,
		Cards:   p.cards,
	}
}

type pages struct {
	svc *roi.Service
	wb  *web.Handler
	// workRoles work the queue and its requests (pageRoles).
	workRoles []string
}

func (p *pages) now() time.Time {
	if p.wb.Now != nil {
		return p.wb.Now().UTC()
	}
	return time.Now().UTC()
}

// fn checks the actor holds one of roles, then runs f, rendering its
// error in the workbench's frame. With step, the store is first asked
// whether the actor takes the steps of the release workflow on step(r),
// which audits a refusal.
func (p *pages) fn(roles []string, f func(http.ResponseWriter, *http.Request) error, step ...func(*http.Request) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var err error
		for _, item := range step {
			if err == nil && custodian.ActorFromContext(r.Context()) != nil {
				err = p.svc.Store.MayDecide(r.Context(), access.WorkflowRelease, item(r))
			}
		}
		if err == nil {
			err = p.wb.RequireRole(r, roles)
		}
		if err == nil {
			err = f(w, r)
		}
		if err != nil {
			p.wb.Error(w, r, err)
		}
	}
}

// step is fn for a POST that takes a step of the release-of-information
// workflow on the item named by item(r) ("Type/id", or "Type" for a new
// one): the store's Guard is asked first, so a refusal is in the audit
// trail as a refused write through the FHIR API is, then the page's roles.
func (p *pages) step(item func(*http.Request) string, f func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return p.fn(p.workRoles, f, item)
}

//go:embed template/*.html
var templateFiles embed.FS

var tmpl = template.Must(template.New("release").Funcs(template.FuncMap{
	"day": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.DateOnly)
	},
	"purpose": func(code string) string {
		if s := roi.Purposes[code]; s != "" {
			return s
		}
		return code
	},
	"rtype": func(t string) string {
		if s := roi.RecordTypes[t]; s != "" {
			return s
		}
		return t
	},
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			k, _ := kv[i].(string)
			m[k] = kv[i+1]
		}
		return m
	},
	"has":   func(l []string, s string) bool { return slices.Contains(l, s) },
	"join":  strings.Join,
	"short": func(h string) string { return h[:min(len(h), 16)] },
}).ParseFS(templateFiles, "template/*.html"))

// render executes the template name into the workbench's frame with the
// request's CSRF field, with status (200 unless an error is shown).
func (p *pages) render(w http.ResponseWriter, r *http.Request, status int, title, section, name string, data any) error {
	var b bytes.Buffer
	v := struct {
		CSRF template.HTML
		D    any
	}{httpauth.CSRFField(r), data}
	if err := tmpl.ExecuteTemplate(&b, name, v); err != nil {
		return custodian.Errorf(custodian.EINTERNAL, "release page %s: %v", name, err)
	}
	p.wb.PageStatus(w, r, status, title, section, template.HTML(b.String()))
	return nil
}

// statusOf is the HTTP status of an error shown in a page.
func statusOf(err error) int {
	switch custodian.ErrorCode(err) {
	case custodian.EINVALID:
		return http.StatusBadRequest
	case custodian.EFORBIDDEN:
		return http.StatusForbidden
	case custodian.ENOTFOUND:
		return http.StatusNotFound
	case custodian.ECONFLICT:
		return http.StatusConflict
	case custodian.EPRECONDITION:
		return http.StatusPreconditionFailed
	}
	return http.StatusInternalServerError
}

// shown reports whether err is one a page shows beside its form (the
// user can act on it) rather than the error page.
func shown(err error) bool {
	switch custodian.ErrorCode(err) {
	case custodian.EINVALID, custodian.EFORBIDDEN, custodian.ECONFLICT, custodian.EPRECONDITION:
		return true
	}
	return false
}

func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return custodian.Errorf(custodian.EINVALID, "The form could not be read.")
	}
	return nil
}

// dateField reads an optional YYYY-MM-DD field.
func dateField(v url.Values, name, label string) (time.Time, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, custodian.Errorf(custodian.EINVALID, "Write the %s as YYYY-MM-DD.", label)
	}
	return t, nil
}

// option is one choice of a list.
type option struct{ Value, Label string }

func recordTypeOptions() []option {
	out := make([]option, 0, len(roi.RecordTypes))
	for t, l := range roi.RecordTypes {
		out = append(out, option{t, l})
	}
	slices.SortFunc(out, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	return out
}

func purposeOptions() []option {
	out := make([]option, 0, len(roi.Purposes))
	for c, l := range roi.Purposes {
		out = append(out, option{c, l})
	}
	slices.SortFunc(out, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	return out
}

func (p *pages) categories() []roi.Category {
	if p.svc.Categories != nil {
		return p.svc.Categories
	}
	return roi.DefaultCategories()
}

func (p *pages) categoryOptions() []option {
	var out []option
	for _, c := range p.categories() {
		out = append(out, option{c.Code, c.Name + " (" + c.Regulation + ")"})
	}
	return out
}

func (p *pages) category(code string) *roi.Category {
	cats := p.categories()
	for i := range cats {
		if cats[i].Code == code {
			return &cats[i]
		}
	}
	return nil
}

// patient is a patient as the pages show them.
type patient struct {
	ID, Name, BirthDate, Gender, MRN string
}

// readPatient reads patient id through the store as the signed-in user.
func (p *pages) readPatient(ctx context.Context, id string) (*patient, error) {
	if !store.ValidID(id) {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "There is no such patient.")
	}
	res, err := p.svc.Store.Read(ctx, "Patient", id)
	if err != nil {
		return nil, err
	}
	return patientOf(res)
}

func patientOf(res *store.Resource) (*patient, error) {
	m, err := store.Decode(res.Body)
	if err != nil {
		return nil, err
	}
	pt := &patient{ID: res.ID, Name: personName(m), BirthDate: str(m, "birthDate"), Gender: str(m, "gender")}
	ids, _ := m["identifier"].([]any)
	for _, x := range ids {
		id, _ := x.(map[string]any)
		typ, _ := id["type"].(map[string]any)
		codings, _ := typ["coding"].([]any)
		for _, c := range codings {
			if cm, _ := c.(map[string]any); str(cm, "code") == "MR" {
				pt.MRN = str(id, "value")
			}
		}
	}
	return pt, nil
}

// names returns the names of patients ids, searched for by _id as the
// signed-in user ("" for one the user may not see).
func (p *pages) names(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	// A request written through the FHIR API may name no patient (or
	// one that is no id); it must not keep the others' names from the
	// queue.
	ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return !store.ValidID(id) })
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for len(ids) > 0 {
		n := min(len(ids), 100)
		q, err := p.svc.Store.ParseQueryString("Patient", "_id="+strings.Join(ids[:n], ",")+"&_count="+strconv.Itoa(n))
		if err != nil {
			return nil, err
		}
		page, err := p.svc.Store.Search(ctx, q)
		if custodian.ErrorCode(err) == custodian.EFORBIDDEN {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		for _, res := range page.Resources {
			if pt, err := patientOf(res); err == nil {
				out[res.ID] = pt.Name
			}
		}
		ids = ids[n:]
	}
	return out, nil
}

// personName is a Patient's name as a list shows it.
func personName(body map[string]any) string {
	names, _ := body["name"].([]any)
	for _, n := range names {
		m, _ := n.(map[string]any)
		if t := str(m, "text"); t != "" {
			return t
		}
		var parts []string
		for _, k := range []string{"prefix", "given"} {
			gs, _ := m[k].([]any)
			for _, g := range gs {
				if s, _ := g.(string); s != "" {
					parts = append(parts, s)
				}
			}
		}
		if f := str(m, "family"); f != "" {
			parts = append(parts, f)
		}
		if len(parts) > 0 {
			return strings.Join(parts, " ")
		}
	}
	return "(no name)"
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}
