package coding

import (
	"fmt"
	"slices"
	"strings"

	"github.com/custodian-him/custodian/codeset"
)

// Diagnosis is a coded diagnosis of an abstract with its present-on-
// admission indicator (Y, N, U, W, 1, or "" when none was given).
type Diagnosis struct {
	Code string `json:"code"`
	POA  string `json:"poa,omitempty"`
}

// Procedure is a coded ICD-10-PCS procedure with its date (YYYY-MM-DD).
type Procedure struct {
	Code string `json:"code"`
	Date string `json:"date,omitempty"`
}

// Edit severities.
const (
	SevError   = "error"   // the claim will be rejected or mis-paid
	SevWarning = "warning" // review: often right, sometimes a coding error
	SevInfo    = "information"
)

// Edit is one problem found in an abstract.
type Edit struct {
	Code     string   `json:"code"` // INVALID_CODE, HEADER_CODE, MISSING_7TH, …
	Severity string   `json:"severity"`
	Message  string   `json:"message"`
	Codes    []string `json:"codes"` // the codes concerned, as coders write them
	Fix      string   `json:"fix"`   // what would fix it
}

// Edit codes.
const (
	EditNoPrincipal       = "NO_PRINCIPAL"
	EditInvalid           = "INVALID_CODE"
	EditNotOnDate         = "NOT_VALID_ON_DATE"
	EditHeader            = "HEADER_CODE"
	EditSeventh           = "MISSING_7TH"
	EditDuplicate         = "DUPLICATE"
	EditAge               = "AGE_CONFLICT"
	EditSex               = "SEX_CONFLICT"
	EditManifestation     = "MANIFESTATION_AS_PRINCIPAL"
	EditUnacceptable      = "UNACCEPTABLE_PRINCIPAL"
	EditExternalCause     = "EXTERNAL_CAUSE_AS_PRINCIPAL"
	EditQuestionable      = "QUESTIONABLE_ADMISSION"
	EditUnspecified       = "UNSPECIFIED_CODE"
	EditExcludes1         = "EXCLUDES1"
	EditPOAMissing        = "POA_MISSING"
	EditPOAInvalid        = "POA_INVALID"
	EditPOAExempt         = "POA_EXEMPT"
	EditNonCovered        = "NONCOVERED_PROCEDURE"
	EditLimitedCoverage   = "LIMITED_COVERAGE_PROCEDURE"
	EditProcedureNoDate   = "PROCEDURE_DATE_MISSING"
	EditTooManyCodes      = "TOO_MANY_CODES"
	maxDiagnosesOnUB04    = 25 // principal + 24 secondary (837I: 1 + 24)
	maxProceduresOnUB04   = 25
	editPrincipalPosition = 0
)

// Claim is what the edits read: the coded abstract and the patient facts
// the MCE edits need.
type Claim struct {
	Diagnoses  []Diagnosis // the principal first
	Procedures []Procedure
	Date       codeset.Date // date of service (discharge date)
	Age        int          // whole years at admission; -1 unknown
	Sex        byte         // 'M', 'F' or 0 unknown
	Inpatient  bool         // POA reporting applies
}

// Checker runs the edits. It is safe for concurrent use.
type Checker struct {
	cm, pcs *codeset.CodeSystem
}

// NewChecker returns a checker over set's ICD-10-CM and ICD-10-PCS.
func NewChecker(set *codeset.Set) (*Checker, error) {
	cm, err := set.System(codeset.ICD10CM)
	if err != nil {
		return nil, err
	}
	pcs, err := set.System(codeset.ICD10PCS)
	if err != nil {
		return nil, err
	}
	return &Checker{cm: cm, pcs: pcs}, nil
}

// Check returns every edit the claim fails, errors first, in code order
// within a severity. An empty answer means a clean claim.
func (ch *Checker) Check(c *Claim) []Edit {
	var out []Edit
	add := func(code, sev, fix, format string, codes []string, a ...any) {
		out = append(out, Edit{Code: code, Severity: sev, Message: fmt.Sprintf(format, a...), Codes: codes, Fix: fix})
	}
	if len(c.Diagnoses) == 0 {
		add(EditNoPrincipal, SevError, "Code the principal diagnosis: the condition established after study to be chiefly responsible for the admission.", "The claim has no principal diagnosis.", nil)
	}
	if len(c.Diagnoses) > maxDiagnosesOnUB04 || len(c.Procedures) > maxProceduresOnUB04 {
		add(EditTooManyCodes, SevWarning, "Sequence the codes that matter most for the stay first; the rest do not reach the claim.", "A UB-04/837I carries at most %d diagnoses and %d procedures; this abstract has %d and %d.", nil, maxDiagnosesOnUB04, maxProceduresOnUB04, len(c.Diagnoses), len(c.Procedures))
	}
	var dx []*codeset.Concept // valid concepts, in order (nil where invalid)
	seen := map[string]int{}
	for i, d := range c.Diagnoses {
		con := ch.valid(ch.cm, d.Code, c.Date, add)
		dx = append(dx, con)
		if con == nil {
			continue
		}
		if j, dup := seen[con.Code()]; dup {
			add(EditDuplicate, SevError, "Remove the repeated code.", "%s is reported more than once (positions %d and %d).", []string{con.Display()}, con.Display(), j+1, i+1)
			continue
		}
		seen[con.Code()] = i
		ch.mce(con, c, i == editPrincipalPosition, add)
		if c.Inpatient {
			ch.poa(con, d.POA, add)
		}
	}
	// Excludes1 pairs
	for i := range dx {
		for j := i + 1; j < len(dx); j++ {
			if dx[i] == nil || dx[j] == nil || dx[i] == dx[j] {
				continue
			}
			if n, ok := dx[i].Excludes1Conflict(dx[j]); ok {
				add(EditExcludes1, SevWarning, "Keep the code that describes the condition; report both only if the conditions are unrelated, as the guidelines allow (I.A.12.a).",
					"Excludes1 (%s): %s and %s are not reported together: %q.", []string{dx[i].Display(), dx[j].Display()}, n.From, dx[i].Display(), dx[j].Display(), n.Text)
			}
		}
	}
	seenPx := map[string]bool{}
	for _, p := range c.Procedures {
		con := ch.valid(ch.pcs, p.Code, c.Date, add)
		if con == nil {
			continue
		}
		if seenPx[con.Code()+"|"+p.Date] {
			add(EditDuplicate, SevWarning, "Remove the repeat unless the procedure was performed again.", "%s is reported twice on the same date.", []string{con.Code()}, con.Code())
		}
		seenPx[con.Code()+"|"+p.Date] = true
		if p.Date == "" && c.Inpatient {
			add(EditProcedureNoDate, SevError, "Give the date the procedure was performed.", "%s has no date.", []string{con.Code()}, con.Code())
		}
		ch.mceProcedure(con, c, add)
	}
	slices.SortStableFunc(out, func(a, b Edit) int { return sevRank(a.Severity) - sevRank(b.Severity) })
	return out
}

func sevRank(s string) int {
	switch s {
	case SevError:
		return 0
	case SevWarning:
		return 1
	}
	return 2
}

type addFunc func(code, sev, fix, format string, codes []string, a ...any)

// valid checks a code's validity on the date and returns its concept when
// it is reportable.
func (ch *Checker) valid(sys *codeset.CodeSystem, input string, on codeset.Date, add addFunc) *codeset.Concept {
	v := sys.Validate(input, on)
	shown := strings.TrimSpace(input)
	switch v.Status {
	case codeset.Billable:
		return v.Concept
	case codeset.Header:
		if v.Concept.RequiresSeventh() {
			var chars []string
			for _, s := range v.Concept.SeventhCharacters() {
				chars = append(chars, fmt.Sprintf("%c (%s)", s.Char, s.Meaning))
			}
			add(EditSeventh, SevError, "Add the 7th character (padding with X placeholders to six characters): "+strings.Join(chars, ", ")+".",
				"%s needs a 7th character.", []string{v.Concept.Display()}, v.Concept.Display())
			return nil
		}
		var kids []string
		for _, k := range v.Concept.Children() {
			if len(kids) == 6 {
				kids = append(kids, "…")
				break
			}
			kids = append(kids, k.Display())
		}
		add(EditHeader, SevError, "Report a complete code below it: "+strings.Join(kids, ", ")+".", "%s (%s) is a header, not a reportable code.", []string{v.Concept.Display()}, v.Concept.Display(), v.Concept.Label())
	case codeset.NotOnDate:
		add(EditNotOnDate, SevError, "Use the code that replaced it in the edition of the date of service.", "%s is not valid on %s: %s", []string{v.Concept.Display()}, v.Concept.Display(), v.Date, v.Message)
	default:
		add(EditInvalid, SevError, "Correct the code; search the code set by its description.", "%q is not a code of %s: %s", []string{shown}, shown, sys.Name(), v.Message)
	}
	return nil
}

// mce runs the Medicare Code Editor edits of one diagnosis.
func (ch *Checker) mce(con *codeset.Concept, c *Claim, principal bool, add addFunc) {
	attrs := con.Attributes(c.Date)
	d := con.Display()
	for _, a := range attrs {
		switch a {
		case "MANIF":
			if principal {
				add(EditManifestation, SevError, "Sequence the underlying condition first (the \"code first\" note says which), this code after it.", "%s describes a manifestation and may not be the principal diagnosis.", []string{d}, d)
			}
		case "UNACCEPTABLE":
			if principal {
				add(EditUnacceptable, SevError, "Sequence as principal the condition that occasioned the admission.", "%s is not acceptable as a principal diagnosis for an inpatient admission (MCE).", []string{d}, d)
			}
		case "ECODEPDX":
			if principal {
				add(EditExternalCause, SevError, "Sequence the injury or condition first; external-cause codes are secondary only.", "%s is an external cause code and may not be the principal diagnosis.", []string{d}, d)
			}
		case "QADM":
			if principal {
				add(EditQuestionable, SevWarning, "Confirm the admission was needed for this condition, or sequence the condition that made it so.", "%s as principal diagnosis is a questionable reason for admission (MCE).", []string{d}, d)
			}
		case "UNSPECIFIED":
			add(EditUnspecified, SevInfo, "Query the provider or code the specific condition the record supports.", "%s is an unspecified code that the MCE flags; a more specific code may be supported.", []string{d}, d)
		case "MALE", "FEMALE":
			ch.sexEdit(a, d, c, add)
		case "NEWBORN", "PEDIATRIC", "MATERNITY", "ADULT":
			ch.ageEdit(a, d, c, add)
		}
	}
}

func (ch *Checker) sexEdit(attr, d string, c *Claim, add addFunc) {
	if c.Sex == 0 || c.Sex == 'U' {
		return
	}
	if (attr == "MALE" && c.Sex != 'M') || (attr == "FEMALE" && c.Sex != 'F') {
		add(EditSex, SevError, "Check the patient's sex on the registration and the code.", "%s is for %s patients; the patient's sex is %c.", []string{d}, d, strings.ToLower(attr), c.Sex)
	}
}

func (ch *Checker) ageEdit(attr, d string, c *Claim, add addFunc) {
	if c.Age < 0 {
		return
	}
	for _, g := range ch.cm.AgeGroups() {
		if g.Name != attr || (c.Date != 0 && (c.Date < g.From || c.Date > g.To)) {
			continue
		}
		if c.Age < g.Low || c.Age > g.High {
			add(EditAge, SevError, "Check the patient's age on the registration and the code.", "%s is a %s code (ages %d–%d); the patient is %d.", []string{d}, d, strings.ToLower(attr), g.Low, g.High, c.Age)
		}
		return
	}
}

// mceProcedure runs the MCE procedure edits.
func (ch *Checker) mceProcedure(con *codeset.Concept, c *Claim, add addFunc) {
	d := con.Code()
	for _, a := range con.Attributes(c.Date) {
		switch {
		case strings.HasPrefix(a, "NCOV"):
			add(EditNonCovered, SevError, "Medicare does not cover it (or only with the secondary diagnoses its coverage rule names); confirm the code, or expect the line to be denied.", "%s is a non-covered procedure (MCE %s).", []string{d}, d, a)
		case a == "LCOV":
			add(EditLimitedCoverage, SevWarning, "Coverage is limited to the cases the MCE names; make sure the record supports them.", "%s is a limited-coverage procedure (MCE).", []string{d}, d)
		case a == "MALE" || a == "FEMALE":
			ch.sexEdit(a, d, c, add)
		}
	}
}

// poa checks the present-on-admission indicator of one diagnosis.
func (ch *Checker) poa(con *codeset.Concept, poa string, add addFunc) {
	d := con.Display()
	poa = strings.ToUpper(strings.TrimSpace(poa))
	switch poa {
	case "":
		if !poaExempt(con.Code()) {
			add(EditPOAMissing, SevError, "Give Y, N, U or W (W: the provider cannot tell clinically).", "%s needs a present-on-admission indicator.", []string{d}, d)
		}
	case "Y", "N", "U", "W":
		if poaExempt(con.Code()) {
			add(EditPOAExempt, SevInfo, "Leave the indicator blank (or 1) for exempt codes.", "%s is exempt from POA reporting; the indicator %s is ignored.", []string{d}, d, poa)
		}
	case "1":
		if !poaExempt(con.Code()) {
			add(EditPOAInvalid, SevError, "Give Y, N, U or W.", "%s is not exempt from POA reporting; 1 (exempt) is not valid for it.", []string{d}, d)
		}
	default:
		add(EditPOAInvalid, SevError, "Give Y, N, U, W, or 1 for an exempt code.", "%q is not a POA indicator (%s).", []string{d}, poa, d)
	}
}
