package measure

// Basis is what one case of a measure is: a patient, or an encounter
// (for stay-level measures such as readmission and mortality).
type Basis string

// The bases of a measure.
const (
	BasisPatient   Basis = "Patient"
	BasisEncounter Basis = "Encounter"
)

// Scoring is how a measure's populations become a score (FHIR
// measure-scoring).
type Scoring string

// The scorings supported.
const (
	Proportion         Scoring = "proportion"
	ContinuousVariable Scoring = "continuous-variable"
)

// Population codes (FHIR measure-population).
const (
	InitialPopulation          = "initial-population"
	Denominator                = "denominator"
	DenominatorExclusion       = "denominator-exclusion"
	Numerator                  = "numerator"
	MeasurePopulation          = "measure-population"
	MeasurePopulationExclusion = "measure-population-exclusion"
	MeasureObservation         = "measure-observation"
)

// Case is one subject of a measure being evaluated: a patient, and for an
// encounter-based measure one of the patient's encounters.
type Case struct {
	Patient   *Patient
	Encounter *Encounter // nil for a patient-based measure
	Period    Period
	View      *View
}

// Record returns the record the case is read from.
func (c *Case) Record() *Record { return c.View.r }

// Criterion decides whether a case belongs to a population. The case is
// only valid during the call. It is the
// seam for a CQL engine: an ELM expression ("define \"Denominator\": …")
// compiled against the record (or read through the engine's own data
// provider) is a Criterion like the built-in ones.
type Criterion interface {
	Match(c *Case) bool
}

// Criteria is a Criterion written as a Go function, with its description
// (what Measure.group.population.criteria says).
type Criteria struct {
	Description string
	Fn          func(c *Case) bool
}

// Match implements Criterion.
func (c Criteria) Match(cs *Case) bool { return c.Fn(cs) }

// Describe returns the criterion's description.
func (c Criteria) Describe() string { return c.Description }

// Stratifier splits the populations by a value of each case.
type Stratifier struct {
	Code, Description string
	Value             func(c *Case) string
}

// Observer gives a case's measure observation (continuous-variable
// scoring), such as a length of stay in days; ok is false when the case
// has none.
type Observer func(c *Case) (value float64, ok bool)

// Expected gives a case's expected observation (for observed/expected):
// the length of stay expected for a stay's DRG, say. ok is false when it
// cannot be known (no DRG weights loaded, no claim).
type Expected interface {
	Expected(c *Case) (value float64, ok bool)
}

// Population is one population of a measure with its criterion.
type Population struct {
	Code     string
	Criteria Criterion
}

// Definition is a declarative measure: its populations (by code), how a
// case is found (Basis), its stratifiers and, for continuous variables,
// its observation. A period is given at evaluation.
type Definition struct {
	ID, Name, Title, Description string
	Version                      string
	Scoring                      Scoring
	// Type is the measure type (outcome, process, …) and Improvement the
	// improvement notation (increase or decrease).
	Type, Improvement string
	Basis             Basis
	Populations       []Population
	Observation       Observer
	ObservationUnit   string
	Stratifiers       []Stratifier
	// Anchor places a case in time for the month stratifier (default: the
	// encounter's end; for a patient the period's last encounter).
	Anchor func(c *Case) Day
}

// URL is the measure's canonical URL.
func (d *Definition) URL() string { return CanonicalBase + d.ID }

// CanonicalBase prefixes the canonical URLs of Custodian's measures.
const CanonicalBase = "https://custodian.example/fhir/Measure/"

// population returns the criterion for code (nil if the measure has none).
func (d *Definition) population(code string) Criterion {
	for _, p := range d.Populations {
		if p.Code == code {
			return p.Criteria
		}
	}
	return nil
}
