package access

import (
	"reflect"
	"slices"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// Names of the workflows in DefaultWorkflows.
const (
	WorkflowRegistryCase = "registry-case"
	WorkflowRelease      = "release-of-information"
	WorkflowDuplicate    = "duplicate-review"
	WorkflowMergeRecord  = "merge-record"
	WorkflowDeficiency   = "chart-deficiency"
	WorkflowPatientLink  = "patient-link"
	WorkflowFeed         = "feed"
)

// The code systems and identifier systems that mark the work items of the
// HIM modules. They repeat the modules' own constants (registry, roi,
// mpi/identity, chart), which import this package; a test checks that
// they agree.
const (
	registryTaskSystem = "https://custodian.example/fhir/registry/CodeSystem/task"
	registryBase       = "https://custodian.example/fhir/registry/"
	roiTaskSystem      = "https://custodian-him.org/fhir/CodeSystem/him-task"
	roiStatusSystem    = "https://custodian-him.org/fhir/CodeSystem/roi-status"
	roiNumberSystem    = "https://custodian-him.org/fhir/sid/roi-request"
	mpiSystem          = "https://custodian.example/fhir/CodeSystem/mpi"
	mpiPairSystem      = "https://custodian.example/fhir/mpi-pair"
	chartKeySystem     = "https://custodian.example/fhir/chart-deficiency"
	chartRuleSystem    = "https://custodian.example/fhir/CodeSystem/chart-rule"
	chartKindSystem    = "https://custodian.example/fhir/CodeSystem/chart-deficiency-kind"
	feedSystem         = "urn:custodian:feed"
)

// A Mark is one way to recognise a workflow's item in a resource: a
// coding of a CodeableConcept element (code, businessStatus) in System,
// with one of Codes if any are listed; an identifier in System (Element
// "identifier"); or a uri element (instantiatesUri) starting with System.
type Mark struct {
	Element string
	System  string
	Codes   []string
}

// A Workflow is HIM work kept as FHIR resources whose steps belong to some
// roles only: a registry case is decided by a registrar, records are
// released by the release-of-information desk. The role table works per
// resource type, and many roles may write Tasks; the workflow table is
// what keeps a coder who may update Tasks from deciding a registry case by
// writing its Task through the FHIR API. Guard.AllowWrite applies it to
// every write the store makes for an actor other than Custodian itself,
// and the services and workbench pages ask the store (store.Store's
// MayDecide and Deciders, answered by Guard.MayDecide and Guard.Deciders)
// before they act, so every path holds the line of one table: the
// store's Guard's.
type Workflow struct {
	// Name names the workflow (WorkflowRegistryCase …).
	Name string
	// Type is the resource type of its items.
	Type string
	// Marks recognise an item; a write is a step of the workflow when the
	// version it replaces or the one it writes carries any of them (so an
	// item cannot be disguised, or a plain Task turned into one).
	Marks []Mark
	// Changes, when set, are elements whose change (including being set
	// on a new resource) makes a write of Type a step, marks or not.
	Changes []string
	// Deciders are the user roles that take its steps: create, change or
	// delete an item. None means that only Custodian itself (the system
	// actor: case finding, chart review, a merge) writes its items.
	Deciders []string
	// SystemOnly are business statuses (codes of Task.businessStatus, in
	// any system) only Custodian itself sets, for example a duplicate
	// candidate closed as merged by the merge that merged its pair.
	SystemOnly []string
	// Refusal is the sentence a refused actor is told.
	Refusal string
}

// DefaultWorkflows returns the workflows of Custodian's HIM modules, each
// with its default deciders:
//
//	workflow                 items                                          deciders
//	registry-case            registry case Tasks (registry)                 registrar, HIM director
//	release-of-information   release-of-information request Tasks (roi)     ROI specialist, HIM director
//	duplicate-review         duplicate candidate and overlay Tasks (mpi)    HIM director (closing as merged: a merge only)
//	merge-record             patient-merge and unmerge Tasks (mpi)          Custodian only (written by the merge)
//	chart-deficiency         chart deficiency Tasks (chart)                 Custodian only (written by chart review)
//	patient-link             Patient.link (merges)                          HIM director
//	feed                     HL7 v2 feed records: receipts, dead letters    HIM director (replays dead letters)
//	                         (Basic, ingest/mllp)
//
// The feed's records are Basic resources, which the role table lets every
// clinician write; a dead letter is replayed as Custodian itself (a merge
// message merges), so who may write one is who may replay it.
func DefaultWorkflows() []Workflow {
	return []Workflow{
		{Name: WorkflowRegistryCase, Type: "Task",
			Marks: []Mark{{Element: "code", System: registryTaskSystem},
				{Element: "instantiatesUri", System: registryBase}},
			Deciders: []string{RoleRegistrar, RoleHIMDirector},
			Refusal:  "Only a registrar or the HIM director decides registry cases."},
		{Name: WorkflowRelease, Type: "Task",
			Marks: []Mark{{Element: "code", System: roiTaskSystem, Codes: []string{"release-of-information"}},
				{Element: "businessStatus", System: roiStatusSystem},
				{Element: "identifier", System: roiNumberSystem}},
			Deciders: []string{RoleROISpecialist, RoleHIMDirector},
			Refusal:  "Only a release-of-information specialist or the HIM director works release requests and releases records."},
		{Name: WorkflowDuplicate, Type: "Task",
			Marks: []Mark{{Element: "code", System: mpiSystem, Codes: []string{"duplicate-candidate", "possible-overlay"}},
				{Element: "identifier", System: mpiPairSystem}},
			Deciders:   []string{RoleHIMDirector},
			SystemOnly: []string{"merged"},
			Refusal:    "Only the HIM director decides duplicate candidates, and only a merge closes one as merged."},
		{Name: WorkflowMergeRecord, Type: "Task",
			Marks:   []Mark{{Element: "code", System: mpiSystem, Codes: []string{"patient-merge", "patient-unmerge"}}},
			Refusal: "Merge records are written by the merge itself; merge or unmerge through the duplicate review."},
		{Name: WorkflowDeficiency, Type: "Task",
			Marks: []Mark{{Element: "identifier", System: chartKeySystem},
				{Element: "code", System: chartRuleSystem}, {Element: "businessStatus", System: chartKindSystem}},
			Refusal: "Chart deficiencies are raised and cleared by chart review from the record itself; complete the record instead."},
		{Name: WorkflowPatientLink, Type: "Patient",
			Changes:  []string{"link"},
			Deciders: []string{RoleHIMDirector},
			Refusal:  "Only the HIM director links or merges patient registrations."},
		{Name: WorkflowFeed, Type: "Basic",
			Marks:    []Mark{{Element: "code", System: feedSystem}},
			Deciders: []string{RoleHIMDirector},
			Refusal:  "Only the HIM director works the feeds' dead letters; the feeds write their own records."},
	}
}

// Workflow returns the workflow named name among g's (DefaultWorkflows
// when g has none); ok is false if there is none.
func (g Guard) Workflow(name string) (Workflow, bool) {
	for _, w := range g.workflows() {
		if w.Name == name {
			return w, true
		}
	}
	return Workflow{}, false
}

func (g Guard) workflows() []Workflow {
	if g.Workflows != nil {
		return g.Workflows
	}
	return defaultWorkflows
}

// defaultWorkflows is read only; DefaultWorkflows hands out copies.
var defaultWorkflows = DefaultWorkflows()

// DefaultDeciders returns the deciders of the default workflow name (nil
// for an unknown name or a workflow only Custodian writes).
func DefaultDeciders(name string) []string {
	w, _ := Guard{}.Workflow(name)
	return slices.Clone(w.Deciders)
}

// HasRole reports whether actor holds one of roles.
func HasRole(actor *custodian.Actor, roles []string) bool {
	return actor != nil && slices.ContainsFunc(actor.Roles, func(r string) bool { return slices.Contains(roles, r) })
}

// MayDecide returns nil if actor may take the steps of a workflow whose
// deciders are roles, and otherwise an error carrying refusal
// (EFORBIDDEN; EUNAUTHORIZED without an actor). The system actor may;
// a user must hold one of roles; an API client with user roles likewise,
// and one without (an integration client) is held to its scopes alone,
// which the role check (Allowed) applies — unless roles is empty: then
// only the system actor may.
func MayDecide(actor *custodian.Actor, roles []string, refusal string) error {
	if actor == nil {
		return custodian.Errorf(custodian.EUNAUTHORIZED, "Authentication is required.")
	}
	switch {
	case actor.Kind == KindSystem:
		return nil
	case len(roles) == 0:
	case actor.Kind == KindUser && HasRole(actor, roles):
		return nil
	case actor.Kind == KindClient:
		if r := userRoles(actor.Roles); len(r) == 0 || HasRole(&custodian.Actor{Roles: r}, roles) {
			return nil
		}
	}
	if refusal == "" {
		refusal = "Your role does not take this step of the workflow."
	}
	return custodian.Errorf(custodian.EFORBIDDEN, "%s", refusal)
}

// Deciders returns the deciders of g's workflow name (none: only Custodian
// itself takes its steps). EINTERNAL for a workflow g does not have.
// With MayDecide it implements store.WorkflowGuard: services and pages
// ask the store, so g's table is the one place that says who takes each
// step.
func (g Guard) Deciders(name string) ([]string, error) {
	w, ok := g.Workflow(name)
	if !ok {
		return nil, custodian.Errorf(custodian.EINTERNAL, "access: no workflow %q", name)
	}
	return slices.Clone(w.Deciders), nil
}

// MayDecide applies MayDecide with the deciders of g's workflow name.
// EINTERNAL for a workflow g does not have.
func (g Guard) MayDecide(actor *custodian.Actor, name string) error {
	w, ok := g.Workflow(name)
	if !ok {
		return custodian.Errorf(custodian.EINTERNAL, "access: no workflow %q", name)
	}
	return MayDecide(actor, w.Deciders, w.Refusal)
}

// Governs reports whether a write of typ by actor may be a workflow's
// step, so that the store reads and decodes what it replaces and writes
// for AllowWrite. It is false for the system actor.
func (g Guard) Governs(actor *custodian.Actor, typ string) bool {
	if actor == nil || actor.Kind == KindSystem {
		return false
	}
	for _, w := range g.workflows() {
		if w.Type == typ {
			return true
		}
	}
	return len(g.WriteRules(typ)) > 0
}

// WriteRules returns g's Rules for writes of typ. With Governs it lets
// the store hold every write by a user or client to them
// (store.RuleGuard).
func (g Guard) WriteRules(typ string) []store.WriteRule {
	var out []store.WriteRule
	for _, r := range g.Rules {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// AllowWrite returns nil if actor may replace old with new, resources of
// typ (old nil: a create; new nil: a delete), as far as the workflows are
// concerned, and otherwise an EFORBIDDEN error with the workflow's
// refusal. The role table is checked separately (Allow); this judges what
// is written: a write is a step of each workflow whose marks old or new
// carries (or whose Changes elements differ), and every such step must be
// the actor's to take. A business status in a workflow's SystemOnly may be
// newly set by the system actor only. Implements store.WriteGuard.
func (g Guard) AllowWrite(actor *custodian.Actor, typ string, old, new map[string]any) error {
	if actor != nil && actor.Kind == KindSystem {
		return nil
	}
	for _, w := range g.workflows() {
		if w.Type != typ || !w.step(old, new) {
			continue
		}
		if err := MayDecide(actor, w.Deciders, w.Refusal); err != nil {
			return err
		}
		if len(w.SystemOnly) > 0 && new != nil {
			if st := businessCodes(new); slices.ContainsFunc(w.SystemOnly, func(c string) bool {
				return slices.Contains(st, c) && (old == nil || !slices.Contains(businessCodes(old), c))
			}) {
				return custodian.Errorf(custodian.EFORBIDDEN, "%s", w.Refusal)
			}
		}
	}
	return nil
}

// step reports whether replacing old with new is a step of w.
func (w *Workflow) step(old, new map[string]any) bool {
	for _, res := range []map[string]any{old, new} {
		if res != nil && w.marks(res) {
			return true
		}
	}
	for _, el := range w.Changes {
		var a, b any
		if old != nil {
			a = old[el]
		}
		if new != nil {
			b = new[el]
		}
		if !reflect.DeepEqual(a, b) {
			return true
		}
	}
	return false
}

// marks reports whether res carries one of w's marks.
func (w *Workflow) marks(res map[string]any) bool {
	for _, m := range w.Marks {
		switch v := res[m.Element].(type) {
		case string:
			if strings.HasPrefix(v, m.System) {
				return true
			}
		case map[string]any:
			if m.concept(v) {
				return true
			}
		case []any:
			for _, x := range v {
				c, _ := x.(map[string]any)
				if c == nil {
					continue
				}
				if m.Element == "identifier" {
					if s, _ := c["system"].(string); s == m.System {
						return true
					}
				} else if m.concept(c) {
					return true
				}
			}
		}
	}
	return false
}

// concept reports whether a CodeableConcept has a coding of m.
func (m *Mark) concept(cc map[string]any) bool {
	codings, _ := cc["coding"].([]any)
	for _, x := range codings {
		c, _ := x.(map[string]any)
		if s, _ := c["system"].(string); s != m.System {
			continue
		}
		code, _ := c["code"].(string)
		if len(m.Codes) == 0 || slices.Contains(m.Codes, code) {
			return true
		}
	}
	return false
}

// businessCodes returns the codes and text of a Task's businessStatus.
func businessCodes(res map[string]any) []string {
	cc, _ := res["businessStatus"].(map[string]any)
	var out []string
	if t, _ := cc["text"].(string); t != "" {
		out = append(out, t)
	}
	codings, _ := cc["coding"].([]any)
	for _, x := range codings {
		c, _ := x.(map[string]any)
		if code, _ := c["code"].(string); code != "" {
			out = append(out, code)
		}
	}
	return out
}
