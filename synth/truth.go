package synth

import (
	"encoding/json"
	"fmt"
	"io"
)

// Fact kinds: what the generator injected, so that every HIM module's
// tests can score themselves. References are "Type/id".
const (
	// FactDuplicate: Patient and Other are two registrations of the same
	// person; Variations lists how the second (Other) differs.
	FactDuplicate = "duplicate"
	// FactNotDuplicate: Patient and Other are different people whose
	// records look alike; Detail is the trap (TrapTwin, TrapJuniorSenior,
	// TrapNamesake, or a household: TrapSpouse, TrapParentChild). They
	// must never be linked automatically.
	FactNotDuplicate = "not-duplicate"
	// FactDeficiency: a chart deficiency of inpatient Encounter; Detail is
	// one of the Def* kinds, Resource the note or procedure concerned (if
	// any), Date the day concerned (missing progress note) or when the late
	// note was signed.
	FactDeficiency = "deficiency"
	// FactReadmission: inpatient Encounter began within 30 days of the
	// discharge from inpatient Prior (same person, possibly another of
	// their registrations: Patient is Encounter's, Other is Prior's); Days
	// is the gap in whole days; Detail is "planned" or "unplanned".
	FactReadmission = "readmission"
	// FactDeath: Patient died on Date; Detail is "in-hospital" (Encounter
	// is the stay, discharge disposition "exp") or "outside".
	FactDeath = "death"
	// FactIdentifier: an identifier planted in the text of note Resource:
	// Detail is its kind (name, mrn, phone, ssn, date, age), Text the
	// characters and Span their byte offsets [start, end) in the decoded
	// note text.
	FactIdentifier = "identifier"
	// FactCoding: the expected coding of inpatient Encounter: Principal
	// diagnosis, every diagnosis in sequence with present-on-admission
	// (Diagnoses), and the ICD-10-PCS Procedures.
	FactCoding = "coding"
	// FactOverlay: one record holds two people's data. Encounter (with
	// everything recorded in it) belongs to the person whose first
	// registration is Other but is filed under Patient, another person's
	// record.
	FactOverlay = "overlay"
	// FactTransferIn: inpatient Encounter was admitted by transfer from
	// another hospital (hospitalization.admitSource, code in Detail).
	FactTransferIn = "transfer-in"
	// FactTransferOut: inpatient Encounter ended in a transfer to another
	// acute care facility (dischargeDisposition, code in Detail).
	FactTransferOut = "transfer-out"
	// FactAgainstAdvice: the patient left inpatient Encounter against
	// medical advice (dischargeDisposition "aadvice").
	FactAgainstAdvice = "against-advice"
	// FactSensitive: Resource carries sensitive security labels
	// (meta.security); Detail is the category (Sensitive* constants) and
	// Text the labels as "system|code" joined by spaces.
	FactSensitive = "sensitive"
	// FactStage: the cancer of Patient coded Text (ICD-10-CM) is staged
	// Detail (AJCC stage group I–IV) on problem-list Condition Resource
	// (Condition.stage) and in the staging Observation Other (LOINC
	// 21908-9).
	FactStage = "stage"
)

// Sensitive categories (Fact.Detail of FactSensitive).
const (
	SensitiveSubstanceUse  = "substance-use" // alcohol or drug use disorder (ETH; a SUD program's note also 42CFRPart2)
	SensitiveHIV           = "hiv"           // HIV infection (HIV)
	SensitivePsychotherapy = "psychotherapy" // a psychotherapy note (PSYTHPN)
)

// Deficiency kinds (Fact.Detail of FactDeficiency).
const (
	DefMissingDischargeSummary = "missing-discharge-summary"     // none filed, and discharge was more than 30 days before End
	DefLateDischargeSummary    = "late-discharge-summary"        // signed more than 30 days after discharge
	DefMissingHP               = "missing-hp"                    // no history and physical
	DefLateHP                  = "late-hp"                       // H&P signed more than 24 h after admission
	DefMissingProgressNote     = "missing-progress-note"         // no progress note on Date (an inpatient day)
	DefMissingOperativeNote    = "missing-operative-note"        // no operative note for Procedure Resource
	DefMissingConsent          = "missing-consent"               // no consent before Procedure Resource
	DefUnsigned                = "unsigned"                      // note Resource has no authenticator (docStatus preliminary)
	DefMissingCosignature      = "missing-cosignature"           // note Resource written by a resident, signed by no attending
	DefLateOperativeNote       = "late-operative-note"           // the operative note of Procedure Resource signed more than 24 h after it ended (Date)
	DefLateConsent             = "late-consent"                  // the consent to Procedure Resource dated after it began (Date)
	DefMissingAttending        = "missing-attending"             // the Encounter names no attending (participant ATND)
	DefMissingAdmitSource      = "missing-admission-source"      // the Encounter has no hospitalization.admitSource
	DefMissingDisposition      = "missing-discharge-disposition" // the Encounter has no hospitalization.dischargeDisposition
	DefDatesOutOfOrder         = "dates-out-of-order"            // Resource: a note signed before it was written, or a Procedure after the discharge
	DefImplausibleValue        = "implausible-value"             // Observation Resource holds a value no body has (a unit or keying error)
	DefCodeSexConflict         = "code-sex-conflict"             // Condition Resource's code is for the other sex
	DefCodeAgeConflict         = "code-age-conflict"             // Condition Resource's code is for another age group
	DefCodeInvalidForDate      = "code-invalid-for-date"         // Condition Resource's code (Text) was not yet valid on the discharge date
	DefDxNotDocumented         = "diagnosis-not-documented"      // Condition Resource is coded but the discharge summary does not state it
	DefDxNotCoded              = "diagnosis-not-coded"           // discharge summary Resource states diagnosis Text on a diagnosis line; nothing codes it
	DefUnsignedAmendment       = "unsigned-amendment"            // note Resource amends (replaces) the signed note Replaces and is not signed
)

// Fact is one ground-truth record. Which fields are set depends on Kind
// (see the Fact* constants).
type Fact struct {
	Kind       string   `json:"kind"`
	Detail     string   `json:"detail,omitempty"`
	Patient    string   `json:"patient,omitempty"`
	Other      string   `json:"other,omitempty"`
	Encounter  string   `json:"encounter,omitempty"`
	Prior      string   `json:"prior,omitempty"`
	Resource   string   `json:"resource,omitempty"`
	Date       string   `json:"date,omitempty"`
	Days       int      `json:"days,omitempty"`
	Variations []string `json:"variations,omitempty"`
	Text       string   `json:"text,omitempty"`
	Span       []int    `json:"span,omitempty"`
	Principal  string   `json:"principal,omitempty"`
	Diagnoses  []DxPOA  `json:"diagnoses,omitempty"`
	Procedures []string `json:"procedures,omitempty"`
	Replaces   string   `json:"replaces,omitempty"`
}

// DxPOA is a coded diagnosis with its present-on-admission indicator:
// "Y", "N", or "" for codes this generator does not report POA for
// (Z codes and external causes).
type DxPOA struct {
	Code string `json:"code"`
	POA  string `json:"poa,omitempty"`
}

// ReadFacts reads a ground-truth file (NDJSON, as DirWriter writes it)
// and calls fn for each fact, in order.
func ReadFacts(r io.Reader, fn func(*Fact) error) error {
	dec := json.NewDecoder(r)
	for line := 1; ; line++ {
		var f Fact
		if err := dec.Decode(&f); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("synth: ground truth fact %d: %w", line, err)
		}
		if err := fn(&f); err != nil {
			return err
		}
	}
}
