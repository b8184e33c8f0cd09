package fhir_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/custodian-him/custodian/fhir"
	"github.com/google/go-cmp/cmp"
)

func TestChild(t *testing.T) {
	t.Parallel()
	type want struct {
		Path, Type string
		Ref        fhir.TypeRef
		Min, Max   int
		Choice     bool
	}
	tests := []struct {
		parent fhir.TypeRef
		name   string
		want   want
	}{
		{"Observation", "valueQuantity", want{"Observation.value[x]", "Quantity", "Quantity", 0, 1, true}},
		{"Observation", "valueDateTime", want{"Observation.value[x]", "dateTime", "", 0, 1, true}},
		{"Observation", "status", want{"Observation.status", "code", "", 1, 1, false}},
		{"Observation", "component", want{"Observation.component", "BackboneElement", "Observation.component", 0, fhir.Unbounded, false}},
		{"Observation.component", "code", want{"Observation.component.code", "CodeableConcept", "CodeableConcept", 1, 1, false}},
		{"Questionnaire.item", "item", want{"Questionnaire.item.item", "BackboneElement", "Questionnaire.item", 0, fhir.Unbounded, false}},
		{"Patient", "id", want{"Patient.id", "id", "", 0, 1, false}},
		{"Patient", "contained", want{"Patient.contained", "Resource", "", 0, fhir.Unbounded, false}},
		{"HumanName", "given", want{"HumanName.given", "string", "", 0, fhir.Unbounded, false}},
		{"Timing.repeat", "boundsDuration", want{"Timing.repeat.bounds[x]", "Duration", "Duration", 0, 1, true}},
		{"Extension", "url", want{"Extension.url", "uri", "", 1, 1, false}},
		{"Element", "extension", want{"Element.extension", "Extension", "Extension", 0, fhir.Unbounded, false}},
		{"Bundle.entry", "resource", want{"Bundle.entry.resource", "Resource", "", 0, 1, false}},
	}
	defs := fhir.R4()
	for _, tt := range tests {
		t.Run(string(tt.parent)+"."+tt.name, func(t *testing.T) {
			c, ok := defs.Child(tt.parent, tt.name)
			if !ok {
				t.Fatal("not found")
			}
			got := want{c.Element.Path, c.Type, c.Ref, c.Element.Min, c.Element.Max, c.Element.IsChoice()}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	for _, bad := range []struct {
		parent fhir.TypeRef
		name   string
	}{{"Patient", "valueQuantity"}, {"Observation", "value[x]"}, {"Observation", "valueAddress"}, {"Nope", "id"}, {"date", "value"}, {"Patient", "_birthDate"}} {
		if _, ok := defs.Child(bad.parent, bad.name); ok {
			t.Errorf("Child(%q, %q) found; want not found", bad.parent, bad.name)
		}
	}

	if c, _ := defs.Child("Observation", "valueQuantity"); c.Name != "valueQuantity" {
		t.Errorf("Child.Name = %q", c.Name)
	}
	c, _ := defs.Child("Observation", "subject")
	if !slices.Contains(c.Element.Targets, "Patient") {
		t.Errorf("Observation.subject targets = %v; want Patient among them", c.Element.Targets)
	}
	c, _ = defs.Child("Questionnaire.item", "item")
	if c.Element.ContentRef != "Questionnaire.item" {
		t.Errorf("Questionnaire.item.item ContentRef = %q", c.Element.ContentRef)
	}
	c, _ = defs.Child("Patient", "gender")
	if c.Element.Binding != "http://hl7.org/fhir/ValueSet/administrative-gender" {
		t.Errorf("Patient.gender binding = %q", c.Element.Binding)
	}
}

func TestChoice(t *testing.T) {
	t.Parallel()
	defs := fhir.R4()
	cs, ok := defs.Choice("Observation", "effective")
	if !ok {
		t.Fatal("Observation.effective not found")
	}
	var got [][2]string
	for _, c := range cs {
		got = append(got, [2]string{c.Name, c.Type})
	}
	want := [][2]string{{"effectiveDateTime", "dateTime"}, {"effectivePeriod", "Period"}, {"effectiveTiming", "Timing"}, {"effectiveInstant", "instant"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Choice(Observation, effective) (-want +got):\n%s", diff)
	}
	if cs, ok := defs.Choice("Extension", "value"); !ok || len(cs) != 50 {
		t.Errorf("Choice(Extension, value): %d types, %v; want 50", len(cs), ok)
	}
	for _, bad := range [][2]string{{"Observation", "status"}, {"Observation", "valueQuantity"}, {"Nope", "value"}} {
		if _, ok := defs.Choice(fhir.TypeRef(bad[0]), bad[1]); ok {
			t.Errorf("Choice(%q, %q) found", bad[0], bad[1])
		}
	}
	e, ok := defs.Element("Observation.component.value[x]")
	if !ok || !e.IsChoice() || len(e.Types) != 11 || e.Name() != "value[x]" {
		t.Errorf("Element(Observation.component.value[x]) = %+v, %v", e, ok)
	}
	if _, ok := defs.Element("Observation.valueQuantity"); ok {
		t.Error("Element(Observation.valueQuantity) found; paths use [x]")
	}
}

func TestTypes(t *testing.T) {
	t.Parallel()
	defs := fhir.R4()
	if defs.Version() != "4.0.1" {
		t.Errorf("Version = %q", defs.Version())
	}
	rts := defs.ResourceTypes()
	if len(rts) != 146 || !slices.IsSorted(rts) || !slices.Contains(rts, "Patient") {
		t.Errorf("ResourceTypes: %d sorted=%v", len(rts), slices.IsSorted(rts))
	}
	rts[0] = "changed"
	if defs.ResourceTypes()[0] == "changed" {
		t.Error("ResourceTypes returns shared state")
	}
	bools := []struct {
		name string
		got  bool
		want bool
	}{
		{"IsResourceType(Patient)", defs.IsResourceType("Patient"), true},
		{"IsResourceType(Bundle)", defs.IsResourceType("Bundle"), true},
		{"IsResourceType(DomainResource)", defs.IsResourceType("DomainResource"), false},
		{"IsResourceType(HumanName)", defs.IsResourceType("HumanName"), false},
		{"IsResourceType(patient)", defs.IsResourceType("patient"), false},
		{"IsPrimitive(date)", defs.IsPrimitive("date"), true},
		{"IsPrimitive(xhtml)", defs.IsPrimitive("xhtml"), true},
		{"IsPrimitive(Quantity)", defs.IsPrimitive("Quantity"), false},
		{"IsSubtype(Patient, Resource)", defs.IsSubtype("Patient", "Resource"), true},
		{"IsSubtype(Patient, DomainResource)", defs.IsSubtype("Patient", "DomainResource"), true},
		{"IsSubtype(Age, Quantity)", defs.IsSubtype("Age", "Quantity"), true},
		{"IsSubtype(code, string)", defs.IsSubtype("code", "string"), true},
		{"IsSubtype(Quantity, Age)", defs.IsSubtype("Quantity", "Age"), false},
		{"IsSubtype(Bundle, DomainResource)", defs.IsSubtype("Bundle", "DomainResource"), false},
	}
	for _, b := range bools {
		if b.got != b.want {
			t.Errorf("%s = %v; want %v", b.name, b.got, b.want)
		}
	}
	ti, ok := defs.Type("Patient")
	if !ok || ti.Kind != fhir.KindResource || ti.Base != "DomainResource" || ti.Abstract {
		t.Errorf("Type(Patient) = %+v, %v", ti, ok)
	}
	if els := defs.Elements("Patient"); len(els) == 0 || els[0].Path != "Patient.id" {
		t.Errorf("Elements(Patient) starts %v", els[:1])
	}
}

// checkerFunc adapts a function to fhir.ConstraintChecker.
type checkerFunc func(c fhir.Constraint, resource map[string]any, focus any) (bool, error)

func (f checkerFunc) Check(c fhir.Constraint, resource map[string]any, focus any) (bool, error) {
	return f(c, resource, focus)
}

func TestValidateWithConstraints(t *testing.T) {
	t.Parallel()
	res, err := decode([]byte(`{"resourceType":"Patient","contact":[{"gender":"male"}],
		"extension":[{"url":"http://x","valueString":"y"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	checker := checkerFunc(func(c fhir.Constraint, resource map[string]any, focus any) (bool, error) {
		keys = append(keys, c.Key)
		return c.Key != "pat-1" && c.Key != "dom-6", nil
	})
	got := fhir.R4().ValidateWith(res, checker)
	want := []issue{{"invariant", "Patient"}, {"invariant", "Patient.contact[0]"}}
	var gotIssues []issue
	for _, is := range got {
		gotIssues = append(gotIssues, issue{is.Code, is.Path})
	}
	if diff := cmp.Diff(want, gotIssues); diff != "" {
		t.Errorf("issues (-want +got):\n%s", diff)
	}
	if got[0].Severity != fhir.SeverityWarning || got[1].Severity != fhir.SeverityError {
		t.Errorf("severities %q (dom-6), %q (pat-1); want warning, error", got[0].Severity, got[1].Severity)
	}
	for _, k := range keys {
		if k == "ele-1" || k == "ext-1" || k == "dom-2" {
			t.Errorf("structural constraint %s passed to the checker", k)
		}
	}
	if !slices.Contains(keys, "dom-3") {
		t.Errorf("resource constraints not checked: %v", keys)
	}
}

func TestPatientCompartmentParams(t *testing.T) {
	for typ, want := range map[string]string{
		"Observation": "subject,performer", "Encounter": "patient", "Organization": "", "AuditEvent": "patient",
	} {
		if got := strings.Join(fhir.PatientCompartmentParams(typ), ","); got != want {
			t.Errorf("%s: %q, want %q", typ, got, want)
		}
	}
}
