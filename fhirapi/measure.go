package fhirapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/store"
)

// evaluateMeasureDefinition is the canonical URL of the R4 operation.
const evaluateMeasureDefinition = "http://hl7.org/fhir/OperationDefinition/Measure-evaluate-measure"

// Measures is what Measure/$evaluate-measure evaluates: the measures, the
// record projection they read, and the store, whose access rules decide
// who may see population data (the caller must be allowed to search
// Patient; the check is audited like any search).
type Measures struct {
	Definitions []*measure.Definition
	Record      *measure.Record
	Store       interface {
		Search(ctx context.Context, q *store.Query) (*store.SearchPage, error)
	}
	// Expected, if set, gives expected lengths of stay (DRG weights).
	Expected measure.Expected
	// Cache, if set, keeps results between requests (shared with the
	// workbench's measure pages); nil evaluates every time.
	Cache *measure.Cache
	// SeesSensitive says whether ctx's actor may see sensitive records
	// (the store's Guard decides: store.Guard.SeesSensitive); patients
	// with sensitive records are left out of the patient lists of those
	// who may not, and nil means nobody may.
	SeesSensitive func(ctx context.Context) bool
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// MeasureOperations returns $evaluate-measure at type level
// (/fhir/Measure/$evaluate-measure?measure=ID-or-URL) and instance level
// (/fhir/Measure/{id}/$evaluate-measure), by GET and POST, with the R4
// parameters periodStart and periodEnd (required), reportType (subject,
// subject-list or population; the MeasureReport codes individual and
// summary are taken too) and subject (Patient/id). It returns the
// MeasureReport.
func MeasureOperations(m *Measures) []Operation {
	typeLevel := func(w http.ResponseWriter, r *http.Request) error { return m.evaluate(w, r, "") }
	instance := func(w http.ResponseWriter, r *http.Request) error { return m.evaluate(w, r, r.PathValue("id")) }
	op := func(pattern string, h func(http.ResponseWriter, *http.Request) error) Operation {
		return Operation{Pattern: pattern, Name: "evaluate-measure", Type: "Measure", Definition: evaluateMeasureDefinition, Handle: h}
	}
	return []Operation{
		op("GET /fhir/Measure/$evaluate-measure", typeLevel),
		op("POST /fhir/Measure/$evaluate-measure", typeLevel),
		op("GET /fhir/Measure/{id}/$evaluate-measure", instance),
		op("POST /fhir/Measure/{id}/$evaluate-measure", instance),
	}
}

func (m *Measures) evaluate(w http.ResponseWriter, r *http.Request, id string) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	if id == "" {
		id = p.Get("measure")
		if id == "" {
			return custodian.Errorf(custodian.EINVALID, "measure is required at type level (an id or canonical URL)")
		}
	}
	def := m.find(id)
	if def == nil {
		return custodian.Errorf(custodian.ENOTFOUND, "there is no measure %q", id)
	}
	if p.Get("periodStart") == "" || p.Get("periodEnd") == "" {
		return custodian.Errorf(custodian.EINVALID, "periodStart and periodEnd are required")
	}
	period, err := measure.NewPeriod(p.Get("periodStart"), p.Get("periodEnd"))
	if err != nil {
		return err
	}
	subject := p.Get("subject")
	if subject != "" {
		typ, sid, ok := strings.Cut(subject, "/")
		if !ok {
			sid = typ
		} else if typ != "Patient" {
			return custodian.Errorf(custodian.ENOTIMPLEMENTED, "subject must be a Patient (Group subjects are not supported)")
		}
		subject = sid
	}
	reportType, err := reportTypeOf(p.Get("reportType"), subject != "")
	if err != nil {
		return err
	}
	if p.Has("practitioner") || p.Has("lastReceivedOn") {
		return custodian.Errorf(custodian.ENOTIMPLEMENTED, "practitioner and lastReceivedOn are not supported (stratify by attending instead)")
	}
	ctx := r.Context()
	// Population data is shown only to whoever may search patients; the
	// count-only search records the access in the audit trail.
	if _, err := m.Store.Search(ctx, &store.Query{Types: []string{"Patient"}, Count: 0, Text: "Measure/" + def.ID + "/$evaluate-measure"}); err != nil {
		return err
	}
	hide := m.SeesSensitive == nil || !m.SeesSensitive(ctx)
	evaluate := func(ctx context.Context, def *measure.Definition, period measure.Period, opt measure.Options) (*measure.Result, error) {
		return measure.Evaluate(ctx, m.Record, def, period, opt)
	}
	if m.Cache != nil {
		evaluate = m.Cache.Evaluate
	}
	res, err := evaluate(ctx, def, period, measure.Options{
		Subject: subject, Lists: reportType == measure.ReportSubjectList, Expected: m.Expected, HideRestricted: hide})
	if err != nil {
		return err
	}
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	mr, err := res.MeasureReport(reportType, now)
	if err != nil {
		return err
	}
	WriteResource(w, http.StatusOK, mr)
	return nil
}

func (m *Measures) find(id string) *measure.Definition {
	for _, d := range m.Definitions {
		if d.ID == id || d.URL() == id || d.URL()+"|"+d.Version == id {
			return d
		}
	}
	return nil
}

// reportTypeOf maps the operation's reportType (R4: subject, subject-list,
// population) to a MeasureReport type; the default is subject when a
// subject is given, population otherwise.
func reportTypeOf(v string, hasSubject bool) (string, error) {
	switch v {
	case "":
		if hasSubject {
			return measure.ReportIndividual, nil
		}
		return measure.ReportSummary, nil
	case "subject", measure.ReportIndividual:
		if !hasSubject {
			return "", custodian.Errorf(custodian.EINVALID, "reportType %s needs a subject", v)
		}
		return measure.ReportIndividual, nil
	case "population", measure.ReportSummary:
		return measure.ReportSummary, nil
	case measure.ReportSubjectList:
		return measure.ReportSubjectList, nil
	}
	return "", custodian.Errorf(custodian.EINVALID, "reportType %q must be subject, subject-list or population", v)
}
