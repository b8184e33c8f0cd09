package synth

import (
	"strconv"
)

// The types in this file are the JSON shapes of the FHIR R4 elements the
// generator writes. They are plain structs with omitempty tags so that
// encoding/json writes compact resources quickly, in the order FHIR lists
// the elements. Only the elements the generator fills are declared.

// System URIs used throughout the generated data.
const (
	SystemMRN     = "https://custodian.example/fhir/mrn" // medical record numbers (Patient.identifier, type MR)
	SystemSSN     = "http://hl7.org/fhir/sid/us-ssn"
	SystemNPI     = "http://hl7.org/fhir/sid/us-npi"
	SystemICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
	SystemICD10PC = "http://www.cms.gov/Medicare/Coding/ICD10"
	SystemLOINC   = "http://loinc.org"
	SystemSNOMED  = "http://snomed.info/sct"
	SystemRxNorm  = "http://www.nlm.nih.gov/research/umls/rxnorm"
	SystemUCUM    = "http://unitsofmeasure.org"
	SystemNUCC    = "http://nucc.org/provider-taxonomy"
	SystemDICOM   = "http://dicom.nema.org/resources/ontology/DCM"

	sysV2IDType        = "http://terminology.hl7.org/CodeSystem/v2-0203"
	sysActCode         = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	sysParticipation   = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	sysMarital         = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"
	sysAdmitSource     = "http://terminology.hl7.org/CodeSystem/admit-source"
	sysDischarge       = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
	sysDiagRole        = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
	sysConditionCat    = "http://terminology.hl7.org/CodeSystem/condition-category"
	sysConditionClin   = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	sysConditionVer    = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
	sysObsCategory     = "http://terminology.hl7.org/CodeSystem/observation-category"
	sysInterpretation  = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
	sysV2Service       = "http://terminology.hl7.org/CodeSystem/v2-0074"
	sysAllergyClin     = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
	sysAllergyVer      = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
	sysOrgType         = "http://terminology.hl7.org/CodeSystem/organization-type"
	sysLocPhysical     = "http://terminology.hl7.org/CodeSystem/location-physical-type"
	sysConsentScope    = "http://terminology.hl7.org/CodeSystem/consentscope"
	sysMedReqCategory  = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"
	sysPractitionerRol = "https://custodian.example/fhir/CodeSystem/practitioner-role"
	sysDocClass        = "http://loinc.org"
	sysUSCoreDocCat    = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
)

// Decimal is a FHIR decimal written with a fixed number of places, so that
// 7.0 stays 7.0 (the precision is part of a FHIR decimal's meaning).
type Decimal struct {
	V      float64
	Places int
}

// MarshalJSON writes the number with d.Places decimals.
func (d Decimal) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, d.V, 'f', d.Places, 64), nil
}

// Coding is a FHIR Coding.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is a FHIR CodeableConcept.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

func cc(system, code, display string) *CodeableConcept {
	return &CodeableConcept{Coding: []Coding{{System: system, Code: code, Display: display}}}
}

func ccs(system, code, display string) []CodeableConcept {
	return []CodeableConcept{*cc(system, code, display)}
}

// Reference is a FHIR Reference; Reference is always a literal "Type/id".
type Reference struct {
	Reference string `json:"reference,omitempty"`
	Display   string `json:"display,omitempty"`
}

func ref(s string) *Reference { return &Reference{Reference: s} }

// Identifier is a FHIR Identifier.
type Identifier struct {
	Use    string           `json:"use,omitempty"`
	Type   *CodeableConcept `json:"type,omitempty"`
	System string           `json:"system,omitempty"`
	Value  string           `json:"value,omitempty"`
}

// HumanName is a FHIR HumanName.
type HumanName struct {
	Use    string   `json:"use,omitempty"`
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
	Prefix []string `json:"prefix,omitempty"`
	Suffix []string `json:"suffix,omitempty"`
}

// Address is a FHIR Address.
type Address struct {
	Use        string   `json:"use,omitempty"`
	Type       string   `json:"type,omitempty"`
	Line       []string `json:"line,omitempty"`
	City       string   `json:"city,omitempty"`
	State      string   `json:"state,omitempty"`
	PostalCode string   `json:"postalCode,omitempty"`
	Country    string   `json:"country,omitempty"`
}

// ContactPoint is a FHIR ContactPoint.
type ContactPoint struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
	Use    string `json:"use,omitempty"`
}

// Meta is Resource.meta (only its security labels).
type Meta struct {
	Security []Coding `json:"security,omitempty"`
}

// Period is a FHIR Period.
type Period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// Quantity is a FHIR Quantity (also used for Duration).
type Quantity struct {
	Value  *Decimal `json:"value,omitempty"`
	Unit   string   `json:"unit,omitempty"`
	System string   `json:"system,omitempty"`
	Code   string   `json:"code,omitempty"`
}

// Attachment is a FHIR Attachment.
type Attachment struct {
	ContentType string `json:"contentType,omitempty"`
	Language    string `json:"language,omitempty"`
	Data        string `json:"data,omitempty"`
	URL         string `json:"url,omitempty"`
	Size        int    `json:"size,omitempty"`
	Title       string `json:"title,omitempty"`
	Creation    string `json:"creation,omitempty"`
}

// Patient is a FHIR Patient.
type Patient struct {
	ResourceType     string           `json:"resourceType"`
	ID               string           `json:"id"`
	Identifier       []Identifier     `json:"identifier,omitempty"`
	Active           bool             `json:"active"`
	Name             []HumanName      `json:"name,omitempty"`
	Telecom          []ContactPoint   `json:"telecom,omitempty"`
	Gender           string           `json:"gender,omitempty"`
	BirthDate        string           `json:"birthDate,omitempty"`
	DeceasedDateTime string           `json:"deceasedDateTime,omitempty"`
	Address          []Address        `json:"address,omitempty"`
	MaritalStatus    *CodeableConcept `json:"maritalStatus,omitempty"`
	MultipleBirth    *bool            `json:"multipleBirthBoolean,omitempty"`
	GeneralPract     []Reference      `json:"generalPractitioner,omitempty"`
	ManagingOrg      *Reference       `json:"managingOrganization,omitempty"`
}

// Organization is a FHIR Organization.
type Organization struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Identifier   []Identifier      `json:"identifier,omitempty"`
	Active       bool              `json:"active"`
	Type         []CodeableConcept `json:"type,omitempty"`
	Name         string            `json:"name,omitempty"`
	Telecom      []ContactPoint    `json:"telecom,omitempty"`
	Address      []Address         `json:"address,omitempty"`
	PartOf       *Reference        `json:"partOf,omitempty"`
}

// Location is a FHIR Location.
type Location struct {
	ResourceType         string            `json:"resourceType"`
	ID                   string            `json:"id"`
	Status               string            `json:"status,omitempty"`
	Name                 string            `json:"name,omitempty"`
	Mode                 string            `json:"mode,omitempty"`
	Type                 []CodeableConcept `json:"type,omitempty"`
	Address              *Address          `json:"address,omitempty"`
	PhysicalType         *CodeableConcept  `json:"physicalType,omitempty"`
	ManagingOrganization *Reference        `json:"managingOrganization,omitempty"`
	PartOf               *Reference        `json:"partOf,omitempty"`
}

// Practitioner is a FHIR Practitioner.
type Practitioner struct {
	ResourceType  string            `json:"resourceType"`
	ID            string            `json:"id"`
	Identifier    []Identifier      `json:"identifier,omitempty"`
	Active        bool              `json:"active"`
	Name          []HumanName       `json:"name,omitempty"`
	Telecom       []ContactPoint    `json:"telecom,omitempty"`
	Gender        string            `json:"gender,omitempty"`
	Qualification []Qualification   `json:"qualification,omitempty"`
	Communication []CodeableConcept `json:"communication,omitempty"`
}

// Qualification is Practitioner.qualification.
type Qualification struct {
	Code CodeableConcept `json:"code"`
}

// PractitionerRole is a FHIR PractitionerRole.
type PractitionerRole struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Active       bool              `json:"active"`
	Practitioner *Reference        `json:"practitioner,omitempty"`
	Organization *Reference        `json:"organization,omitempty"`
	Code         []CodeableConcept `json:"code,omitempty"`
	Specialty    []CodeableConcept `json:"specialty,omitempty"`
	Location     []Reference       `json:"location,omitempty"`
}

// Encounter is a FHIR Encounter.
type Encounter struct {
	ResourceType    string                 `json:"resourceType"`
	ID              string                 `json:"id"`
	Identifier      []Identifier           `json:"identifier,omitempty"`
	Status          string                 `json:"status"`
	Class           Coding                 `json:"class"`
	Type            []CodeableConcept      `json:"type,omitempty"`
	ServiceType     *CodeableConcept       `json:"serviceType,omitempty"`
	Priority        *CodeableConcept       `json:"priority,omitempty"`
	Subject         *Reference             `json:"subject,omitempty"`
	Participant     []EncounterParticipant `json:"participant,omitempty"`
	Period          *Period                `json:"period,omitempty"`
	Length          *Quantity              `json:"length,omitempty"`
	ReasonCode      []CodeableConcept      `json:"reasonCode,omitempty"`
	Diagnosis       []EncounterDiagnosis   `json:"diagnosis,omitempty"`
	Hospitalization *Hospitalization       `json:"hospitalization,omitempty"`
	Location        []EncounterLocation    `json:"location,omitempty"`
	ServiceProvider *Reference             `json:"serviceProvider,omitempty"`
}

// EncounterParticipant is Encounter.participant.
type EncounterParticipant struct {
	Type       []CodeableConcept `json:"type,omitempty"`
	Period     *Period           `json:"period,omitempty"`
	Individual *Reference        `json:"individual,omitempty"`
}

// EncounterDiagnosis is Encounter.diagnosis.
type EncounterDiagnosis struct {
	Condition Reference        `json:"condition"`
	Use       *CodeableConcept `json:"use,omitempty"`
	Rank      int              `json:"rank,omitempty"`
}

// Hospitalization is Encounter.hospitalization.
type Hospitalization struct {
	AdmitSource          *CodeableConcept `json:"admitSource,omitempty"`
	ReAdmission          *CodeableConcept `json:"reAdmission,omitempty"`
	DischargeDisposition *CodeableConcept `json:"dischargeDisposition,omitempty"`
}

// EncounterLocation is Encounter.location.
type EncounterLocation struct {
	Location Reference `json:"location"`
	Status   string    `json:"status,omitempty"`
	Period   *Period   `json:"period,omitempty"`
}

// Condition is a FHIR Condition.
type Condition struct {
	ResourceType       string            `json:"resourceType"`
	ID                 string            `json:"id"`
	Meta               *Meta             `json:"meta,omitempty"`
	ClinicalStatus     *CodeableConcept  `json:"clinicalStatus,omitempty"`
	VerificationStatus *CodeableConcept  `json:"verificationStatus,omitempty"`
	Category           []CodeableConcept `json:"category,omitempty"`
	Code               *CodeableConcept  `json:"code,omitempty"`
	Subject            Reference         `json:"subject"`
	Encounter          *Reference        `json:"encounter,omitempty"`
	OnsetDateTime      string            `json:"onsetDateTime,omitempty"`
	AbatementDateTime  string            `json:"abatementDateTime,omitempty"`
	RecordedDate       string            `json:"recordedDate,omitempty"`
	Recorder           *Reference        `json:"recorder,omitempty"`
	Stage              []ConditionStage  `json:"stage,omitempty"`
}

// ConditionStage is Condition.stage.
type ConditionStage struct {
	Summary    *CodeableConcept `json:"summary,omitempty"`
	Assessment []Reference      `json:"assessment,omitempty"`
	Type       *CodeableConcept `json:"type,omitempty"`
}

// Procedure is a FHIR Procedure.
type Procedure struct {
	ResourceType    string            `json:"resourceType"`
	ID              string            `json:"id"`
	Status          string            `json:"status"`
	Category        *CodeableConcept  `json:"category,omitempty"`
	Code            *CodeableConcept  `json:"code,omitempty"`
	Subject         Reference         `json:"subject"`
	Encounter       *Reference        `json:"encounter,omitempty"`
	PerformedPeriod *Period           `json:"performedPeriod,omitempty"`
	Performer       []ProcPerformer   `json:"performer,omitempty"`
	Location        *Reference        `json:"location,omitempty"`
	ReasonReference []Reference       `json:"reasonReference,omitempty"`
	BodySite        []CodeableConcept `json:"bodySite,omitempty"`
}

// ProcPerformer is Procedure.performer.
type ProcPerformer struct {
	Function *CodeableConcept `json:"function,omitempty"`
	Actor    Reference        `json:"actor"`
}

// Observation is a FHIR Observation.
type Observation struct {
	ResourceType      string            `json:"resourceType"`
	ID                string            `json:"id"`
	Status            string            `json:"status"`
	Category          []CodeableConcept `json:"category,omitempty"`
	Code              CodeableConcept   `json:"code"`
	Subject           *Reference        `json:"subject,omitempty"`
	Focus             []Reference       `json:"focus,omitempty"`
	Encounter         *Reference        `json:"encounter,omitempty"`
	EffectiveDateTime string            `json:"effectiveDateTime,omitempty"`
	Issued            string            `json:"issued,omitempty"`
	Performer         []Reference       `json:"performer,omitempty"`
	ValueQuantity     *Quantity         `json:"valueQuantity,omitempty"`
	ValueCC           *CodeableConcept  `json:"valueCodeableConcept,omitempty"`
	Interpretation    []CodeableConcept `json:"interpretation,omitempty"`
	ReferenceRange    []ReferenceRange  `json:"referenceRange,omitempty"`
	Component         []ObsComponent    `json:"component,omitempty"`
}

// ObsComponent is Observation.component.
type ObsComponent struct {
	Code           CodeableConcept   `json:"code"`
	ValueQuantity  *Quantity         `json:"valueQuantity,omitempty"`
	Interpretation []CodeableConcept `json:"interpretation,omitempty"`
}

// ReferenceRange is Observation.referenceRange.
type ReferenceRange struct {
	Low  *Quantity `json:"low,omitempty"`
	High *Quantity `json:"high,omitempty"`
	Text string    `json:"text,omitempty"`
}

// DiagnosticReport is a FHIR DiagnosticReport.
type DiagnosticReport struct {
	ResourceType      string            `json:"resourceType"`
	ID                string            `json:"id"`
	Status            string            `json:"status"`
	Category          []CodeableConcept `json:"category,omitempty"`
	Code              CodeableConcept   `json:"code"`
	Subject           *Reference        `json:"subject,omitempty"`
	Encounter         *Reference        `json:"encounter,omitempty"`
	EffectiveDateTime string            `json:"effectiveDateTime,omitempty"`
	Issued            string            `json:"issued,omitempty"`
	Performer         []Reference       `json:"performer,omitempty"`
	ResultsInterp     []Reference       `json:"resultsInterpreter,omitempty"`
	Result            []Reference       `json:"result,omitempty"`
	ImagingStudy      []Reference       `json:"imagingStudy,omitempty"`
	Conclusion        string            `json:"conclusion,omitempty"`
	PresentedForm     []Attachment      `json:"presentedForm,omitempty"`
}

// ImagingStudy is a FHIR ImagingStudy.
type ImagingStudy struct {
	ResourceType      string            `json:"resourceType"`
	ID                string            `json:"id"`
	Identifier        []Identifier      `json:"identifier,omitempty"`
	Status            string            `json:"status"`
	Modality          []Coding          `json:"modality,omitempty"`
	Subject           Reference         `json:"subject"`
	Encounter         *Reference        `json:"encounter,omitempty"`
	Started           string            `json:"started,omitempty"`
	Referrer          *Reference        `json:"referrer,omitempty"`
	Interpreter       []Reference       `json:"interpreter,omitempty"`
	NumberOfSeries    int               `json:"numberOfSeries,omitempty"`
	NumberOfInstances int               `json:"numberOfInstances,omitempty"`
	ProcedureCode     []CodeableConcept `json:"procedureCode,omitempty"`
	Location          *Reference        `json:"location,omitempty"`
	ReasonReference   []Reference       `json:"reasonReference,omitempty"`
	Description       string            `json:"description,omitempty"`
	Series            []ImagingSeries   `json:"series,omitempty"`
}

// ImagingSeries is ImagingStudy.series.
type ImagingSeries struct {
	UID               string            `json:"uid"`
	Number            int               `json:"number,omitempty"`
	Modality          Coding            `json:"modality"`
	Description       string            `json:"description,omitempty"`
	NumberOfInstances int               `json:"numberOfInstances,omitempty"`
	BodySite          *Coding           `json:"bodySite,omitempty"`
	Started           string            `json:"started,omitempty"`
	Instance          []ImagingInstance `json:"instance,omitempty"`
}

// ImagingInstance is ImagingStudy.series.instance.
type ImagingInstance struct {
	UID      string `json:"uid"`
	SopClass Coding `json:"sopClass"`
	Number   int    `json:"number,omitempty"`
}

// MedicationRequest is a FHIR MedicationRequest.
type MedicationRequest struct {
	ResourceType      string            `json:"resourceType"`
	ID                string            `json:"id"`
	Status            string            `json:"status"`
	Intent            string            `json:"intent"`
	Category          []CodeableConcept `json:"category,omitempty"`
	MedicationCC      *CodeableConcept  `json:"medicationCodeableConcept,omitempty"`
	Subject           Reference         `json:"subject"`
	Encounter         *Reference        `json:"encounter,omitempty"`
	AuthoredOn        string            `json:"authoredOn,omitempty"`
	Requester         *Reference        `json:"requester,omitempty"`
	ReasonReference   []Reference       `json:"reasonReference,omitempty"`
	DosageInstruction []Dosage          `json:"dosageInstruction,omitempty"`
}

// Dosage is a (simplified) FHIR Dosage.
type Dosage struct {
	Sequence int              `json:"sequence,omitempty"`
	Text     string           `json:"text,omitempty"`
	Route    *CodeableConcept `json:"route,omitempty"`
}

// AllergyIntolerance is a FHIR AllergyIntolerance.
type AllergyIntolerance struct {
	ResourceType       string            `json:"resourceType"`
	ID                 string            `json:"id"`
	ClinicalStatus     *CodeableConcept  `json:"clinicalStatus,omitempty"`
	VerificationStatus *CodeableConcept  `json:"verificationStatus,omitempty"`
	Type               string            `json:"type,omitempty"`
	Category           []string          `json:"category,omitempty"`
	Criticality        string            `json:"criticality,omitempty"`
	Code               *CodeableConcept  `json:"code,omitempty"`
	Patient            Reference         `json:"patient"`
	RecordedDate       string            `json:"recordedDate,omitempty"`
	Recorder           *Reference        `json:"recorder,omitempty"`
	Reaction           []AllergyReaction `json:"reaction,omitempty"`
}

// AllergyReaction is AllergyIntolerance.reaction.
type AllergyReaction struct {
	Manifestation []CodeableConcept `json:"manifestation"`
	Severity      string            `json:"severity,omitempty"`
}

// DocumentReference is a FHIR DocumentReference.
type DocumentReference struct {
	ResourceType  string            `json:"resourceType"`
	ID            string            `json:"id"`
	Meta          *Meta             `json:"meta,omitempty"`
	Status        string            `json:"status"`
	DocStatus     string            `json:"docStatus,omitempty"`
	Type          *CodeableConcept  `json:"type,omitempty"`
	Category      []CodeableConcept `json:"category,omitempty"`
	Subject       *Reference        `json:"subject,omitempty"`
	Date          string            `json:"date,omitempty"`
	Author        []Reference       `json:"author,omitempty"`
	Authenticator *Reference        `json:"authenticator,omitempty"`
	Custodian     *Reference        `json:"custodian,omitempty"`
	RelatesTo     []DocRelatesTo    `json:"relatesTo,omitempty"`
	Description   string            `json:"description,omitempty"`
	Content       []DocContent      `json:"content"`
	Context       *DocContext       `json:"context,omitempty"`
}

// DocRelatesTo is DocumentReference.relatesTo.
type DocRelatesTo struct {
	Code   string    `json:"code"`
	Target Reference `json:"target"`
}

// DocContent is DocumentReference.content.
type DocContent struct {
	Attachment Attachment `json:"attachment"`
}

// DocContext is DocumentReference.context.
type DocContext struct {
	Encounter   []Reference      `json:"encounter,omitempty"`
	Period      *Period          `json:"period,omitempty"`
	FacilityTyp *CodeableConcept `json:"facilityType,omitempty"`
	PracticeSet *CodeableConcept `json:"practiceSetting,omitempty"`
	Related     []Reference      `json:"related,omitempty"`
}

// Consent is a FHIR Consent (informed consent to treatment).
type Consent struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Status       string            `json:"status"`
	Scope        CodeableConcept   `json:"scope"`
	Category     []CodeableConcept `json:"category"`
	Patient      *Reference        `json:"patient,omitempty"`
	DateTime     string            `json:"dateTime,omitempty"`
	Performer    []Reference       `json:"performer,omitempty"`
	Organization []Reference       `json:"organization,omitempty"`
	Policy       []ConsentPolicy   `json:"policy,omitempty"`
	Provision    *ConsentProvision `json:"provision,omitempty"`
}

// ConsentPolicy is Consent.policy.
type ConsentPolicy struct {
	URI string `json:"uri,omitempty"`
}

// ConsentProvision is Consent.provision (only its top level).
type ConsentProvision struct {
	Type   string            `json:"type,omitempty"`
	Period *Period           `json:"period,omitempty"`
	Code   []CodeableConcept `json:"code,omitempty"`
	Data   []ConsentData     `json:"data,omitempty"`
}

// ConsentData is Consent.provision.data.
type ConsentData struct {
	Meaning   string    `json:"meaning"`
	Reference Reference `json:"reference"`
}

// Claim is a FHIR Claim (an institutional claim of an inpatient stay).
type Claim struct {
	ResourceType   string            `json:"resourceType"`
	ID             string            `json:"id"`
	Status         string            `json:"status"`
	Type           CodeableConcept   `json:"type"`
	Use            string            `json:"use"`
	Patient        Reference         `json:"patient"`
	BillablePeriod *Period           `json:"billablePeriod,omitempty"`
	Created        string            `json:"created"`
	Provider       Reference         `json:"provider"`
	Priority       CodeableConcept   `json:"priority"`
	SupportingInfo []ClaimSupporting `json:"supportingInfo,omitempty"`
	Diagnosis      []ClaimDiagnosis  `json:"diagnosis,omitempty"`
	Procedure      []ClaimProcedure  `json:"procedure,omitempty"`
	Insurance      []ClaimInsurance  `json:"insurance"`
	Item           []ClaimItem       `json:"item,omitempty"`
}

// ClaimSupporting is Claim.supportingInfo.
type ClaimSupporting struct {
	Sequence int              `json:"sequence"`
	Category CodeableConcept  `json:"category"`
	Code     *CodeableConcept `json:"code,omitempty"`
}

// ClaimDiagnosis is Claim.diagnosis.
type ClaimDiagnosis struct {
	Sequence    int               `json:"sequence"`
	Diagnosis   CodeableConcept   `json:"diagnosisCodeableConcept"`
	Type        []CodeableConcept `json:"type,omitempty"`
	OnAdmission *CodeableConcept  `json:"onAdmission,omitempty"`
}

// ClaimProcedure is Claim.procedure.
type ClaimProcedure struct {
	Sequence  int             `json:"sequence"`
	Date      string          `json:"date,omitempty"`
	Procedure CodeableConcept `json:"procedureCodeableConcept"`
}

// ClaimInsurance is Claim.insurance.
type ClaimInsurance struct {
	Sequence int       `json:"sequence"`
	Focal    bool      `json:"focal"`
	Coverage Reference `json:"coverage"`
}

// ClaimItem is Claim.item.
type ClaimItem struct {
	Sequence         int             `json:"sequence"`
	DiagnosisSeq     []int           `json:"diagnosisSequence,omitempty"`
	ProductOrService CodeableConcept `json:"productOrService"`
	Encounter        []Reference     `json:"encounter,omitempty"`
}
