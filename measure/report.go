package measure

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/custodian-him/custodian"
)

// Report types (FHIR measure-report-type; R4 codes).
const (
	ReportIndividual  = "individual"
	ReportSubjectList = "subject-list"
	ReportSummary     = "summary"
)

const (
	systemPopulation  = "http://terminology.hl7.org/CodeSystem/measure-population"
	systemScoring     = "http://terminology.hl7.org/CodeSystem/measure-scoring"
	systemType        = "http://terminology.hl7.org/CodeSystem/measure-type"
	systemImprovement = "http://terminology.hl7.org/CodeSystem/measure-improvement-notation"
	extBasis          = "http://hl7.org/fhir/us/cqfm/StructureDefinition/cqfm-populationBasis"
	// criteriaLanguage names how Custodian's built-in criteria are
	// written (Go); a CQL engine's would say text/cql-identifier.
	criteriaLanguage = "text/x-custodian-go"
)

// CheckReportType returns EINVALID for anything but the three R4 report
// types.
func CheckReportType(t string) error {
	switch t {
	case ReportIndividual, ReportSubjectList, ReportSummary:
		return nil
	}
	return custodian.Errorf(custodian.EINVALID, "reportType %q must be individual, subject-list or summary", t)
}

func coded(system, code string) map[string]any {
	return map[string]any{"coding": []any{map[string]any{"system": system, "code": code}}}
}

// MeasureReport renders r as a FHIR R4 MeasureReport of reportType. A
// subject-list report carries each population's cases as a contained List
// (of Encounters for stay-level measures, of Patients otherwise) that the
// population's subjectResults refers to. now stamps MeasureReport.date.
func (r *Result) MeasureReport(reportType string, now time.Time) (map[string]any, error) {
	if err := CheckReportType(reportType); err != nil {
		return nil, err
	}
	def := r.Definition
	if reportType == ReportIndividual && r.Subject == "" {
		return nil, custodian.Errorf(custodian.EINVALID, "an individual report needs a subject (a patient)")
	}
	mr := map[string]any{
		"resourceType": "MeasureReport",
		"status":       "complete",
		"type":         reportType,
		"measure":      def.URL(),
		"date":         now.UTC().Format(time.RFC3339),
		"period":       map[string]any{"start": r.Period.Start.String(), "end": r.Period.End.String()},
	}
	if def.Improvement != "" {
		mr["improvementNotation"] = coded(systemImprovement, def.Improvement)
	}
	if r.Subject != "" {
		mr["subject"] = map[string]any{"reference": "Patient/" + r.Subject}
	}
	var contained []any
	var pops []any
	for _, p := range r.Populations {
		pop := map[string]any{"code": coded(systemPopulation, p.Code), "count": p.Count}
		if reportType == ReportSubjectList && p.Cases != nil {
			id := "list-" + p.Code
			contained = append(contained, caseList(id, def, p))
			pop["subjectResults"] = map[string]any{"reference": "#" + id}
		}
		pops = append(pops, pop)
	}
	group := map[string]any{"population": pops}
	if s := scoreOf(def, r.Score, r.HasScore); s != nil {
		group["measureScore"] = s
	}
	var strat []any
	for _, s := range r.Strata {
		var strata []any
		for _, st := range s.Strata {
			var sp []any
			for _, p := range st.Populations {
				sp = append(sp, map[string]any{"code": coded(systemPopulation, p.Code), "count": p.Count})
			}
			one := map[string]any{"value": map[string]any{"text": st.Value}, "population": sp}
			if sc := scoreOf(def, st.Score, st.HasScore); sc != nil {
				one["measureScore"] = sc
			}
			strata = append(strata, one)
		}
		so := map[string]any{"code": []any{map[string]any{"text": s.Code}}}
		if len(strata) > 0 {
			so["stratum"] = strata
		}
		strat = append(strat, so)
	}
	if len(strat) > 0 {
		group["stratifier"] = strat
	}
	mr["group"] = []any{group}
	if len(contained) > 0 {
		mr["contained"] = contained
	}
	if def.Scoring == ContinuousVariable && r.Observed.HasRatio {
		mr["extension"] = []any{map[string]any{
			"url":          CanonicalBase + "StructureDefinition/observed-expected-ratio",
			"valueDecimal": round(r.Observed.Ratio),
		}}
	}
	return mr, nil
}

func caseList(id string, def *Definition, p PopulationResult) map[string]any {
	entries := make([]any, 0, len(p.Cases))
	for _, c := range p.Cases {
		ref := "Patient/" + c.Patient
		if def.Basis == BasisEncounter && c.Encounter != "" {
			ref = "Encounter/" + c.Encounter
		}
		entries = append(entries, map[string]any{"item": map[string]any{"reference": ref}})
	}
	l := map[string]any{"resourceType": "List", "id": id, "status": "current", "mode": "snapshot",
		"title": def.Title + ": " + p.Code}
	if len(entries) > 0 {
		l["entry"] = entries
	}
	return l
}

func scoreOf(def *Definition, v float64, ok bool) map[string]any {
	if !ok {
		return nil
	}
	q := map[string]any{"value": round(v)}
	if def.Scoring == ContinuousVariable && def.ObservationUnit != "" {
		q["unit"] = def.ObservationUnit
		q["system"] = "http://unitsofmeasure.org"
		q["code"] = def.ObservationUnit
	}
	return q
}

// round keeps six decimals, enough for any rate, and writes no exponent.
func round(v float64) any {
	f := math.Round(v*1e6) / 1e6
	return json.Number(strconv.FormatFloat(f, 'f', -1, 64))
}

// MeasureResource renders the definition as a FHIR R4 Measure.
func (d *Definition) MeasureResource() map[string]any {
	var pops []any
	for _, p := range d.Populations {
		pop := map[string]any{"code": coded(systemPopulation, p.Code),
			"criteria": map[string]any{"language": criteriaLanguage, "expression": d.Name + "." + p.Code}}
		if ds, ok := p.Criteria.(interface{ Describe() string }); ok {
			pop["description"] = ds.Describe()
			pop["criteria"].(map[string]any)["description"] = ds.Describe()
		}
		pops = append(pops, pop)
	}
	if d.Observation != nil {
		pops = append(pops, map[string]any{"code": coded(systemPopulation, MeasureObservation),
			"criteria": map[string]any{"language": criteriaLanguage, "expression": d.Name + "." + MeasureObservation}})
	}
	var strat []any
	for _, s := range d.Stratifiers {
		strat = append(strat, map[string]any{"code": map[string]any{"text": s.Code}, "description": s.Description,
			"criteria": map[string]any{"language": criteriaLanguage, "expression": d.Name + ".stratifier." + s.Code}})
	}
	group := map[string]any{"population": pops}
	if len(strat) > 0 {
		group["stratifier"] = strat
	}
	basis := "boolean"
	if d.Basis == BasisEncounter {
		basis = "Encounter"
	}
	m := map[string]any{
		"resourceType": "Measure", "id": d.ID, "url": d.URL(), "version": cmpOr(d.Version, "1"),
		"name": d.Name, "title": d.Title, "status": "active", "experimental": false,
		"publisher":   "Custodian",
		"description": d.Description,
		"extension":   []any{map[string]any{"url": extBasis, "valueCode": basis}},
		"scoring":     coded(systemScoring, string(d.Scoring)),
		"group":       []any{group},
	}
	if d.Type != "" {
		m["type"] = []any{coded(systemType, d.Type)}
	}
	if d.Improvement != "" {
		m["improvementNotation"] = coded(systemImprovement, d.Improvement)
	}
	return m
}
