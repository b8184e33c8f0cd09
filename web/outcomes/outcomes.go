// Package outcomes is the workbench's outcomes pages: the quality and
// outcome measures (each measure's current rate, its trend by month, its
// strata by age band, sex, service and attending, and the patients behind
// its numerator and denominator) and the clinical registries (case counts
// and incidence by month, the candidates a reviewer accepts or rejects,
// the overdue follow-up list and the exports), with headline cards for
// the director's dashboard.
//
// Measures are evaluated by package measure over its in-memory Record;
// registries are kept by package registry, whose decisions are Tasks
// written through the store as the signed-in user. Periods are chosen
// with dates in the URL (they carry no patient data); patients are named
// in the pages only and linked by resource id.
package outcomes

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/registry"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/web"
)

// Paths of the pages.
const (
	Prefix         = "/outcomes/"
	PathMeasures   = "/outcomes/measures/"
	PathRegistries = "/outcomes/registries/"
)

// Patients is what the pages need of the record store to name the
// patients in a list: *store.Store implements it, authorizing and
// auditing each read with the actor of ctx.
type Patients interface {
	Read(ctx context.Context, typ, id string) (*store.Resource, error)
	Search(ctx context.Context, q *store.Query) (*store.SearchPage, error)
}

// Config is what the outcomes pages are built over.
type Config struct {
	// Web is the workbench the pages render in.
	Web *web.Handler
	// Record is the measures' projection of the record, loaded and kept
	// current by its watcher.
	Record *measure.Record
	// Measures are the measures offered (measure.Builtins() if nil).
	Measures []*measure.Definition
	// Cache keeps evaluated results between views (one over Record,
	// kept for a minute after the record changes, if nil); share it with
	// $evaluate-measure.
	Cache *measure.Cache
	// Expected gives expected lengths of stay (observed/expected) when
	// DRG weights are loaded; optional.
	Expected measure.Expected
	// Registry keeps the registries; nil leaves the registry pages out.
	Registry *registry.Service
	// Patients names the patients of the lists.
	Patients Patients
	// SeesSensitive tells whether the actor of ctx may see sensitive
	// records (access.Guard{}.SeesSensitive of the actor by default);
	// patients with such records are left out of the lists of those who
	// may not (the counts keep them).
	SeesSensitive func(ctx context.Context) bool
	// Now is the clock (time.Now if nil): the default period ends on its
	// day, and follow-ups are overdue against it.
	Now func() time.Time
	// Allowed is the role table (access.Allowed if nil).
	Allowed func(actor *custodian.Actor, typ, interaction string) error
	// MeasureRoles and RegistryRoles are the roles offered the measure
	// and registry pages (the HIM director and the registrar if nil).
	// Every page also checks the role table itself: reading needs
	// Patient, Encounter and Condition searches, so offering a role here
	// alone does not let it in.
	MeasureRoles, RegistryRoles []string
	// DecideRoles are the roles offered accepting and rejecting cases and
	// recording follow-ups on the registry pages (if nil, the registry
	// service's DecideRoles: the registry-case workflow of the store's
	// Guard, by default the registrar and the HIM director); they also
	// need Task update in the role table.
	DecideRoles []string
	// CardMeasures are the measures whose rates the dashboard cards show
	// (30-day readmission, in-hospital mortality and length of stay if nil).
	CardMeasures []string
}

// Module returns the outcomes pages and dashboard cards for c.
func Module(c Config) web.Module {
	p := &pages{Config: c}
	if p.Measures == nil {
		p.Measures = measure.Builtins()
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Cache == nil {
		p.Cache = &measure.Cache{Record: p.Record}
	}
	if p.Allowed == nil {
		p.Allowed = access.Allowed
	}
	if p.MeasureRoles == nil {
		p.MeasureRoles = []string{access.RoleHIMDirector, access.RoleRegistrar}
	}
	if p.RegistryRoles == nil {
		p.RegistryRoles = []string{access.RoleHIMDirector, access.RoleRegistrar}
	}
	if p.DecideRoles == nil {
		p.DecideRoles = registry.DefaultDeciders
		if c.Registry != nil {
			p.DecideRoles = c.Registry.DecideRoles()
		}
	}
	if p.CardMeasures == nil {
		p.CardMeasures = []string{"readmission-30day", "mortality-inpatient", "length-of-stay"}
	}
	if p.SeesSensitive == nil {
		p.SeesSensitive = func(ctx context.Context) bool {
			return access.Guard{}.SeesSensitive(custodian.ActorFromContext(ctx))
		}
	}
	m := http.NewServeMux()
	m.HandleFunc("GET "+PathMeasures+"{$}", p.fn(p.measureList))
	m.HandleFunc("GET "+PathMeasures+"{id}", p.fn(p.measurePage))
	m.HandleFunc("GET "+PathMeasures+"{id}/cases", p.fn(p.casesPage))
	nav := []web.NavItem{{Label: "Measures", Path: PathMeasures, Roles: p.MeasureRoles}}
	if c.Registry != nil {
		m.HandleFunc("GET "+PathRegistries+"{$}", p.fn(p.registryList))
		m.HandleFunc("GET "+PathRegistries+"{id}", p.fn(p.registryPage))
		m.HandleFunc("GET "+PathRegistries+"{id}/cases/{patient}", p.fn(p.abstractPage))
		m.HandleFunc("POST "+PathRegistries+"{id}/decide", p.fn(p.decide))
		m.HandleFunc("GET "+PathRegistries+"{id}/export.csv", p.fn(p.exportCSV))
		m.HandleFunc("GET "+PathRegistries+"{id}/export.json", p.fn(p.exportFHIR))
		nav = append(nav, web.NavItem{Label: "Registries", Path: PathRegistries, Roles: p.RegistryRoles})
	}
	m.HandleFunc(Prefix, p.fn(func(http.ResponseWriter, *http.Request) error {
		return custodian.Errorf(custodian.ENOTFOUND, "There is no such page.")
	}))
	return web.Module{Nav: nav, Prefix: Prefix, Handler: m, Cards: p.cards}
}

type pages struct {
	Config
}

func (p *pages) fn(f func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			p.Web.Error(w, r, err)
		}
	}
}

// measureRead is what the measure pages need of the policy: the
// measures count patients, their stays and their diagnoses.
var measureRead = []string{"Patient:search", "Encounter:search", "Condition:search"}

// patientRef names the patient a page is about for the audit trail: the
// reference to Patient/id, or none if id is not an id.
func patientRef(id string) []string {
	if !store.ValidID(id) {
		return nil
	}
	return []string{"Patient/" + id}
}

// gate refuses the page r asks for unless its actor may see it (may),
// recording a refusal in the audit trail (web.Handler.Refuse) naming
// resources, if any.
func (p *pages) gate(r *http.Request, roles, needs []string, resources ...string) error {
	err := p.may(r.Context(), roles, needs...)
	if custodian.ErrorCode(err) == custodian.EFORBIDDEN {
		return p.Web.Refuse(r, err, resources...)
	}
	return err
}

// may refuses the page unless the actor has one of roles and the policy
// lets it perform each interaction ("Type:interaction"). It records
// nothing: the dashboard cards and the offers on a page ask it too; a
// page asks gate.
func (p *pages) may(ctx context.Context, roles []string, needs ...string) error {
	a := custodian.ActorFromContext(ctx)
	if a == nil {
		return custodian.Errorf(custodian.EUNAUTHORIZED, "Sign in first.")
	}
	if !access.HasRole(a, roles) {
		return custodian.Errorf(custodian.EFORBIDDEN, "Your role does not give you this page.")
	}
	for _, n := range needs {
		typ, in, _ := strings.Cut(n, ":")
		if p.Allowed(a, typ, in) != nil {
			return custodian.Errorf(custodian.EFORBIDDEN, "Your role does not give you this page.")
		}
	}
	return nil
}

//go:embed template/*.html
var templateFiles embed.FS

var tmpl = template.Must(template.New("outcomes").Funcs(template.FuncMap{
	"pct":     pct,
	"f1":      func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"join":    strings.Join,
	"popname": popName,
	"short":   shortName,
	"lower":   strings.ToLower,
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
}).ParseFS(templateFiles, "template/*.html"))

func (p *pages) render(w http.ResponseWriter, r *http.Request, title, section, name string, data any) error {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return custodian.Errorf(custodian.EINTERNAL, "outcomes page %s: %v", name, err)
	}
	p.Web.Page(w, r, title, section, template.HTML(b.String()))
	return nil
}

func pct(v float64) string { return fmt.Sprintf("%.1f%%", v*100) }

// popName is a population code as a reader says it.
func popName(code string) string {
	switch code {
	case measure.InitialPopulation:
		return "Initial population"
	case measure.Denominator:
		return "Denominator"
	case measure.DenominatorExclusion:
		return "Excluded"
	case measure.Numerator:
		return "Numerator"
	case measure.MeasurePopulation:
		return "Measure population"
	case measure.MeasurePopulationExclusion:
		return "Excluded"
	}
	return code
}
