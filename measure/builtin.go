package measure

import "slices"

// Value sets of the built-in measures (ICD-10-CM unless said). A site
// changes them by building its own Definitions from the criteria below.
var (
	AMI          = NewCodeSet(SystemICD10CM, "I21-I22")
	HeartFailure = NewCodeSet(SystemICD10CM, "I50", "I11.0", "I13.0", "I13.2")
	Pneumonia    = NewCodeSet(SystemICD10CM, "J12-J18", "J69.0")
	// Stroke follows AHRQ IQI 17: subarachnoid and intracerebral
	// haemorrhage and ischaemic stroke.
	Stroke       = NewCodeSet(SystemICD10CM, "I60-I61", "I63")
	Diabetes     = NewCodeSet(SystemICD10CM, "E10-E11", "E13")
	Hypertension = NewCodeSet(SystemICD10CM, "I10-I13")
	// Exclusions of the hypertension measure: end-stage renal disease,
	// dialysis or kidney transplant status, pregnancy.
	ESRD      = NewCodeSet(SystemICD10CM, "N18.6", "Z99.2", "Z94.0")
	Pregnancy = NewCodeSet(SystemICD10CM, "O00-O9A", "Z33", "Z34")

	// The planned-readmission rule has the structure of the CMS Planned
	// Readmission Algorithm: a readmission is planned when its principal
	// diagnosis is always planned (chemotherapy, radiotherapy,
	// rehabilitation, organ donation), when it has an always-planned
	// procedure (transplants), or when it has a potentially planned
	// procedure (ICD-10-PCS) and its principal diagnosis is not acute.
	// The sets are representative, not CMS's full CCS-based lists.
	PlannedDx         = NewCodeSet(SystemICD10CM, "Z51.0", "Z51.1", "Z51.89", "Z52")
	PlannedProcedures = NewCodeSet(SystemICD10PCS, "02YA", "0BYC", "0BYD", "0BYF", "0BYG", "0BYH", "0BYJ",
		"0BYK", "0BYL", "0BYM", "0FY0", "0FYG", "0TY0", "0TY1", "0DY8", "0DYE", "30233G", "30243G", "30233Y", "30243Y")
	PotentiallyPlannedProcedures = NewCodeSet(SystemICD10PCS, "0270", "0271", "0272", "0273", "0210", "0211",
		"0212", "0213", "0SR9", "0SRB", "0SRC", "0SRD", "0RG", "0SG", "0FT4", "0UT9", "0DTN", "0DTP", "02H", "0JH6")
	AcuteDx = NewCodeSet(SystemICD10CM, "I20.0", "I21-I22", "I46", "I50", "I60-I63", "J12-J18", "J44.1",
		"J96", "A40-A41", "N17", "N39.0", "K92", "T81.4", "T84", "R65.2", "I26", "I47-I49",
		"K35", "K56", "K80.0", "K80.1", "K80.4", "K81.0", "K85")
)

// Discharge dispositions (http://terminology.hl7.org/CodeSystem/discharge-disposition).
const (
	DispExpired       = "exp"
	DispAgainstAdvice = "aadvice"
	DispOtherHospital = "other-hcf" // transferred to another health-care facility
	AdmitTransfer     = "hosp-trans"
)

// Standard stratifiers: age band, sex, service, attending and month.
var (
	ByAgeBand = Stratifier{Code: "age-band", Description: "Age band (at admission for a stay, at the period's end for a patient)", Value: func(c *Case) string {
		at := c.Period.End
		if c.Encounter != nil && c.Encounter.Start != noDay {
			at = c.Encounter.Start
		}
		return AgeBand(c.Patient.Birth, at)
	}}
	BySex     = Stratifier{Code: "sex", Description: "Administrative sex", Value: func(c *Case) string { return cmpOr(c.Patient.Sex, "unknown") }}
	ByService = Stratifier{Code: "service", Description: "Service (Encounter.serviceType)", Value: func(c *Case) string {
		if e := caseEncounter(c); e != nil {
			return cmpOr(e.Service, "unknown")
		}
		return "unknown"
	}}
	ByAttending = Stratifier{Code: "attending", Description: "Attending practitioner", Value: func(c *Case) string {
		if e := caseEncounter(c); e != nil {
			return cmpOr(e.Attending, "unknown")
		}
		return "unknown"
	}}
	ByMonth = Stratifier{Code: "month", Description: "Month (of discharge for a stay, of the last visit in the period for a patient)", Value: func(c *Case) string {
		if e := caseEncounter(c); e != nil {
			if c.Encounter != nil {
				return e.End.Month()
			}
			return e.Start.Month()
		}
		return c.Period.End.Month()
	}}
	standardStrata = []Stratifier{ByMonth, ByAgeBand, BySex, ByService, ByAttending}
)

// caseEncounter is the case's encounter, or for a patient the last
// encounter that starts in the period.
func caseEncounter(c *Case) *Encounter {
	if c.Encounter != nil {
		return c.Encounter
	}
	return lastVisit(c.Patient, c.Period)
}

func lastVisit(p *Patient, period Period) *Encounter {
	var last *Encounter
	for _, e := range p.Encounters {
		if e.Known && visited(e) && period.Contains(e.Start) && (last == nil || e.StartAt > last.StartAt) {
			last = e
		}
	}
	return last
}

func visited(e *Encounter) bool {
	switch e.Status {
	case "cancelled", "entered-in-error", "planned":
		return false
	}
	return true
}

// AgeBand is the age band on day at of someone born on birth.
func AgeBand(birth, at Day) string {
	if birth == noDay {
		return "unknown"
	}
	switch a := yearsBetween(birth, at); {
	case a < 18:
		return "0-17"
	case a < 45:
		return "18-44"
	case a < 65:
		return "45-64"
	case a < 75:
		return "65-74"
	case a < 85:
		return "75-84"
	default:
		return "85+"
	}
}

// InpatientDischarge is an inpatient stay (class IMP, finished) whose
// discharge falls in the period.
func InpatientDischarge(c *Case) bool {
	e := c.Encounter
	return e != nil && e.Class == "IMP" && e.Status == "finished" && c.Period.Contains(e.End)
}

// PrincipalIn is true when the stay's principal diagnosis is in cs.
func PrincipalIn(cs *CodeSet) func(c *Case) bool {
	return func(c *Case) bool { return cs.Contains(c.Record().Principal(c.Encounter)) }
}

// Readmitted returns the patient's first inpatient admission that starts
// after the stay's discharge and within days days of it (by calendar day)
// if that admission is unplanned, or nil. As in the CMS readmission
// measures only the first readmission counts: when it is planned, a later
// unplanned one within the window is not an outcome of this stay.
func Readmitted(c *Case, days int) *Encounter {
	e, rec := c.Encounter, c.Record()
	var first *Encounter
	for _, o := range c.Patient.Encounters {
		if o == e || !o.Known || o.Class != "IMP" || !visited(o) || o.Start == noDay || e.End == noDay {
			continue
		}
		gap := int(o.Start - e.End)
		if gap < 0 || gap > days || (gap == 0 && o.StartAt < e.EndAt) {
			continue
		}
		if first == nil || o.StartAt < first.StartAt {
			first = o
		}
	}
	if first == nil || PlannedAdmission(rec, first) {
		return nil
	}
	return first
}

// PlannedAdmission applies the planned-readmission rule (see PlannedDx).
func PlannedAdmission(rec *Record, e *Encounter) bool {
	pdx := rec.Principal(e)
	if PlannedDx.Contains(pdx) {
		return true
	}
	procs := rec.ProcedureCodes(e)
	if slices.ContainsFunc(procs, PlannedProcedures.Contains) {
		return true
	}
	return slices.ContainsFunc(procs, PotentiallyPlannedProcedures.Contains) && !AcuteDx.Contains(pdx)
}

// LengthOfStay is a stay's length in days (discharge day less admission
// day, a same-day stay counting one).
func LengthOfStay(c *Case) (float64, bool) {
	e := c.Encounter
	if e == nil || e.Start == noDay || e.End == noDay {
		return 0, false
	}
	return float64(max(1, int(e.End-e.Start))), true
}

// hasCondition is true when the patient has a condition in cs whose onset
// (or recording) is on or before day.
func hasCondition(p *Patient, cs *CodeSet, day Day) bool {
	for _, c := range p.Conditions {
		if c.Onset != noDay && c.Onset <= day && (c.System == "" || c.System == cs.System) && cs.Contains(c.Code) {
			return true
		}
	}
	return false
}

// lastObservation is the most recent observation with one of codes in
// the period.
func lastObservation(p *Patient, codes []string, period Period) *Observation {
	var last *Observation
	for _, o := range p.Obs {
		if period.Contains(o.Date) && slices.Contains(codes, o.Code) && (last == nil || o.At > last.At) {
			last = o
		}
	}
	return last
}

func ageBetween(c *Case, lo, hi int) bool {
	if c.Patient.Birth == noDay {
		return false
	}
	a := yearsBetween(c.Patient.Birth, c.Period.End)
	return a >= lo && a <= hi
}

func diedBy(p *Patient, d Day) bool {
	return p.Died && (p.Death == noDay || p.Death <= d)
}

func crit(desc string, fn func(*Case) bool) Criteria { return Criteria{Description: desc, Fn: fn} }

// Builtins returns the built-in measures, in a fixed order.
func Builtins() []*Definition {
	defs := []*Definition{readmission()}
	defs = append(defs, mortality("mortality-inpatient", "MortalityInpatient", "In-hospital mortality, all inpatient discharges", nil))
	defs = append(defs, mortality("mortality-ami", "MortalityAMI", "In-hospital mortality, acute myocardial infarction", AMI))
	defs = append(defs, mortality("mortality-heart-failure", "MortalityHeartFailure", "In-hospital mortality, heart failure", HeartFailure))
	defs = append(defs, mortality("mortality-pneumonia", "MortalityPneumonia", "In-hospital mortality, pneumonia", Pneumonia))
	defs = append(defs, mortality("mortality-stroke", "MortalityStroke", "In-hospital mortality, stroke", Stroke))
	defs = append(defs, lengthOfStay(), hac(), diabetesPoorControl(), hypertensionControl())
	return defs
}

// Find returns the built-in measure with id (nil if none).
func Find(defs []*Definition, id string) *Definition {
	for _, d := range defs {
		if d.ID == id {
			return d
		}
	}
	return nil
}

func readmission() *Definition {
	return &Definition{
		ID: "readmission-30day", Name: "Readmission30Day", Version: "1",
		Title:       "30-day all-cause unplanned readmission after inpatient discharge",
		Description: "Share of inpatient discharges in the period followed by an unplanned inpatient admission of the same patient within 30 days of discharge. Stays ending in death, in a transfer to another facility or against medical advice are excluded; planned readmissions are recognised from their codes.",
		Scoring:     Proportion, Type: "outcome", Improvement: "decrease", Basis: BasisEncounter,
		Populations: []Population{
			{InitialPopulation, crit("Inpatient stays (class IMP, finished) discharged in the period", InpatientDischarge)},
			{Denominator, crit("The initial population", func(*Case) bool { return true })},
			{DenominatorExclusion, crit("Discharged dead, to another health-care facility (transfer) or against medical advice", func(c *Case) bool {
				switch c.Encounter.Disposition {
				case DispExpired, DispOtherHospital, DispAgainstAdvice:
					return true
				}
				return diedBy(c.Patient, c.Encounter.End)
			})},
			{Numerator, crit("The first inpatient admission 0–30 days after discharge is unplanned", func(c *Case) bool { return Readmitted(c, 30) != nil })},
		},
		Stratifiers: standardStrata,
	}
}

func mortality(id, name, title string, cs *CodeSet) *Definition {
	ip := crit("Inpatient stays (class IMP, finished) discharged in the period", InpatientDischarge)
	desc := "Share of inpatient discharges in the period that ended in death (discharge disposition exp)."
	if cs != nil {
		ip = crit("Inpatient stays discharged in the period with a principal diagnosis in "+cs.String(), func(c *Case) bool {
			return InpatientDischarge(c) && cs.Contains(c.Record().Principal(c.Encounter))
		})
		desc = "Share of inpatient discharges in the period with a principal diagnosis in " + cs.String() + " that ended in death (discharge disposition exp)."
	}
	return &Definition{
		ID: id, Name: name, Version: "1", Title: title, Description: desc + " Stays admitted by transfer from another hospital are excluded.",
		Scoring: Proportion, Type: "outcome", Improvement: "decrease", Basis: BasisEncounter,
		Populations: []Population{
			{InitialPopulation, ip},
			{Denominator, crit("The initial population", func(*Case) bool { return true })},
			{DenominatorExclusion, crit("Admitted by transfer from another hospital", func(c *Case) bool { return c.Encounter.AdmitSource == AdmitTransfer })},
			{Numerator, crit("Discharged dead", func(c *Case) bool { return c.Encounter.Disposition == DispExpired })},
		},
		Stratifiers: standardStrata,
	}
}

func lengthOfStay() *Definition {
	return &Definition{
		ID: "length-of-stay", Name: "LengthOfStay", Version: "1", Title: "Length of stay",
		Description: "Mean length of stay in days (discharge day less admission day, at least one) of inpatient discharges in the period; observed over expected when expected lengths of stay (DRG weights) are loaded.",
		Scoring:     ContinuousVariable, Type: "outcome", Improvement: "decrease", Basis: BasisEncounter,
		Populations: []Population{
			{InitialPopulation, crit("Inpatient stays (class IMP, finished) discharged in the period", InpatientDischarge)},
			{MeasurePopulation, crit("The initial population", func(*Case) bool { return true })},
		},
		Observation: LengthOfStay, ObservationUnit: "d",
		Stratifiers: standardStrata,
	}
}

func hac() *Definition {
	return &Definition{
		ID: "hospital-acquired-conditions", Name: "HospitalAcquiredConditions", Version: "1",
		Title:       "Hospital-acquired conditions (secondary diagnoses not present on admission)",
		Description: "Share of coded inpatient discharges in the period with at least one secondary diagnosis reported not present on admission (POA N or U). POA comes from the stay's coded Claim (Claim.diagnosis.onAdmission); stays without one cannot be judged and are not in the denominator.",
		Scoring:     Proportion, Type: "outcome", Improvement: "decrease", Basis: BasisEncounter,
		Populations: []Population{
			{InitialPopulation, crit("Inpatient stays (class IMP, finished) discharged in the period", InpatientDischarge)},
			{Denominator, crit("Coded: a Claim with diagnoses refers to the stay", func(c *Case) bool {
				return c.Encounter.Claim != nil && len(c.Encounter.Claim.Diagnoses) > 0
			})},
			{Numerator, crit("A secondary diagnosis with POA N or U", func(c *Case) bool {
				for _, d := range c.Encounter.Claim.Diagnoses[1:] {
					if d.POA == "N" || d.POA == "U" {
						return true
					}
				}
				return false
			})},
		},
		Stratifiers: standardStrata,
	}
}

func activePatient(c *Case) bool { return lastVisit(c.Patient, c.Period) != nil }

func diabetesPoorControl() *Definition {
	return &Definition{
		ID: "diabetes-hba1c-poor-control", Name: "DiabetesHbA1cPoorControl", Version: "1",
		Title:       "Diabetes: HbA1c poor control (> 9%)",
		Description: "Patients aged 18–75 at the period's end with diabetes (E10, E11, E13) diagnosed by then and a visit in the period, whose most recent HbA1c in the period is above 9% or who had none. An inverse measure: lower is better.",
		Scoring:     Proportion, Type: "process", Improvement: "decrease", Basis: BasisPatient,
		Populations: []Population{
			{InitialPopulation, crit("Aged 18–75, diabetes diagnosed by the period's end, a visit in the period", func(c *Case) bool {
				return ageBetween(c, 18, 75) && activePatient(c) && hasCondition(c.Patient, Diabetes, c.Period.End)
			})},
			{Denominator, crit("The initial population", func(*Case) bool { return true })},
			{DenominatorExclusion, crit("Died by the period's end", func(c *Case) bool { return diedBy(c.Patient, c.Period.End) })},
			{Numerator, crit("Most recent HbA1c in the period > 9%, or none", func(c *Case) bool {
				o := lastObservation(c.Patient, HbA1cCodes, c.Period)
				return o == nil || !o.HasValue || o.Value > 9
			})},
		},
		Stratifiers: standardStrata,
	}
}

func hypertensionControl() *Definition {
	return &Definition{
		ID: "hypertension-controlled", Name: "HypertensionControlled", Version: "1",
		Title:       "Hypertension: blood pressure controlled (< 140/90 mmHg)",
		Description: "Patients aged 18–85 at the period's end with hypertension (I10–I13) diagnosed by then and a visit in the period, whose most recent blood pressure in the period was below 140 systolic and 90 diastolic. Excluded: end-stage renal disease, dialysis or kidney transplant, pregnancy in the period, death by the period's end.",
		Scoring:     Proportion, Type: "outcome", Improvement: "increase", Basis: BasisPatient,
		Populations: []Population{
			{InitialPopulation, crit("Aged 18–85, hypertension diagnosed by the period's end, a visit in the period", func(c *Case) bool {
				return ageBetween(c, 18, 85) && activePatient(c) && hasCondition(c.Patient, Hypertension, c.Period.End)
			})},
			{Denominator, crit("The initial population", func(*Case) bool { return true })},
			{DenominatorExclusion, crit("ESRD, dialysis or kidney transplant by the period's end; pregnancy in the period; died", func(c *Case) bool {
				if diedBy(c.Patient, c.Period.End) || hasCondition(c.Patient, ESRD, c.Period.End) {
					return true
				}
				for _, cd := range c.Patient.Conditions {
					if c.Period.Contains(cd.Onset) && Pregnancy.Contains(cd.Code) {
						return true
					}
				}
				return false
			})},
			{Numerator, crit("Most recent blood pressure in the period < 140/90", func(c *Case) bool {
				o := lastObservation(c.Patient, BPPanelCodes, c.Period)
				return o != nil && o.HasValue && o.HasDiastol && o.Value < 140 && o.Diastolic < 90
			})},
		},
		Stratifiers: standardStrata,
	}
}
