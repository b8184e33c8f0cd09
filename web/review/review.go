// Package review is the workbench's chart completeness review: the record
// analyst's deficiency queue, a clinician's own list, and the delinquent
// record report, over the deficiencies package chart keeps.
//
// The deficiencies come from the chart reviewer's memory, not from the
// store, so the pages do two things to keep the store's rules: they are
// offered only to the roles that work them (record-analyst and
// him-director; a clinician for the clinician list), and every page that
// shows patients looks their names up through the store as the signed-in
// user. That search is authorized and audited like any other, and a
// patient the user may not see (a restricted record) is shown without
// the deficiency's evidence, with a link to the chart, where the user may
// break the glass.
package review

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/chart"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/web"
)

// Reviewer is what the pages need of the chart reviewer
// (*chart.Reviewer).
type Reviewer interface {
	Queue(f chart.QueueFilter) []*chart.Item
	ClinicianList(owner string) []*chart.Item
	Delinquency(from, to time.Time, loc *time.Location) []*chart.Month
	Tallies() []*chart.Tally
	Rules() *chart.RuleSet
}

// preparing is a Reviewer that reads the record in the background
// (*chart.Reviewer): until it is ready the pages say so instead of
// showing an empty queue.
type preparing interface {
	Ready() bool
	Err() error
}

// notReady returns the error the pages show while the reviewer is not
// ready, nil once it is.
func (p *pages) notReady() error {
	pr, ok := p.rv.(preparing)
	if !ok || pr.Ready() {
		return nil
	}
	if pr.Err() != nil {
		return custodian.Errorf(custodian.EUNAVAILABLE, "Chart review could not read the record; the server's log says why.")
	}
	return custodian.Errorf(custodian.EUNAVAILABLE, "Chart review is still reading the record after the server started; try again in a minute.")
}

// Paths of the pages.
const (
	PathQueue     = "/review/queue"
	PathClinician = "/review/clinician"
	PathReport    = "/review/report"
)

// Who may see which page.
var (
	analystRoles   = []string{access.RoleRecordAnalyst, access.RoleHIMDirector}
	clinicianRoles = []string{access.RoleRecordAnalyst, access.RoleHIMDirector, access.RoleClinician}
)

// pageSize is how many deficiencies one page of a list shows.
const pageSize = 100

// Module returns the chart review pages for the workbench wb: the queue
// (the record analyst's landing page), the clinician list (a clinician's
// landing page) and the delinquency report, and a dashboard card with the
// delinquent records. The pages use wb.Now as their clock when it is set.
func Module(rv Reviewer, wb *web.Handler) web.Module {
	p := &pages{rv: rv, wb: wb}
	m := http.NewServeMux()
	m.Handle("GET /review/{$}", http.RedirectHandler(PathQueue, http.StatusSeeOther))
	m.HandleFunc("GET "+PathQueue, p.fn(analystRoles, p.queue))
	m.HandleFunc("GET "+PathClinician, p.fn(clinicianRoles, p.clinician))
	m.HandleFunc("GET "+PathReport, p.fn(analystRoles, p.report))
	m.HandleFunc("/review/", p.fn(clinicianRoles, func(w http.ResponseWriter, r *http.Request) error {
		return custodian.Errorf(custodian.ENOTFOUND, "There is no such page.")
	}))
	return web.Module{
		Nav: []web.NavItem{
			{Label: "Deficiency queue", Path: PathQueue, Roles: []string{access.RoleRecordAnalyst}, Landing: true},
			{Label: "My deficiencies", Path: PathClinician, Roles: []string{access.RoleClinician}, Landing: true},
			{Label: "Delinquent records", Path: PathReport, Roles: analystRoles},
		},
		Prefix:  "/review/",
		Handler: m,
		Cards:   p.cards,
	}
}

type pages struct {
	rv Reviewer
	wb *web.Handler
}

func (p *pages) now() time.Time {
	if p.wb.Now != nil {
		return p.wb.Now()
	}
	return time.Now()
}

// fn checks the actor holds one of roles, then runs f, rendering its
// error in the workbench's frame.
func (p *pages) fn(roles []string, f func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := p.wb.RequireRole(r, roles)
		if err == nil {
			err = p.notReady()
		}
		if err == nil {
			err = f(w, r)
		}
		if err != nil {
			p.wb.Error(w, r, err)
		}
	}
}

//go:embed template/*.html
var templateFiles embed.FS

var tmpl = template.Must(template.New("review").Funcs(template.FuncMap{
	"day": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.DateOnly)
	},
	"pct": func(v float64) string { return strconv.FormatFloat(v*100, 'f', 1, 64) + "%" },
	"id":  func(ref string) string { _, id, _ := strings.Cut(ref, "/"); return id },
}).ParseFS(templateFiles, "template/*.html"))

// render executes the template name into the workbench's frame.
func (p *pages) render(w http.ResponseWriter, r *http.Request, title, section, name string, data any) error {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return custodian.Errorf(custodian.EINTERNAL, "review page %s: %v", name, err)
	}
	p.wb.Page(w, r, title, section, template.HTML(b.String()))
	return nil
}

// row is one deficiency as a list shows it.
type row struct {
	*chart.Item
	AgeDays   int
	PatientID string
	// Patient is the patient's name, "" when the user may not see the
	// record (the evidence is then withheld).
	Patient    string
	Restricted bool
	OwnerName  string
	// DocPath links the deficient note, when the focus is one.
	DocPath string
}

// rows turns items into rows, naming patients and clinicians through the
// store as the signed-in user.
func (p *pages) rows(ctx context.Context, items []*chart.Item) ([]row, error) {
	var pats, pracs []string
	for _, it := range items {
		pats = append(pats, it.Patient)
		pracs = append(pracs, it.Owner)
	}
	pn, err := p.names(ctx, "Patient", pats)
	if err != nil {
		return nil, err
	}
	on, err := p.names(ctx, "Practitioner", pracs)
	if err != nil {
		return nil, err
	}
	out := make([]row, len(items))
	for i, it := range items {
		x := row{Item: it, AgeDays: int(it.Age.Hours() / 24), PatientID: refID(it.Patient, "Patient"), OwnerName: on[it.Owner]}
		x.Patient, x.Restricted = pn[it.Patient], pn[it.Patient] == ""
		if id := refID(it.Focus, "DocumentReference"); id != "" && x.PatientID != "" {
			x.DocPath = "/patients/" + x.PatientID + "/documents/" + id
		}
		out[i] = x
	}
	return out, nil
}

// refID returns the id of ref when it is a reference to typ.
func refID(ref, typ string) string {
	if id, ok := strings.CutPrefix(ref, typ+"/"); ok && validID(id) {
		return id
	}
	return ""
}

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// names returns the display names of the resources of typ that refs name
// and the user may see, searched for by _id as the signed-in user.
func (p *pages) names(ctx context.Context, typ string, refs []string) (map[string]string, error) {
	out := map[string]string{}
	var ids []string
	seen := map[string]bool{}
	for _, ref := range refs {
		if id := refID(ref, typ); id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for len(ids) > 0 {
		n := min(len(ids), 100)
		q, _, err := p.wb.Records.ParseQuery(typ, url.Values{"_id": {strings.Join(ids[:n], ",")}}, true)
		if err != nil {
			return nil, err
		}
		q.Count = n
		page, err := p.wb.Records.Search(ctx, q)
		switch code := custodian.ErrorCode(err); {
		case code == custodian.EFORBIDDEN:
			return out, nil // the user may not read them: no names, no evidence
		case err != nil:
			return nil, err
		}
		for _, res := range page.Resources {
			body, err := store.Decode(res.Body)
			if err != nil {
				return nil, err
			}
			out[typ+"/"+res.ID] = personName(body)
		}
		ids = ids[n:]
	}
	return out, nil
}

// personName is a Patient's or Practitioner's name as a list shows it.
func personName(body map[string]any) string {
	names, _ := body["name"].([]any)
	for _, n := range names {
		m, _ := n.(map[string]any)
		if t, _ := m["text"].(string); t != "" {
			return t
		}
		var parts []string
		for _, p := range []string{"prefix", "given"} {
			gs, _ := m[p].([]any)
			for _, g := range gs {
				if s, _ := g.(string); s != "" {
					parts = append(parts, s)
				}
			}
		}
		if f, _ := m["family"].(string); f != "" {
			parts = append(parts, f)
		}
		if len(parts) > 0 {
			return strings.Join(parts, " ")
		}
	}
	return "(no name)"
}

// option is one choice of a filter's list.
type option struct{ Value, Label string }

type queueView struct {
	Filter  chart.QueueFilter
	Kinds   []option
	Service []option
	Owners  []option
	Classes []option
	Rows    []row
	Total   int
	Page    int
	Prev    string
	Next    string
	Limit   int
}

var sorts = []string{"age", "due", "owner", "service"}

// queue is the analyst's work queue, filtered by the query's parameters.
func (p *pages) queue(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := chart.QueueFilter{Kind: q.Get("kind"), Service: q.Get("service"), Owner: q.Get("owner"), Class: q.Get("class"),
		Unassigned: q.Get("unassigned") == "1", Sort: q.Get("sort")}
	if f.Sort == "" {
		f.Sort = "age"
	}
	if !slices.Contains(sorts, f.Sort) {
		return custodian.Errorf(custodian.EINVALID, "Sort by age, due, owner or service.")
	}
	if f.Owner != "" && refID(f.Owner, "Practitioner") == "" {
		return custodian.Errorf(custodian.EINVALID, "The clinician must be a Practitioner reference.")
	}
	pg, err := pageNumber(q.Get("page"))
	if err != nil {
		return err
	}
	all := p.rv.Queue(chart.QueueFilter{})
	v := &queueView{Filter: f, Page: pg, Limit: pageSize}
	owners, err := p.ownerOptions(r.Context(), all)
	if err != nil {
		return err
	}
	v.Owners = owners
	v.Kinds = distinct(all, func(it *chart.Item) (string, string) { return it.Kind, it.Kind + " — " + it.Title })
	v.Service = distinct(all, func(it *chart.Item) (string, string) { return it.Service, it.Service })
	v.Classes = distinct(all, func(it *chart.Item) (string, string) { return it.Class, it.Class })
	items := p.rv.Queue(f)
	v.Total = len(items)
	from := (pg - 1) * pageSize
	if from > len(items) {
		from = len(items)
	}
	if v.Rows, err = p.rows(r.Context(), items[from:min(from+pageSize, len(items))]); err != nil {
		return err
	}
	link := func(n int) string {
		q2 := url.Values{}
		for k, vs := range q {
			q2[k] = vs
		}
		q2.Set("page", strconv.Itoa(n))
		return PathQueue + "?" + q2.Encode()
	}
	if pg > 1 {
		v.Prev = link(pg - 1)
	}
	if from+pageSize < len(items) {
		v.Next = link(pg + 1)
	}
	return p.render(w, r, "Deficiency queue", PathQueue, "queue", v)
}

func pageNumber(s string) (int, error) {
	if s == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1_000_000 {
		return 0, custodian.Errorf(custodian.EINVALID, "The page must be a number from 1.")
	}
	return n, nil
}

// distinct lists the values key gives of items, sorted, without "".
func distinct(items []*chart.Item, key func(*chart.Item) (string, string)) []option {
	seen := map[string]bool{}
	var out []option
	for _, it := range items {
		v, l := key(it)
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, option{v, l})
		}
	}
	slices.SortFunc(out, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	return out
}

// ownerOptions lists the clinicians who own deficiencies, by name.
func (p *pages) ownerOptions(ctx context.Context, items []*chart.Item) ([]option, error) {
	var refs []string
	seen := map[string]bool{}
	for _, it := range items {
		if it.Owner != "" && !seen[it.Owner] {
			seen[it.Owner] = true
			refs = append(refs, it.Owner)
		}
	}
	names, err := p.names(ctx, "Practitioner", refs)
	if err != nil {
		return nil, err
	}
	out := make([]option, len(refs))
	for i, ref := range refs {
		l := names[ref]
		if l == "" {
			l = ref
		}
		out[i] = option{ref, l}
	}
	slices.SortFunc(out, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	return out, nil
}

type clinicianView struct {
	Owner     string
	OwnerName string
	Owners    []option
	Clinician bool // the user is a clinician (not an analyst)
	Rows      []row
	Total     int
	Limit     int
}

// clinician is one clinician's open deficiencies. Users are not linked to
// Practitioner records yet, so the clinician is chosen from those who own
// deficiencies.
func (p *pages) clinician(w http.ResponseWriter, r *http.Request) error {
	owner := r.URL.Query().Get("owner")
	if owner != "" && refID(owner, "Practitioner") == "" {
		return custodian.Errorf(custodian.EINVALID, "The clinician must be a Practitioner reference.")
	}
	a := custodian.ActorFromContext(r.Context())
	v := &clinicianView{Owner: owner, Limit: pageSize, Clinician: !access.HasRole(a, analystRoles)}
	var err error
	if v.Owners, err = p.ownerOptions(r.Context(), p.rv.Queue(chart.QueueFilter{})); err != nil {
		return err
	}
	if owner != "" {
		items := p.rv.ClinicianList(owner)
		v.Total = len(items)
		if v.Rows, err = p.rows(r.Context(), items[:min(len(items), pageSize)]); err != nil {
			return err
		}
		for _, o := range v.Owners {
			if o.Value == owner {
				v.OwnerName = o.Label
			}
		}
		if v.OwnerName == "" {
			v.OwnerName = owner
		}
	}
	return p.render(w, r, "Deficiencies by clinician", PathClinician, "clinician", v)
}

type monthRow struct {
	*chart.Month
	Avg float64
}

type tallyRow struct {
	*chart.Tally
	Name  string
	Kinds string
}

type reportView struct {
	From, To   string
	Months     []monthRow
	Avg        float64
	Limit      int
	Zone       string
	Chart      template.HTML
	Tallies    []tallyRow
	Delinquent int
	Open       int
	RuleSet    string
	Generated  string
}

// report is the delinquent record report: per month, the discharges, the
// records delinquent at the month's end and their rate against the
// average monthly discharges, the deficiencies raised and cleared, and
// the tallies per clinician. It prints as a report.
func (p *pages) report(w http.ResponseWriter, r *http.Request) error {
	rs := p.rv.Rules()
	loc := zone(rs.Timezone)
	now := p.now().In(loc)
	q := r.URL.Query()
	to, err := month(q.Get("to"), time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc), loc)
	if err != nil {
		return err
	}
	from, err := month(q.Get("from"), to.AddDate(0, -11, 0), loc)
	if err != nil {
		return err
	}
	if from.After(to) {
		return custodian.Errorf(custodian.EINVALID, "The first month is after the last.")
	}
	if to.Sub(from) > 10*366*24*time.Hour {
		return custodian.Errorf(custodian.EINVALID, "The report covers at most ten years.")
	}
	months := p.rv.Delinquency(from, to.AddDate(0, 1, 0).Add(-time.Nanosecond), loc)
	v := &reportView{From: from.Format("2006-01"), To: to.Format("2006-01"), Limit: rs.RecordCompleteDays, Zone: loc.String(),
		RuleSet: rs.Name + " " + rs.Version, Generated: p.now().UTC().Format("2006-01-02 15:04 UTC")}
	total := 0
	labels := make([]string, len(months))
	delinq := make([]float64, len(months))
	disch := make([]float64, len(months))
	for i, m := range months {
		total += m.Discharges
		labels[i], delinq[i], disch[i] = m.Month, float64(m.Delinquent), float64(m.Discharges)
	}
	if len(months) > 0 {
		v.Avg = float64(total) / float64(len(months))
	}
	for _, m := range months {
		v.Months = append(v.Months, monthRow{m, v.Avg})
	}
	v.Chart = barChart("delinquency", "Delinquent records at each month's end, and discharges", labels,
		[]series{{"Discharges", "c1", disch}, {"Delinquent at month end", "c0", delinq}})
	tallies := p.rv.Tallies()
	var refs []string
	for _, t := range tallies {
		refs = append(refs, t.Owner)
		v.Open += t.Open
	}
	names, err := p.names(r.Context(), "Practitioner", refs)
	if err != nil {
		return err
	}
	for _, t := range tallies {
		name := names[t.Owner]
		switch {
		case t.Owner == "":
			name = "(unassigned)"
		case name == "":
			name = t.Owner
		}
		v.Tallies = append(v.Tallies, tallyRow{Tally: t, Name: name, Kinds: kinds(t.ByKind)})
	}
	v.Delinquent = delinquentRecords(p.rv.Queue(chart.QueueFilter{}))
	return p.render(w, r, "Delinquent records", PathReport, "report", v)
}

// kinds writes counts by kind, most first.
func kinds(by map[string]int) string {
	type kv struct {
		k string
		n int
	}
	var l []kv
	for k, n := range by {
		l = append(l, kv{k, n})
	}
	slices.SortFunc(l, func(a, b kv) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return strings.Compare(a.k, b.k)
	})
	var parts []string
	for _, x := range l {
		parts = append(parts, x.k+" "+strconv.Itoa(x.n))
	}
	return strings.Join(parts, ", ")
}

// delinquentRecords counts the encounters with an open deficiency past
// the completion limit.
func delinquentRecords(items []*chart.Item) int {
	enc := map[string]bool{}
	for _, it := range items {
		if it.Delinquent {
			enc[it.Encounter] = true
		}
	}
	return len(enc)
}

// month parses YYYY-MM as the first instant of the month in loc; "" is
// def.
func month(s string, def time.Time, loc *time.Location) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	t, err := time.ParseInLocation("2006-01", s, loc)
	if err != nil || t.Year() < 1900 || t.Year() > 2200 {
		return time.Time{}, custodian.Errorf(custodian.EINVALID, "%q is not a month (YYYY-MM).", s)
	}
	return t, nil
}

// zone is the rule set's time zone: an IANA name or ±hh:mm (UTC when
// empty or unknown).
func zone(s string) *time.Location {
	if s == "" {
		return time.UTC
	}
	if l, err := time.LoadLocation(s); err == nil {
		return l
	}
	if t, err := time.Parse("-07:00", s); err == nil {
		_, off := t.Zone()
		return time.FixedZone(s, off)
	}
	return time.UTC
}

// cards is the dashboard's delinquent-records card, for those who work
// the queue or steer by it.
func (p *pages) cards(ctx context.Context) ([]web.Card, error) {
	if !access.HasRole(custodian.ActorFromContext(ctx), analystRoles) {
		return nil, nil
	}
	if err := p.notReady(); err != nil {
		return []web.Card{{Slot: "delinquent", Title: "Chart completion", Body: template.HTML(`<p class="muted">` +
			template.HTMLEscapeString(custodian.ErrorMessage(err)) + `</p>`)}}, nil
	}
	items := p.rv.Queue(chart.QueueFilter{})
	var b bytes.Buffer
	rs := p.rv.Rules()
	err := tmpl.ExecuteTemplate(&b, "card", struct {
		Open, Delinquent, Limit int
	}{len(items), delinquentRecords(items), rs.RecordCompleteDays})
	if err != nil {
		return nil, err
	}
	return []web.Card{{Slot: "delinquent", Title: "Chart completion", Body: template.HTML(b.String())}}, nil
}
