package sqldb

import "github.com/custodian-him/custodian/store"

// unionParams are search parameters whose values are, by their R4
// expressions, the union of other parameters' values on the same resource:
// Observation's combo-code is Observation.code | Observation.component.code,
// that is code and component-code together. Their index rows would repeat
// the rows of their parts (a fifth of all index rows of a typical load), so
// an entry of such a parameter is stored only when no part has the same
// value, and a search of it looks at its own rows and its parts' rows.
// That is right as long as every value of a part is a value of the union,
// which the expressions guarantee and TestUnionParams checks on data.
//
// subject is such a union of patient on every type whose patient is, by
// its R4 expression, its subject (or Task's for) where that is a Patient
// (subjectTypes): a reference to a Patient is stored once, as a patient
// row, and a search by subject reads the patient rows too. (Searches by
// patient read patient rows only, as before.)
var unionParams = func() map[paramKey][]string {
	m := map[paramKey][]string{
		{"Observation", "combo-code"}:                {"code", "component-code"},
		{"Observation", "combo-code-value-concept"}:  {"code-value-concept", "component-code-value-concept"},
		{"Observation", "combo-code-value-quantity"}: {"code-value-quantity", "component-code-value-quantity"},
		{"Observation", "combo-data-absent-reason"}:  {"data-absent-reason", "component-data-absent-reason"},
		{"Observation", "combo-value-concept"}:       {"value-concept", "component-value-concept"},
		{"Observation", "combo-value-quantity"}:      {"value-quantity", "component-value-quantity"},
	}
	for _, t := range subjectTypes {
		m[paramKey{t, "subject"}] = []string{"patient"}
	}
	return m
}()

// subjectTypes are the R4 types whose patient parameter's values are all
// values of their subject parameter (patient is X.subject, or
// X.subject.where(resolve() is Patient), and subject X.subject; Task's
// are on Task.for, EnrollmentRequest's on candidate).
var subjectTypes = []string{
	"Account", "Basic", "CarePlan", "CareTeam", "ChargeItem", "ClinicalImpression", "Communication",
	"CommunicationRequest", "Composition", "Condition", "Contract", "DeviceRequest", "DeviceUseStatement",
	"DiagnosticReport", "DocumentManifest", "DocumentReference", "Encounter", "EnrollmentRequest", "Flag",
	"Goal", "GuidanceResponse", "ImagingStudy", "Invoice", "List", "MeasureReport", "Media",
	"MedicationAdministration", "MedicationDispense", "MedicationRequest", "MedicationStatement",
	"Observation", "Procedure", "QuestionnaireResponse", "RequestGroup", "RiskAssessment",
	"ServiceRequest", "Specimen", "Task",
}

// paramPids are the numbers whose rows hold the values of parameter code
// of typ: its own and, for a union parameter, its parts'.
func (db *DB) paramPids(typ, code string) []any {
	pid, ok := db.pid(typ, code)
	if !ok {
		return nil
	}
	pids := []any{pid}
	for _, part := range unionParams[paramKey{typ, code}] {
		if pid, ok := db.pid(typ, part); ok {
			pids = append(pids, pid)
		}
	}
	return pids
}

// unionOf maps each part to the unions it belongs to, per resource type.
var unionOf = func() map[paramKey][]string {
	m := map[paramKey][]string{}
	for u, parts := range unionParams {
		for _, p := range parts {
			k := paramKey{u.typ, p}
			m[k] = append(m[k], u.code)
		}
	}
	return m
}()

// unionTypes are the resource types that have union parameters.
var unionTypes = func() map[string]bool {
	m := map[string]bool{}
	for u := range unionParams {
		m[u.typ] = true
	}
	return m
}()

// unionKey is an index value as one union parameter has it.
type unionKey struct {
	union string
	entry store.IndexEntry // Param cleared
}

// dropRepeated returns index without the entries of union parameters that
// one of their parts has too. It keeps the order of the rest.
func dropRepeated(typ string, index []store.IndexEntry) []store.IndexEntry {
	if !unionTypes[typ] {
		return index
	}
	var parts map[unionKey]bool
	for _, e := range index {
		for _, u := range unionOf[paramKey{typ, e.Param}] {
			if parts == nil {
				parts = map[unionKey]bool{}
			}
			v := e
			v.Param = ""
			parts[unionKey{u, v}] = true
		}
	}
	if parts == nil {
		return index
	}
	kept := make([]store.IndexEntry, 0, len(index))
	for _, e := range index {
		if _, isUnion := unionParams[paramKey{typ, e.Param}]; isUnion {
			v := e
			v.Param = ""
			if parts[unionKey{e.Param, v}] {
				continue
			}
		}
		kept = append(kept, e)
	}
	return kept
}
