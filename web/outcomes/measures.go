package outcomes

import (
	"cmp"
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/measure"
)

// pageSize is how many patients a list page shows.
const pageSize = 100

// period is the period a page was asked for (from and to, YYYY-MM-DD),
// by default the twelve months up to the clock's day.
type period struct {
	From, To string
	P        measure.Period
}

// Query is the period as URL parameters (encoded: the templates put it
// after a "?" as it is).
func (pd period) Query() template.URL {
	return template.URL(url.Values{"from": {pd.From}, "to": {pd.To}}.Encode())
}

func (p *pages) period(r *http.Request) (period, error) {
	today := p.Now().UTC()
	def := time.Date(today.Year(), today.Month()-11, 1, 0, 0, 0, 0, time.UTC)
	pd := period{From: r.URL.Query().Get("from"), To: r.URL.Query().Get("to")}
	if pd.From == "" {
		pd.From = def.Format(time.DateOnly)
	}
	if pd.To == "" {
		pd.To = today.Format(time.DateOnly)
	}
	var err error
	pd.P, err = measure.NewPeriod(pd.From, pd.To)
	return pd, err
}

// rate is a measure's score with the counts behind it.
type rate struct {
	Proportion bool
	// Den is the denominator less its exclusions (the measure population
	// less its exclusions for a continuous variable); Num the numerator.
	Den, Num, Excluded int
	Score              float64
	HasScore           bool
	Unit               string
}

// Text is the score as read: a percentage or a mean with its unit.
func (rt rate) Text() string {
	switch {
	case !rt.HasScore:
		return "—"
	case rt.Proportion:
		return pct(rt.Score)
	case rt.Unit == "d":
		return strconv.FormatFloat(rt.Score, 'f', 2, 64) + " days"
	}
	return strconv.FormatFloat(rt.Score, 'f', 2, 64) + " " + rt.Unit
}

func count(pops []measure.PopulationResult, code string) int {
	for _, p := range pops {
		if p.Code == code {
			return p.Count
		}
	}
	return 0
}

func rateOf(def *measure.Definition, pops []measure.PopulationResult, score float64, has bool) rate {
	rt := rate{Proportion: def.Scoring == measure.Proportion, Score: score, HasScore: has, Unit: def.ObservationUnit}
	if rt.Proportion {
		rt.Excluded = count(pops, measure.DenominatorExclusion)
		rt.Den = count(pops, measure.Denominator) - rt.Excluded
		rt.Num = count(pops, measure.Numerator)
	} else {
		rt.Excluded = count(pops, measure.MeasurePopulationExclusion)
		rt.Den = count(pops, measure.MeasurePopulation) - rt.Excluded
	}
	return rt
}

type measureRow struct {
	Def  *measure.Definition
	Rate rate
}

type measureListView struct {
	Period period
	Rows   []measureRow
	// AsOf is when the oldest of the figures was evaluated (they are
	// kept between views; see measure.Cache).
	AsOf string
}

// asOf keeps the older of the times a view's figures were evaluated.
func asOf(cur string, res *measure.Result) string {
	if res.AsOf.IsZero() {
		return cur
	}
	t := res.AsOf.UTC().Format("15:04:05") + " UTC"
	if cur == "" || t < cur {
		return t
	}
	return cur
}

func (p *pages) evaluate(ctx context.Context, def *measure.Definition, pd period, lists bool) (*measure.Result, error) {
	return p.Cache.Evaluate(ctx, def, pd.P, measure.Options{Lists: lists, Expected: p.Expected, HideRestricted: lists && !p.SeesSensitive(ctx)})
}

func (p *pages) measureList(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := p.gate(r, p.MeasureRoles, measureRead); err != nil {
		return err
	}
	pd, err := p.period(r)
	if err != nil {
		return err
	}
	v := measureListView{Period: pd}
	for _, def := range p.Measures {
		res, err := p.evaluate(ctx, def, pd, false)
		if err != nil {
			return err
		}
		v.Rows = append(v.Rows, measureRow{Def: def, Rate: rateOf(def, res.Populations, res.Score, res.HasScore)})
		v.AsOf = asOf(v.AsOf, res)
	}
	return p.render(w, r, "Measures", PathMeasures, "measures", v)
}

type stratumRow struct {
	Value string
	Rate  rate
	Query template.URL // the period and stratum, for the drill-down links
}

type strataTable struct {
	Code, Description string
	Rows              []stratumRow
}

type measureView struct {
	Def    *measure.Definition
	Period period
	Rate   rate
	Trend  template.HTML
	Months []stratumRow
	Strata []strataTable
	Lists  []string // the populations whose patients can be listed
	O2E    string
	HasO2E bool
}

func (p *pages) measureDef(id string) (*measure.Definition, error) {
	if d := measure.Find(p.Measures, id); d != nil {
		return d, nil
	}
	return nil, custodian.Errorf(custodian.ENOTFOUND, "There is no measure %q.", id)
}

func (p *pages) measurePage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := p.gate(r, p.MeasureRoles, measureRead); err != nil {
		return err
	}
	def, err := p.measureDef(r.PathValue("id"))
	if err != nil {
		return err
	}
	pd, err := p.period(r)
	if err != nil {
		return err
	}
	res, err := p.evaluate(ctx, def, pd, false)
	if err != nil {
		return err
	}
	v := measureView{Def: def, Period: pd, Rate: rateOf(def, res.Populations, res.Score, res.HasScore)}
	if res.Observed.HasRatio {
		v.HasO2E, v.O2E = true, strconv.FormatFloat(res.Observed.Ratio, 'f', 2, 64)
	}
	for _, pop := range res.Populations {
		v.Lists = append(v.Lists, pop.Code)
	}
	for _, s := range res.Strata {
		t := strataTable{Code: s.Code, Description: s.Description}
		for _, st := range s.Strata {
			q := url.Values{"from": {pd.From}, "to": {pd.To}, "stratifier": {s.Code}, "value": {st.Value}}
			t.Rows = append(t.Rows, stratumRow{Value: st.Value, Rate: rateOf(def, st.Populations, st.Score, st.HasScore), Query: template.URL(q.Encode())})
		}
		slices.SortFunc(t.Rows, func(a, b stratumRow) int { return cmp.Compare(a.Value, b.Value) })
		if s.Code == measure.ByMonth.Code {
			v.Months = t.Rows
			continue
		}
		v.Strata = append(v.Strata, t)
	}
	v.Months = allMonths(pd, v.Months, def)
	v.Trend = trendChart(def, v.Months)
	return p.render(w, r, def.Title, PathMeasures, "measure", v)
}

type caseRow struct {
	Patient, Name, Encounter string
	Strata                   []string
	Value                    string
}

type casesView struct {
	Def                 *measure.Definition
	Period              period
	Population, PopName string
	Stratifier, Value   string
	Heads               []string
	Total, Withheld     int
	Rows                []caseRow
	Page, Pages         int
	Prev, Next          string
}

// casesPage lists the patients (and stays) behind one population of a
// measure, optionally within one stratum, a page at a time.
func (p *pages) casesPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := p.gate(r, p.MeasureRoles, append([]string{"Patient:read"}, measureRead...)); err != nil {
		return err
	}
	def, err := p.measureDef(r.PathValue("id"))
	if err != nil {
		return err
	}
	pd, err := p.period(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	pop := q.Get("population")
	if !slices.ContainsFunc(def.Populations, func(x measure.Population) bool { return x.Code == pop }) {
		return custodian.Errorf(custodian.EINVALID, "Measure %s has no population %q.", def.ID, pop)
	}
	si := -1
	if sc := q.Get("stratifier"); sc != "" {
		si = slices.IndexFunc(def.Stratifiers, func(s measure.Stratifier) bool { return s.Code == sc })
		if si < 0 {
			return custodian.Errorf(custodian.EINVALID, "Measure %s has no stratifier %q.", def.ID, sc)
		}
	}
	page := 1
	if s := q.Get("page"); s != "" {
		if page, err = strconv.Atoi(s); err != nil || page < 1 {
			return custodian.Errorf(custodian.EINVALID, "The page %q is not a page number.", s)
		}
	}
	res, err := p.evaluate(ctx, def, pd, true)
	if err != nil {
		return err
	}
	cases := res.Cases(pop)
	if si >= 0 {
		val := q.Get("value")
		cases = slices.DeleteFunc(slices.Clone(cases), func(c measure.CaseRef) bool { return si >= len(c.Strata) || c.Strata[si] != val })
	}
	v := casesView{Def: def, Period: pd, Population: pop, PopName: popName(pop), Total: len(cases), Withheld: res.Count(pop) - len(res.Cases(pop)), Page: page}
	if si >= 0 {
		v.Stratifier, v.Value = def.Stratifiers[si].Description, q.Get("value")
	}
	for _, s := range def.Stratifiers {
		v.Heads = append(v.Heads, shortName(s.Code))
	}
	v.Pages = max(1, (len(cases)+pageSize-1)/pageSize)
	if page > v.Pages {
		return custodian.Errorf(custodian.ENOTFOUND, "There is no page %d (the list has %d).", page, v.Pages)
	}
	link := func(n int) string {
		u := url.Values{}
		for k, vs := range q {
			u[k] = vs
		}
		u.Set("page", strconv.Itoa(n))
		return PathMeasures + def.ID + "/cases?" + u.Encode()
	}
	if page > 1 {
		v.Prev = link(page - 1)
	}
	if page < v.Pages {
		v.Next = link(page + 1)
	}
	names := newNamer(p.Patients)
	for _, c := range cases[(page-1)*pageSize : min(len(cases), page*pageSize)] {
		row := caseRow{Patient: c.Patient, Name: names.name(ctx, c.Patient), Encounter: c.Encounter, Strata: c.Strata}
		if def.Scoring == measure.ContinuousVariable && pop == measure.MeasurePopulation {
			row.Value = strconv.FormatFloat(c.Value, 'f', 1, 64)
		}
		v.Rows = append(v.Rows, row)
	}
	return p.render(w, r, def.Title+": "+popName(pop), PathMeasures, "cases", v)
}

// maxMonths is the longest period whose months are all listed; a longer
// one lists only the months with cases.
const maxMonths = 72

// allMonths gives every month of the period a row (those without cases
// empty), so that the trend's bars fall at even steps.
func allMonths(pd period, rows []stratumRow, def *measure.Definition) []stratumRow {
	start, end := pd.P.Start.Date(), pd.P.End.Date()
	n := (end.Year()-start.Year())*12 + int(end.Month()-start.Month()) + 1
	if n > maxMonths {
		return rows
	}
	have := map[string]stratumRow{}
	for _, r := range rows {
		have[r.Value] = r
	}
	out := make([]stratumRow, 0, n)
	for i := range n {
		m := time.Date(start.Year(), start.Month()+time.Month(i), 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
		r, ok := have[m]
		if !ok {
			r = stratumRow{Value: m, Rate: rate{Proportion: def.Scoring == measure.Proportion, Unit: def.ObservationUnit}}
		}
		delete(have, m)
		out = append(out, r)
	}
	for _, r := range rows { // months outside the period (never, but kept)
		if _, ok := have[r.Value]; ok {
			out = append(out, r)
		}
	}
	return out
}

// shortNames are the strata tables' column heads.
var shortNames = map[string]string{"month": "Month", "age-band": "Age band", "sex": "Sex", "service": "Service", "attending": "Attending"}

func shortName(code string) string {
	if s, ok := shortNames[code]; ok {
		return s
	}
	return code
}
