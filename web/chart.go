package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custodian-him/custodian"
)

type encounterView struct {
	ID, Class, Type, Status, Period, Service, Reason string
	Start                                            time.Time
	Diagnoses                                        []string
}

type conditionView struct {
	Code, Text, Status, Onset, Category string
}

type procedureView struct {
	Code, Text, Date, Status string
}

type labView struct {
	Name, Code, Unit, Range, Latest string
	Count                           int
	Chart                           Chart
}

type medView struct {
	Name, Status, Intent, Authored, Dosage string
}

type allergyView struct {
	Substance, Criticality, Status, Reaction string
}

type documentRow struct {
	ID, Type, Date, Author, Status, Encounter string
	Attachments                               int
}

type chartData struct {
	Patient     *patientHeader
	Encounters  []encounterView
	Timeline    Chart
	Problems    []conditionView
	Procedures  []procedureView
	Labs        []labView
	Medications []medView
	Allergies   []allergyView
	Documents   []documentRow
	// Truncated names the sections that hold more than a page shows.
	Truncated []string
	SeesAudit bool
	// GlassOpened is set right after the user broke the glass.
	GlassOpened bool
	// diag holds each encounter's diagnoses until linkDiagnoses.
	diag map[string][]string
}

// chart shows a patient's record: demographics, encounters, problems,
// procedures, labs with trends, medications, allergies and documents.
// Every part is read through the store, so each search is authorized and
// audited under the user's name.
func (h *Handler) chart(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	ph, err := h.readPatient(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := &chartData{Patient: ph, SeesAudit: h.Allowed(custodian.ActorFromContext(ctx), "AuditEvent", "search") == nil,
		GlassOpened: r.URL.Query().Get("glass") == "open"}
	parts := []struct {
		typ, label string
		extra      url.Values
		fill       func([]map[string]any)
	}{
		{"Encounter", "encounters", nil, d.encounters},
		{"Condition", "problems and diagnoses", nil, d.conditions},
		{"Procedure", "procedures", nil, d.procedures},
		{"Observation", "laboratory results", url.Values{"category": {"laboratory"}}, d.labs},
		{"MedicationRequest", "medications", nil, d.medications},
		{"AllergyIntolerance", "allergies", nil, d.allergies},
		{"DocumentReference", "documents", nil, d.documents},
	}
	// The parts are read side by side: each is its own search (and audit
	// entry), and the reader pool and the audit writer's group commit
	// serve them together.
	results := make([][]map[string]any, len(parts))
	more := make([]bool, len(parts))
	err = parallel(len(parts), func(i int) error {
		rs, m, err := h.compartmentSearch(ctx, parts[i].typ, ph.ID, parts[i].extra)
		if custodian.ErrorCode(err) == custodian.EFORBIDDEN {
			return nil // the role does not read this kind of record
		}
		results[i], more[i] = rs, m
		return err
	})
	if err != nil {
		return err
	}
	for i, p := range parts {
		if more[i] {
			d.Truncated = append(d.Truncated, p.label)
		}
		p.fill(results[i])
	}
	d.linkDiagnoses()
	h.render(w, r, http.StatusOK, "chart", &view{Title: ph.Name, Section: "/patients", Print: true, Data: d})
	return nil
}

func (d *chartData) encounters(rs []map[string]any) {
	for _, e := range rs {
		start := when(str(e, "period", "start"))
		class := str(e, "class", "display")
		if class == "" {
			class = str(e, "class", "code")
		}
		var reasons []string
		for _, rc := range list(e, "reasonCode") {
			reasons = append(reasons, concept(rc))
		}
		d.Encounters = append(d.Encounters, encounterView{
			ID: str(e, "id"), Class: class, Type: concept(get(e, "type", "0")), Status: str(e, "status"),
			Period: period(get(e, "period")), Service: concept(get(e, "serviceType")), Reason: strings.Join(reasons, "; "), Start: start,
		})
	}
	slices.SortFunc(d.Encounters, func(a, b encounterView) int { return b.Start.Compare(a.Start) })
	d.Timeline = Chart{ID: "enc-timeline", Title: "Encounters over time"}
	d.Timeline.SVG = timelineStrip("enc-timeline", d.Encounters)
}

// conditions fills the problem list; encounter diagnoses are kept to be
// listed with their encounters.
func (d *chartData) conditions(rs []map[string]any) {
	diag := map[string][]string{}
	for _, c := range rs {
		_, code := coding(get(c, "code"))
		text := concept(get(c, "code"))
		_, cat := coding(get(c, "category", "0"))
		if cat == "encounter-diagnosis" {
			if enc := refID(get(c, "encounter"), "Encounter"); enc != "" {
				diag[enc] = append(diag[enc], strings.TrimSpace(code+" "+text))
			}
			continue
		}
		_, status := coding(get(c, "clinicalStatus"))
		onset := str(c, "onsetDateTime")
		if onset == "" {
			onset = str(c, "recordedDate")
		}
		d.Problems = append(d.Problems, conditionView{Code: code, Text: text, Status: status, Onset: showDate(onset), Category: cat})
	}
	slices.SortFunc(d.Problems, func(a, b conditionView) int {
		return cmp.Or(strings.Compare(statusRank(a.Status), statusRank(b.Status)), strings.Compare(b.Onset, a.Onset))
	})
	d.diag = diag
}

func statusRank(s string) string {
	if s == "active" || s == "recurrence" || s == "relapse" {
		return "0"
	}
	return "1" + s
}

func (d *chartData) linkDiagnoses() {
	for i := range d.Encounters {
		d.Encounters[i].Diagnoses = d.diag[d.Encounters[i].ID]
	}
}

func (d *chartData) procedures(rs []map[string]any) {
	for _, p := range rs {
		_, code := coding(get(p, "code"))
		date := str(p, "performedDateTime")
		if date == "" {
			date = str(p, "performedPeriod", "start")
		}
		d.Procedures = append(d.Procedures, procedureView{Code: code, Text: concept(get(p, "code")), Date: showDate(date), Status: str(p, "status")})
	}
	slices.SortFunc(d.Procedures, func(a, b procedureView) int { return strings.Compare(b.Date, a.Date) })
}

// labs groups laboratory results by test (LOINC code), oldest first, with
// a trend chart for each test that has numeric results.
func (d *chartData) labs(rs []map[string]any) {
	byCode := map[string]*labView{}
	var order []string
	ranges := map[string][2]float64{}
	for _, o := range rs {
		_, code := coding(get(o, "code"))
		name := concept(get(o, "code"))
		key := code
		if key == "" {
			key = name
		}
		lv := byCode[key]
		if lv == nil {
			lv = &labView{Name: name, Code: code}
			byCode[key] = lv
			order = append(order, key)
		}
		t := when(str(o, "effectiveDateTime"))
		if t.IsZero() {
			t = when(str(o, "issued"))
		}
		_, flag := coding(get(o, "interpretation", "0"))
		v, ok, text := quantity(get(o, "valueQuantity"))
		if !ok {
			text = str(o, "valueString")
			if text == "" {
				text = concept(get(o, "valueCodeableConcept"))
			}
		} else if lv.Unit == "" {
			lv.Unit = str(o, "valueQuantity", "unit")
		}
		if lo, lok, _ := quantity(get(o, "referenceRange", "0", "low")); lok {
			if hi, hok, _ := quantity(get(o, "referenceRange", "0", "high")); hok {
				ranges[key] = [2]float64{lo, hi}
				lv.Range = fmtNum(lo) + "–" + fmtNum(hi)
			}
		}
		lv.Chart.Points = append(lv.Chart.Points, Point{Label: t.Format("2006-01-02"), Value: v, Text: text, Flag: flag, When: t})
		if !ok {
			lv.Chart.Points[len(lv.Chart.Points)-1].Value = nanValue
		}
	}
	for i, key := range order {
		lv := byCode[key]
		pts := lv.Chart.Points
		slices.SortStableFunc(pts, func(a, b Point) int { return a.When.Compare(b.When) })
		lv.Count = len(pts)
		if n := len(pts); n > 0 {
			lv.Latest = pts[n-1].Text
		}
		numeric := pts[:0:0]
		for _, p := range pts {
			if p.Value != nanValue {
				numeric = append(numeric, p)
			}
		}
		lv.Chart.ID = "lab" + strconv.Itoa(i)
		lv.Chart.Title = lv.Name + " over time"
		lv.Chart.Unit = lv.Unit
		if len(numeric) >= 2 {
			rg, has := ranges[key]
			c := Chart{ID: lv.Chart.ID, Title: lv.Chart.Title, Points: numeric, W: 420}
			trendChart(&c, rg[0], rg[1], has)
			lv.Chart.SVG = c.SVG
		}
		d.Labs = append(d.Labs, *lv)
	}
	slices.SortStableFunc(d.Labs, func(a, b labView) int { return strings.Compare(a.Name, b.Name) })
}

// nanValue marks a result with no number (a text or coded result).
const nanValue = -1e308

func (d *chartData) medications(rs []map[string]any) {
	for _, m := range rs {
		name := concept(get(m, "medicationCodeableConcept"))
		if name == "" {
			name = str(m, "medicationReference", "display")
		}
		d.Medications = append(d.Medications, medView{Name: name, Status: str(m, "status"), Intent: str(m, "intent"),
			Authored: showDate(str(m, "authoredOn")), Dosage: str(m, "dosageInstruction", "0", "text")})
	}
	slices.SortFunc(d.Medications, func(a, b medView) int {
		return cmp.Or(strings.Compare(medRank(a.Status), medRank(b.Status)), strings.Compare(b.Authored, a.Authored))
	})
}

func medRank(s string) string {
	if s == "active" {
		return "0"
	}
	return "1"
}

func (d *chartData) allergies(rs []map[string]any) {
	for _, a := range rs {
		d.Allergies = append(d.Allergies, allergyView{Substance: concept(get(a, "code")), Criticality: str(a, "criticality"),
			Status: concept(get(a, "clinicalStatus")), Reaction: concept(get(a, "reaction", "0", "manifestation", "0"))})
	}
}

func (d *chartData) documents(rs []map[string]any) {
	for _, doc := range rs {
		author := str(doc, "author", "0", "display")
		if author == "" {
			author = str(doc, "author", "0", "reference")
		}
		date := str(doc, "date")
		if date == "" {
			date = str(doc, "content", "0", "attachment", "creation")
		}
		status := str(doc, "docStatus")
		if status == "" {
			status = str(doc, "status")
		}
		d.Documents = append(d.Documents, documentRow{ID: str(doc, "id"), Type: concept(get(doc, "type")), Date: showDate(date),
			Author: author, Status: status, Encounter: refID(get(doc, "context", "encounter", "0"), "Encounter"), Attachments: len(list(doc, "content"))})
	}
	slices.SortFunc(d.Documents, func(a, b documentRow) int { return strings.Compare(b.Date, a.Date) })
}

// parallel runs fn(0), …, fn(n-1) at once and returns the first error.
func parallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
