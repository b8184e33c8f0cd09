package registry

import (
	"bytes"
	"embed"
	"encoding/json"
	"io/fs"
	"regexp"
	"slices"
	"sort"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/measure"
)

// Definition is a registry: which patients belong (Criteria), what is
// abstracted for each (Form) and how often they are followed up.
type Definition struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Criteria    Criteria `json:"criteria"`
	Form        []Field  `json:"form"`
	FollowUp    FollowUp `json:"followUp"`
}

// Criteria find a registry's cases: a patient is a case when any
// criterion matches anything in the record.
type Criteria struct {
	// Diagnoses is a code set over ICD-10-CM, with hierarchy.
	Diagnoses *measure.CodeSet `json:"diagnoses,omitempty"`
	// Procedures is a code set over ICD-10-PCS.
	Procedures *measure.CodeSet `json:"procedures,omitempty"`
	// Labs are laboratory results that qualify on their own.
	Labs []Lab `json:"labs,omitempty"`
	// EncounterClasses limits the diagnoses that count to those of
	// encounters of these classes (IMP, EMER, AMB, …) and, with
	// "problem-list", problem-list entries. Empty means any.
	EncounterClasses []string `json:"encounterClasses,omitempty"`
}

// Lab is a laboratory criterion: a result of LOINC Code compared with
// Value ("7.0 >= 6.5").
type Lab struct {
	Code       string  `json:"code"`
	Comparator string  `json:"comparator"`
	Value      float64 `json:"value"`
	Unit       string  `json:"unit,omitempty"`
}

// Field is one item of the abstraction form: filled automatically from
// the record (Auto names how) or completed by a registrar.
type Field struct {
	ID        string `json:"id"`
	Label     string `json:"label"`
	Auto      string `json:"auto,omitempty"`
	Registrar bool   `json:"registrar,omitempty"`
}

// The automatic fields.
const (
	AutoFirstEvidenceDate    = "first-evidence-date"  // the earliest qualifying diagnosis, procedure or result
	AutoFirstDiagnosisCode   = "first-diagnosis-code" // the code of the earliest qualifying diagnosis
	AutoStage                = "stage"                // the stage documented on a qualifying diagnosis (Condition.stage)
	AutoTreatments           = "procedures-since-diagnosis"
	AutoLastContact          = "last-contact" // the last encounter's date
	AutoVitalStatus          = "vital-status" // alive, or dead with the date
	AutoLastLab              = "last-lab"     // the latest result of the registry's first lab criterion
	AutoLastLabDate          = "last-lab-date"
	AutoDischargeDisposition = "discharge-disposition" // of the encounter of the first qualifying diagnosis
)

var autos = []string{AutoFirstEvidenceDate, AutoFirstDiagnosisCode, AutoStage, AutoTreatments, AutoLastContact,
	AutoVitalStatus, AutoLastLab, AutoLastLabDate, AutoDischargeDisposition}

// FollowUp is the follow-up schedule: every IntervalDays after the later
// of the last contact and the last recorded follow-up.
type FollowUp struct {
	IntervalDays int `json:"intervalDays"`
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// Parse reads a definition (JSON) and checks it. EINVALID says what is
// wrong.
func Parse(b []byte) (*Definition, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d Definition
	if err := dec.Decode(&d); err != nil {
		return nil, custodian.Wrap(custodian.EINVALID, err, "the registry definition cannot be read: %v", err)
	}
	return &d, d.Check()
}

// Check validates the definition and prepares its code sets.
func (d *Definition) Check() error {
	if !idPattern.MatchString(d.ID) {
		return custodian.Errorf(custodian.EINVALID, "registry id %q must be lower-case letters, digits and hyphens (at most 40)", d.ID)
	}
	if d.Title == "" {
		return custodian.Errorf(custodian.EINVALID, "registry %s has no title", d.ID)
	}
	c := d.Criteria
	if c.Diagnoses == nil && c.Procedures == nil && len(c.Labs) == 0 {
		return custodian.Errorf(custodian.EINVALID, "registry %s has no criteria", d.ID)
	}
	for _, cs := range []*measure.CodeSet{c.Diagnoses, c.Procedures} {
		if cs == nil {
			continue
		}
		if err := cs.Compile(); err != nil {
			return custodian.Wrap(custodian.EINVALID, err, "registry %s: %s", d.ID, custodian.ErrorMessage(err))
		}
	}
	for _, l := range c.Labs {
		switch l.Comparator {
		case ">", ">=", "<", "<=", "=":
		default:
			return custodian.Errorf(custodian.EINVALID, "registry %s: lab %s comparator %q must be >, >=, <, <= or =", d.ID, l.Code, l.Comparator)
		}
		if l.Code == "" {
			return custodian.Errorf(custodian.EINVALID, "registry %s: a lab criterion has no code", d.ID)
		}
	}
	seen := map[string]bool{}
	for _, f := range d.Form {
		if f.ID == "" || seen[f.ID] {
			return custodian.Errorf(custodian.EINVALID, "registry %s: form field ids must be present and unique (%q)", d.ID, f.ID)
		}
		seen[f.ID] = true
		if (f.Auto == "") == !f.Registrar {
			return custodian.Errorf(custodian.EINVALID, "registry %s: field %s must be either automatic or for the registrar", d.ID, f.ID)
		}
		if f.Auto != "" && !slices.Contains(autos, f.Auto) {
			return custodian.Errorf(custodian.EINVALID, "registry %s: field %s: unknown automatic value %q", d.ID, f.ID, f.Auto)
		}
	}
	if d.FollowUp.IntervalDays < 0 {
		return custodian.Errorf(custodian.EINVALID, "registry %s: the follow-up interval cannot be negative", d.ID)
	}
	return nil
}

// URL is the registry's canonical URL (Task.instantiatesUri of its cases).
func (d *Definition) URL() string { return CanonicalBase + d.ID }

// CanonicalBase prefixes registry URLs.
const CanonicalBase = "https://custodian.example/fhir/registry/"

//go:embed definitions/*.json
var builtinFS embed.FS

// Builtins returns the shipped registries (cancer, diabetes, stroke),
// sorted by id; their JSON files are in definitions/ for a site to copy
// and change.
func Builtins() ([]*Definition, error) {
	var out []*Definition
	err := fs.WalkDir(builtinFS, "definitions", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := builtinFS.ReadFile(path)
		if err != nil {
			return err
		}
		d, err := Parse(b)
		if err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// BuiltinJSON returns the JSON of a shipped registry (for a site to copy).
func BuiltinJSON(id string) ([]byte, error) {
	b, err := builtinFS.ReadFile("definitions/" + id + ".json")
	if err != nil {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "no shipped registry %q", id)
	}
	return b, nil
}
