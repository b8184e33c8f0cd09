package access_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/mpi/identity"
	"github.com/custodian-him/custodian/registry"
	"github.com/custodian-him/custodian/roi"
)

// res decodes a JSON resource for the table below.
func res(t testing.TB, s string) map[string]any {
	t.Helper()
	if s == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad fixture %s: %v", s, err)
	}
	return m
}

// Items of each workflow as the modules write them (the shapes of
// registry/task.go, roi/task.go, mpi/identity, chart/task.go), reduced to
// what marks them.
const (
	regCandidate = `{"resourceType":"Task","intent":"order","status":"requested","businessStatus":{"text":"candidate"},
		"code":{"coding":[{"system":"https://custodian.example/fhir/registry/CodeSystem/task","code":"registry-case"}]},
		"instantiatesUri":"https://custodian.example/fhir/registry/diabetes","for":{"reference":"Patient/p1"}}`
	regAccepted = `{"resourceType":"Task","intent":"order","status":"completed","businessStatus":{"text":"accepted"},
		"code":{"coding":[{"system":"https://custodian.example/fhir/registry/CodeSystem/task","code":"registry-case"}]},
		"instantiatesUri":"https://custodian.example/fhir/registry/diabetes","for":{"reference":"Patient/p1"}}`
	// regDisguised is an accepted case without its code: the registry
	// still reads it as a case by its instantiatesUri.
	regDisguised = `{"resourceType":"Task","intent":"order","status":"completed","businessStatus":{"text":"accepted"},
		"instantiatesUri":"https://custodian.example/fhir/registry/diabetes","for":{"reference":"Patient/p1"}}`
	plainTask   = `{"resourceType":"Task","intent":"order","status":"requested","intent":"order","description":"call the clinic"}`
	plainDone   = `{"resourceType":"Task","intent":"order","status":"completed","intent":"order","description":"call the clinic"}`
	roiOpen     = `{"resourceType":"Task","intent":"order","status":"requested","code":{"coding":[{"system":"https://custodian-him.org/fhir/CodeSystem/him-task","code":"release-of-information"}]},"businessStatus":{"coding":[{"system":"https://custodian-him.org/fhir/CodeSystem/roi-status","code":"requested"}]}}`
	roiReleased = `{"resourceType":"Task","intent":"order","status":"completed","code":{"coding":[{"system":"https://custodian-him.org/fhir/CodeSystem/him-task","code":"release-of-information"}]},"businessStatus":{"coding":[{"system":"https://custodian-him.org/fhir/CodeSystem/roi-status","code":"fulfilled"}]}}`
	// roiByNumber carries only the request number's identifier.
	roiByNumber  = `{"resourceType":"Task","intent":"order","status":"completed","identifier":[{"system":"https://custodian-him.org/fhir/sid/roi-request","value":"ROI-1"}]}`
	dupOpen      = `{"resourceType":"Task","intent":"order","status":"requested","code":{"coding":[{"system":"https://custodian.example/fhir/CodeSystem/mpi","code":"duplicate-candidate"}]},"identifier":[{"system":"https://custodian.example/fhir/mpi-pair","value":"a/b"}]}`
	dupNotDup    = `{"resourceType":"Task","intent":"order","status":"completed","code":{"coding":[{"system":"https://custodian.example/fhir/CodeSystem/mpi","code":"duplicate-candidate"}]},"businessStatus":{"coding":[{"system":"https://custodian.example/fhir/CodeSystem/mpi","code":"not-duplicate"}]}}`
	dupMerged    = `{"resourceType":"Task","intent":"order","status":"completed","code":{"coding":[{"system":"https://custodian.example/fhir/CodeSystem/mpi","code":"duplicate-candidate"}]},"businessStatus":{"coding":[{"system":"https://custodian.example/fhir/CodeSystem/mpi","code":"merged"}]}}`
	mergeRecord  = `{"resourceType":"Task","intent":"order","status":"completed","code":{"coding":[{"system":"https://custodian.example/fhir/CodeSystem/mpi","code":"patient-merge"}]}}`
	deficiency   = `{"resourceType":"Task","intent":"order","status":"requested","identifier":[{"system":"https://custodian.example/fhir/chart-deficiency","value":"k"}],"code":{"coding":[{"system":"https://custodian.example/fhir/CodeSystem/chart-rule","code":"signed-dc"}]}}`
	deficiencyOK = `{"resourceType":"Task","intent":"order","status":"completed","identifier":[{"system":"https://custodian.example/fhir/chart-deficiency","value":"k"}],"code":{"coding":[{"system":"https://custodian.example/fhir/CodeSystem/chart-rule","code":"signed-dc"}]}}`
	patient      = `{"resourceType":"Patient","name":[{"family":"Doe"}]}`
	patientMoved = `{"resourceType":"Patient","name":[{"family":"Doe-Smith"}]}`
	patientLink  = `{"resourceType":"Patient","name":[{"family":"Doe"}],"link":[{"other":{"reference":"Patient/2"},"type":"replaced-by"}]}`
)

// step is one workflow-changing write, with the user roles that may
// make it (written out here, not taken from the table under test).
type step struct {
	name     string
	typ      string
	old, new string
	deciders []string // nil: the system actor only; "*": everyone
}

var everyone = []string{"*"}

var steps = []step{
	{"registry: record a candidate", "Task", "", regCandidate, []string{"registrar", "him-director"}},
	{"registry: accept a case", "Task", regCandidate, regAccepted, []string{"registrar", "him-director"}},
	{"registry: create a case accepted", "Task", "", regAccepted, []string{"registrar", "him-director"}},
	{"registry: delete a case", "Task", regAccepted, "", []string{"registrar", "him-director"}},
	{"registry: disguise a case as a plain Task", "Task", regAccepted, plainDone, []string{"registrar", "him-director"}},
	{"registry: turn a plain Task into a case", "Task", plainTask, regDisguised, []string{"registrar", "him-director"}},
	{"roi: submit a request", "Task", "", roiOpen, []string{"roi-specialist", "him-director"}},
	{"roi: release", "Task", roiOpen, roiReleased, []string{"roi-specialist", "him-director"}},
	{"roi: a request known by its number only", "Task", "", roiByNumber, []string{"roi-specialist", "him-director"}},
	{"mpi: not a duplicate", "Task", dupOpen, dupNotDup, []string{"him-director"}},
	{"mpi: close a candidate as merged without merging", "Task", dupOpen, dupMerged, nil},
	{"mpi: write a merge record", "Task", "", mergeRecord, nil},
	{"mpi: delete a merge record", "Task", mergeRecord, "", nil},
	{"chart: clear a deficiency", "Task", deficiency, deficiencyOK, nil},
	{"chart: delete a deficiency", "Task", deficiency, "", nil},
	{"patient: link registrations", "Patient", patient, patientLink, []string{"him-director"}},
	{"patient: create already linked", "Patient", "", patientLink, []string{"him-director"}},
	{"patient: unlink", "Patient", patientLink, patient, []string{"him-director"}},
	{"patient: change the name", "Patient", patient, patientMoved, everyone},
	{"plain Task: complete", "Task", plainTask, plainDone, everyone},
	{"plain Task: create", "Task", "", plainTask, everyone},
}

// TestWorkflowSteps checks every user role, API clients with and without
// roles and the system actor against every workflow-changing write.
func TestWorkflowSteps(t *testing.T) {
	type who struct {
		name  string
		actor *custodian.Actor
		// allowed says whether this actor may take a step with deciders.
		allowed func(deciders []string) bool
	}
	var actors []who
	for _, role := range access.Roles {
		if role == access.RoleIntegrationClient {
			continue
		}
		actors = append(actors, who{"user " + role, &custodian.Actor{ID: "u", Kind: access.KindUser, Roles: []string{role}},
			func(d []string) bool { return slices.Contains(d, "*") || slices.Contains(d, role) }})
	}
	actors = append(actors,
		who{"user coder+registrar", &custodian.Actor{ID: "u", Kind: access.KindUser, Roles: []string{"coder", "registrar"}},
			func(d []string) bool { return slices.Contains(d, "*") || slices.Contains(d, "registrar") }},
		who{"user without roles", &custodian.Actor{ID: "u", Kind: access.KindUser},
			func(d []string) bool { return slices.Contains(d, "*") }},
		who{"integration client", &custodian.Actor{ID: "c", Kind: access.KindClient, Roles: []string{access.RoleIntegrationClient}},
			func(d []string) bool { return d != nil }},
		who{"client with the coder role", &custodian.Actor{ID: "c", Kind: access.KindClient, Roles: []string{access.RoleCoder}},
			func(d []string) bool { return slices.Contains(d, "*") }},
		who{"system", custodian.SystemActor(), func([]string) bool { return true }},
	)
	g := access.Guard{}
	for _, s := range steps {
		old, new := res(t, s.old), res(t, s.new)
		for _, a := range actors {
			err := g.AllowWrite(a.actor, s.typ, old, new)
			want := a.allowed(s.deciders)
			if want && err != nil {
				t.Errorf("%s by %s: refused: %v", s.name, a.name, err)
			}
			if !want && custodian.ErrorCode(err) != custodian.EFORBIDDEN {
				t.Errorf("%s by %s: %v, want EFORBIDDEN", s.name, a.name, err)
			}
			if !want && custodian.ErrorMessage(err) == "" {
				t.Errorf("%s by %s: the refusal says nothing", s.name, a.name)
			}
			if gov := g.Governs(a.actor, s.typ); gov == (a.actor.Kind == access.KindSystem) {
				t.Errorf("Governs(%s, %s) = %v", a.name, s.typ, gov)
			}
		}
	}
	if g.Governs(&custodian.Actor{Kind: access.KindUser, Roles: []string{"coder"}}, "Observation") {
		t.Error("an Observation write is governed by no workflow, but Governs says it is")
	}
	if err := g.AllowWrite(nil, "Task", nil, res(t, regCandidate)); custodian.ErrorCode(err) != custodian.EUNAUTHORIZED {
		t.Errorf("no actor: %v, want EUNAUTHORIZED", err)
	}
}

// TestMayDecide checks the services' check against the same table.
func TestMayDecide(t *testing.T) {
	g := access.Guard{}
	tests := []struct {
		workflow string
		roles    []string
		want     string
	}{
		{access.WorkflowRegistryCase, []string{"registrar"}, ""},
		{access.WorkflowRegistryCase, []string{"him-director"}, ""},
		{access.WorkflowRegistryCase, []string{"coder"}, custodian.EFORBIDDEN},
		{access.WorkflowRegistryCase, []string{"roi-specialist"}, custodian.EFORBIDDEN},
		{access.WorkflowRelease, []string{"roi-specialist"}, ""},
		{access.WorkflowRelease, []string{"registrar"}, custodian.EFORBIDDEN},
		{access.WorkflowRelease, []string{"privacy-officer"}, custodian.EFORBIDDEN},
		{access.WorkflowDeficiency, []string{"him-director"}, custodian.EFORBIDDEN},
		{"no-such-workflow", []string{"him-director"}, custodian.EINTERNAL},
	}
	for _, tt := range tests {
		err := g.MayDecide(&custodian.Actor{ID: "u", Kind: access.KindUser, Roles: tt.roles}, tt.workflow)
		if got := custodian.ErrorCode(err); err == nil && tt.want != "" || err != nil && got != tt.want {
			t.Errorf("MayDecide(%v, %s) = %v, want %q", tt.roles, tt.workflow, err, tt.want)
		}
	}
	// A site's own deciders replace the defaults.
	site := access.Guard{Workflows: []access.Workflow{{Name: access.WorkflowRegistryCase, Type: "Task", Deciders: []string{"coder"}}}}
	if err := site.MayDecide(&custodian.Actor{Kind: access.KindUser, Roles: []string{"coder"}}, access.WorkflowRegistryCase); err != nil {
		t.Errorf("a site's deciders: %v", err)
	}
	if err := site.MayDecide(&custodian.Actor{Kind: access.KindUser, Roles: []string{"registrar"}}, access.WorkflowRegistryCase); err == nil {
		t.Error("a site's deciders: the default registrar still decides")
	}
	if d := access.DefaultDeciders(access.WorkflowRelease); !slices.Equal(d, []string{"roi-specialist", "him-director"}) {
		t.Errorf("DefaultDeciders(release) = %v", d)
	}
}

// TestWorkflowMarksMatchTheModules builds an item of each workflow from
// the module's own constants, so the systems access repeats cannot drift
// from the ones the modules write. (Chart review's systems are checked by
// its own Task shape in TestWorkflowSteps: package chart is not imported
// here, so this test does not wait on chart's build.)
func TestWorkflowMarksMatchTheModules(t *testing.T) {
	coding := func(system, code string) map[string]any {
		return map[string]any{"coding": []any{map[string]any{"system": system, "code": code}}}
	}
	ident := func(system string) []any { return []any{map[string]any{"system": system, "value": "x"}} }
	items := map[string]map[string]any{
		"registry code": {"code": coding(registry.CanonicalBase+"CodeSystem/task", "registry-case")},
		"registry uri":  {"instantiatesUri": registry.CanonicalBase + "stroke"},
		"roi code":      {"code": coding(roi.TaskSystem, roi.TaskCode)},
		"roi status":    {"businessStatus": coding(roi.StatusSystem, string(roi.Requested))},
		"roi number":    {"identifier": ident(roi.NumberSystem)},
		"mpi candidate": {"code": coding(identity.System, identity.CodeCandidate)},
		"mpi overlay":   {"code": coding(identity.System, identity.CodeOverlay)},
		"mpi pair":      {"identifier": ident(identity.PairSystem)},
		"mpi merge":     {"code": coding(identity.System, identity.CodeMerge)},
		"mpi unmerge":   {"code": coding(identity.System, identity.CodeUnmerge)},
	}
	coder := &custodian.Actor{ID: "c", Kind: access.KindUser, Roles: []string{access.RoleCoder}}
	for name, item := range items {
		item["resourceType"], item["status"] = "Task", "requested"
		if err := (access.Guard{}).AllowWrite(coder, "Task", nil, item); custodian.ErrorCode(err) != custodian.EFORBIDDEN {
			t.Errorf("%s: a coder writes it: %v", name, err)
		}
	}
	if m := (access.Guard{}); m.AllowWrite(coder, "Task", nil, map[string]any{"resourceType": "Task",
		"businessStatus": coding(identity.System, identity.BusinessMerged)}) != nil {
		// Not marked as a candidate: a plain Task may say anything.
		t.Error("a plain Task with a merged status is refused")
	}
}
