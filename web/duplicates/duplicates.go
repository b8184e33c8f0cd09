// Package duplicates is the workbench's duplicate review: the director's
// queue of duplicate-candidate and possible-overlay Tasks, the pair page
// (both records side by side, differences marked, the evidence per field,
// merge with a preview of what moves, "not a duplicate"), the merge
// history with unmerge, and the dashboard's duplicates card.
//
// The queue, the pair and the history are read through the store as the
// signed-in user, so the store authorizes and audits every read; the
// decisions go to package identity, which checks the user may update
// Patient. The pages are offered to the roles that take the steps of the
// duplicate-review workflow (merging and unmerging: the patient-link
// workflow), as the store's Guard names them — by default the
// him-director, the one role that may both read the Tasks and update
// patients. URLs carry resource ids
// only; survivor choices and notes are POSTed.
package duplicates

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/httpauth"
	"github.com/custodian-him/custodian/mpi/identity"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/web"
)

// Identity is what the pages need of the master patient index
// (*identity.Service).
type Identity interface {
	Merge(ctx context.Context, survivor, retired string, preview bool) (*identity.Merged, error)
	Unmerge(ctx context.Context, taskID string) (*identity.Merged, error)
	NotDuplicate(ctx context.Context, taskID, note string) error
	Report(ctx context.Context) (*identity.Report, error)
}

// Paths of the pages.
const (
	PathQueue   = "/duplicates/queue"
	PathPair    = "/duplicates/pairs/"  // + candidate Task id
	PathHistory = "/duplicates/merges"  // merge history
	pathMerges  = "/duplicates/merges/" // + merge Task id + "/unmerge"
)

// Workflows answers who takes the steps of a workflow, and records a
// refusal; *store.Store does, from its Guard's table
// (store.WorkflowGuard). The pages use it when the workbench's Records
// has it.
type Workflows interface {
	Deciders(workflow string) ([]string, bool, error)
	MayDecide(ctx context.Context, workflow, item string) error
}

// deciders returns the roles that take the steps of workflow as the
// workbench's store says (the Guard's table, access.Guard.Workflows),
// or the default table's when the store names none.
func deciders(wb *web.Handler, workflow string) []string {
	if w, ok := wb.Records.(Workflows); ok {
		if roles, ok, err := w.Deciders(workflow); ok && err == nil {
			return roles
		}
	}
	return access.DefaultDeciders(workflow)
}

// listLimit is how many Tasks a list reads at most.
const listLimit = 500

// Module returns the duplicate review pages for the workbench wb, with
// the queue as the him-director's entry, and the dashboard's "duplicates"
// card. The pages use wb.Now as their clock when it is set.
func Module(id Identity, wb *web.Handler) web.Module {
	// The queue, the pairs and "not a duplicate" are steps of the
	// duplicate review; merging and unmerging write Patient.link, the
	// patient-link workflow (both the HIM director's by default).
	review, merge := deciders(wb, access.WorkflowDuplicate), deciders(wb, access.WorkflowPatientLink)
	p := &pages{id: id, wb: wb, review: review, mergers: merge}
	m := http.NewServeMux()
	m.Handle("GET /duplicates/{$}", http.RedirectHandler(PathQueue, http.StatusSeeOther))
	m.HandleFunc("GET "+PathQueue, p.fn(review, p.queue))
	m.HandleFunc("GET "+PathPair+"{task}", p.fn(review, p.pair))
	m.HandleFunc("POST "+PathPair+"{task}/preview", p.fn(review, p.preview))
	m.HandleFunc("POST "+PathPair+"{task}/merge", p.fn(merge, p.merge, access.WorkflowPatientLink))
	m.HandleFunc("POST "+PathPair+"{task}/not-duplicate", p.fn(review, p.notDuplicate, access.WorkflowDuplicate))
	m.HandleFunc("GET "+PathHistory, p.fn(merge, p.history))
	m.HandleFunc("POST "+pathMerges+"{task}/unmerge", p.fn(merge, p.unmerge, access.WorkflowPatientLink))
	m.HandleFunc("/duplicates/", p.fn(slices.Concat(review, merge), func(w http.ResponseWriter, r *http.Request) error {
		return custodian.Errorf(custodian.ENOTFOUND, "There is no such page.")
	}))
	var nav []web.NavItem
	if len(review) > 0 {
		nav = append(nav, web.NavItem{Label: "Duplicates", Path: PathQueue, Roles: review})
	}
	if len(merge) > 0 {
		nav = append(nav, web.NavItem{Label: "Merge history", Path: PathHistory, Roles: merge})
	}
	return web.Module{
		Nav:     nav,
		Prefix:  "/duplicates/",
		Handler: m,
		Cards:   p.cards,
	}
}

type pages struct {
	id Identity
	wb *web.Handler
	// review are the roles that work the duplicate review; mergers those
	// that merge and unmerge (the patient-link workflow).
	review, mergers []string
}

func (p *pages) now() time.Time {
	if p.wb.Now != nil {
		return p.wb.Now()
	}
	return time.Now()
}

// fn checks the actor holds one of roles, then runs f, rendering its
// error in the workbench's frame. A POST that takes a step of workflow
// on its Task asks the store first, which records a refusal in the audit
// trail as it does a refused write through the FHIR API.
func (p *pages) fn(roles []string, f func(http.ResponseWriter, *http.Request) error, workflow ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var err error
		if wf, ok := p.wb.Records.(Workflows); ok && custodian.ActorFromContext(r.Context()) != nil {
			for _, name := range workflow {
				if err == nil {
					err = wf.MayDecide(r.Context(), name, "Task/"+r.PathValue("task"))
				}
			}
		}
		if err == nil {
			err = p.wb.RequireRole(r, roles)
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

var tmpl = template.Must(template.New("duplicates").Funcs(template.FuncMap{
	"day": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.DateOnly)
	},
	"pct":  func(v float64) string { return strconv.FormatFloat(v*100, 'f', 2, 64) + "%" },
	"prob": func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) },
	"days": func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
}).ParseFS(templateFiles, "template/*.html"))

func (p *pages) render(w http.ResponseWriter, r *http.Request, title, section, name string, data any) error {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return custodian.Errorf(custodian.EINTERNAL, "duplicates page %s: %v", name, err)
	}
	p.wb.Page(w, r, title, section, template.HTML(b.String()))
	return nil
}

// task is a Task of package identity as the pages show it.
type task struct {
	ID, Status, Business, Priority, Requester, Description string
	Authored                                               time.Time
	AgeDays                                                int
	// Focus is the focus patient's id; Other the candidate's other
	// patient; Version the overlaid version of an overlay.
	Focus, Other, Version string
	Probability           float64
	Class                 string
	Evidence              []string
	Notes                 []string
	// Survivor, Retired and Changed are a merge's.
	Survivor, Retired string
	Changed           []string
	// FocusName and OtherName are the patients' names ("" when hidden).
	FocusName, OtherName string
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

// refParts splits "Patient/7/_history/2" into its id and version.
func refParts(ref, typ string) (id, version string) {
	rest, ok := strings.CutPrefix(ref, typ+"/")
	if !ok {
		return "", ""
	}
	id, version, _ = strings.Cut(rest, "/_history/")
	if !validID(id) {
		return "", ""
	}
	return id, version
}

func codeOf(v any) string {
	c, _ := v.(map[string]any)
	for _, cd := range list(c["coding"]) {
		cm, _ := cd.(map[string]any)
		if cm["system"] == identity.System {
			s, _ := cm["code"].(string)
			return s
		}
	}
	return ""
}

func list(v any) []any { l, _ := v.([]any); return l }

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// parseTask reads a Task body written by package identity.
func parseTask(id string, body []byte, now time.Time) (*task, string, error) {
	m, err := store.Decode(body)
	if err != nil {
		return nil, "", err
	}
	t := &task{ID: id, Status: str(m, "status"), Business: codeOf(m["businessStatus"]), Priority: str(m, "priority"), Description: str(m, "description")}
	if rq, ok := m["requester"].(map[string]any); ok {
		t.Requester = str(rq, "display")
	}
	if at, err := time.Parse(time.RFC3339, str(m, "authoredOn")); err == nil {
		t.Authored = at
		t.AgeDays = int(now.Sub(at).Hours() / 24)
	}
	if f, ok := m["focus"].(map[string]any); ok {
		t.Focus, t.Version = refParts(str(f, "reference"), "Patient")
	}
	for _, n := range list(m["note"]) {
		if nm, ok := n.(map[string]any); ok {
			t.Notes = append(t.Notes, str(nm, "text"))
		}
	}
	for _, in := range list(m["input"]) {
		im, _ := in.(map[string]any)
		tm, _ := im["type"].(map[string]any)
		ref := ""
		if v, ok := im["valueReference"].(map[string]any); ok {
			ref = str(v, "reference")
		}
		switch str(tm, "text") {
		case "other-patient":
			t.Other, _ = refParts(ref, "Patient")
		case "probability":
			t.Probability, _ = strconv.ParseFloat(fmt.Sprint(im["valueDecimal"]), 64)
		case "class":
			t.Class = str(im, "valueString")
		case "evidence":
			t.Evidence = append(t.Evidence, str(im, "valueString"))
		case "survivor-patient":
			t.Survivor, _ = refParts(ref, "Patient")
		case "retired-patient":
			t.Retired, _ = refParts(ref, "Patient")
		case "changed":
			t.Changed = append(t.Changed, ref)
		}
	}
	return t, codeOf(m["code"]), nil
}

// tasks searches the Tasks of code in status (any when "") as the
// signed-in user.
func (p *pages) tasks(ctx context.Context, code, status string) ([]*task, bool, error) {
	v := url.Values{"code": {identity.System + "|" + code}, "_count": {"100"}}
	if status != "" {
		v.Set("status", status)
	}
	q, _, err := p.wb.Records.ParseQuery("Task", v, true)
	if err != nil {
		return nil, false, err
	}
	now := p.now()
	var out []*task
	for {
		page, err := p.wb.Records.Search(ctx, q)
		if err != nil {
			return nil, false, err
		}
		for _, r := range page.Resources {
			t, _, err := parseTask(r.ID, r.Body, now)
			if err != nil {
				return nil, false, err
			}
			out = append(out, t)
		}
		if page.Next == "" {
			return out, false, nil
		}
		if len(out) >= listLimit {
			return out, true, nil
		}
		q.Cursor = page.Next
	}
}

// names returns the display names of the Patients ids the user may see.
func (p *pages) names(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	seen := map[string]bool{}
	var want []string
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			want = append(want, id)
		}
	}
	for len(want) > 0 {
		n := min(len(want), 100)
		q, _, err := p.wb.Records.ParseQuery("Patient", url.Values{"_id": {strings.Join(want[:n], ",")}}, true)
		if err != nil {
			return nil, err
		}
		q.Count = n
		page, err := p.wb.Records.Search(ctx, q)
		if custodian.ErrorCode(err) == custodian.EFORBIDDEN {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		for _, r := range page.Resources {
			m, err := store.Decode(r.Body)
			if err != nil {
				return nil, err
			}
			out[r.ID] = personName(m)
		}
		want = want[n:]
	}
	return out, nil
}

func personName(m map[string]any) string {
	names := list(m["name"])
	for _, n := range names {
		nm, _ := n.(map[string]any)
		if str(nm, "use") == "official" {
			return humanName(nm)
		}
	}
	if len(names) > 0 {
		nm, _ := names[0].(map[string]any)
		return humanName(nm)
	}
	return ""
}

func humanName(n map[string]any) string {
	if t := str(n, "text"); t != "" {
		return t
	}
	var parts []string
	for _, g := range list(n["given"]) {
		if s, ok := g.(string); ok {
			parts = append(parts, s)
		}
	}
	if f := str(n, "family"); f != "" {
		parts = append(parts, f)
	}
	return strings.Join(parts, " ")
}

// queue is the director's list of open candidates, urgent (automatic-link
// class) first, then oldest first, and the open overlays.
// queuePage is how many candidate pairs one page of the queue shows.
const queuePage = 50

// queue shows one page of the open duplicate candidates, urgent first,
// then oldest first, with the number open; ?page= carries the opaque
// position of the next page (urgent or routine part, and the store's
// cursor within it), never patient data.
func (p *pages) queue(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	cands, next, err := p.candidates(ctx, r.URL.Query().Get("page"))
	if err != nil {
		return err
	}
	open, err := p.count(ctx, identity.CodeCandidate, "")
	if err != nil {
		return err
	}
	urgent, err := p.count(ctx, identity.CodeCandidate, "urgent")
	if err != nil {
		return err
	}
	overlays, more, err := p.tasks(ctx, identity.CodeOverlay, "requested")
	if err != nil {
		return err
	}
	var ids []string
	for _, t := range cands {
		ids = append(ids, t.Focus, t.Other)
	}
	for _, t := range overlays {
		ids = append(ids, t.Focus)
	}
	nm, err := p.names(ctx, ids)
	if err != nil {
		return err
	}
	for _, t := range append(slices.Clone(cands), overlays...) {
		t.FocusName, t.OtherName = nm[t.Focus], nm[t.Other]
	}
	v := struct {
		Candidates, Overlays []*task
		Open, Urgent         int64
		Next                 string
		First, MoreOverlays  bool
	}{Candidates: cands, Overlays: overlays, Open: open, Urgent: urgent, First: r.URL.Query().Get("page") == "", MoreOverlays: more}
	if next != "" {
		v.Next = PathQueue + "?" + url.Values{"page": {next}}.Encode()
	}
	return p.render(w, r, "Duplicate candidates", PathQueue, "queue", v)
}

// candidates reads one page of open duplicate candidates from position at
// ("" for the first page): the urgent pairs ("u" + cursor), then the rest
// ("r" + cursor), each oldest first. It returns the next page's position,
// "" after the last.
func (p *pages) candidates(ctx context.Context, at string) ([]*task, string, error) {
	part, cursor := "u", ""
	if at != "" {
		part, cursor = at[:1], at[1:]
		if part != "u" && part != "r" {
			return nil, "", custodian.Errorf(custodian.EINVALID, "That page of the queue does not exist; start again from the first page.")
		}
	}
	now := p.now()
	var out []*task
	for {
		v := url.Values{"code": {identity.System + "|" + identity.CodeCandidate}, "status": {"requested"},
			"_sort": {"authored-on"}, "_count": {strconv.Itoa(queuePage - len(out))}}
		if part == "u" {
			v.Set("priority", "urgent")
		} else {
			v.Set("priority:not", "urgent")
		}
		q, _, err := p.wb.Records.ParseQuery("Task", v, true)
		if err != nil {
			return nil, "", err
		}
		q.Cursor = cursor
		page, err := p.wb.Records.Search(ctx, q)
		if err != nil {
			return nil, "", err
		}
		start := len(out)
		for _, r := range page.Resources {
			t, _, err := parseTask(r.ID, r.Body, now)
			if err != nil {
				return nil, "", err
			}
			out = append(out, t)
		}
		// Pairs written in the same instant: the likelier first.
		slices.SortStableFunc(out[start:], func(a, b *task) int {
			return cmp.Or(a.Authored.Compare(b.Authored), cmp.Compare(b.Probability, a.Probability))
		})
		switch {
		case page.Next != "" && len(out) >= queuePage:
			return out, part + page.Next, nil
		case page.Next != "":
			cursor = page.Next // a short page: read on
		case part == "u":
			part, cursor = "r", ""
			if len(out) >= queuePage {
				if n, err := p.count(ctx, identity.CodeCandidate, "routine"); err != nil || n == 0 {
					return out, "", err
				}
				return out, "r", nil
			}
		default:
			return out, "", nil
		}
	}
}

// count is the number of open Tasks of code the user may see: of priority
// "urgent", of any other priority ("routine"), or all ("").
func (p *pages) count(ctx context.Context, code, priority string) (int64, error) {
	v := url.Values{"code": {identity.System + "|" + code}, "status": {"requested"}, "_summary": {"count"}}
	switch priority {
	case "urgent":
		v.Set("priority", "urgent")
	case "routine":
		v.Set("priority:not", "urgent")
	}
	q, _, err := p.wb.Records.ParseQuery("Task", v, true)
	if err != nil {
		return 0, err
	}
	page, err := p.wb.Records.Search(ctx, q)
	if err != nil {
		return 0, err
	}
	return page.Total, nil
}

// readTask reads Task id as the user and checks its code.
func (p *pages) readTask(ctx context.Context, id, code string) (*task, error) {
	if !validID(id) {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "There is no such task.")
	}
	res, err := p.wb.Records.Read(ctx, "Task", id)
	if err != nil {
		return nil, err
	}
	t, c, err := parseTask(res.ID, res.Body, p.now())
	if err != nil {
		return nil, err
	}
	if c != code {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "Task %s is not a %s.", id, strings.ReplaceAll(code, "-", " "))
	}
	return t, nil
}

// field is one row of the side-by-side comparison.
type field struct {
	Label string
	A, B  []string
	Diff  bool
}

// record is one patient of a pair as the pair page shows it.
type record struct {
	ID, Name string
	Active   bool
	// ReplacedBy is the patient this one was merged into, if any.
	ReplacedBy string
	Counts     []count
}

type count struct {
	Label string
	N     int64
}

// clinicalTypes are the compartment types the pair page counts.
var clinicalTypes = []struct{ Type, Param, Label string }{
	{"Encounter", "subject", "Encounters"},
	{"Condition", "subject", "Conditions"},
	{"Procedure", "subject", "Procedures"},
	{"Observation", "subject", "Observations"},
	{"MedicationRequest", "subject", "Medication orders"},
	{"DocumentReference", "subject", "Documents"},
}

func (p *pages) patient(ctx context.Context, id string) (map[string]any, error) {
	res, err := p.wb.Records.Read(ctx, "Patient", id)
	if err != nil {
		return nil, err
	}
	return store.Decode(res.Body)
}

func (p *pages) counts(ctx context.Context, id string) ([]count, error) {
	var out []count
	for _, c := range clinicalTypes {
		q, _, err := p.wb.Records.ParseQuery(c.Type, url.Values{c.Param: {"Patient/" + id}, "_total": {"accurate"}, "_count": {"1"}}, true)
		if err != nil {
			return nil, err
		}
		page, err := p.wb.Records.Search(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, count{c.Label, page.Total})
	}
	return out, nil
}

// compare lays the two patients' demographics side by side.
func compare(a, b map[string]any) []field {
	rows := []field{
		{Label: "Name", A: names(a), B: names(b)},
		{Label: "Birth date", A: one(str(a, "birthDate")), B: one(str(b, "birthDate"))},
		{Label: "Sex", A: one(str(a, "gender")), B: one(str(b, "gender"))},
		{Label: "Identifiers", A: identifiers(a), B: identifiers(b)},
		{Label: "Addresses", A: addresses(a), B: addresses(b)},
		{Label: "Telecom", A: telecoms(a), B: telecoms(b)},
	}
	if d := str(a, "deceasedDateTime") + str(b, "deceasedDateTime"); d != "" {
		rows = append(rows, field{Label: "Deceased", A: one(str(a, "deceasedDateTime")), B: one(str(b, "deceasedDateTime"))})
	}
	for i := range rows {
		rows[i].Diff = !sameSet(rows[i].A, rows[i].B)
	}
	return rows
}

func one(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func sameSet(a, b []string) bool {
	norm := func(l []string) []string {
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = strings.ToLower(strings.Join(strings.Fields(s), " "))
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(norm(a), norm(b))
}

func names(m map[string]any) []string {
	var out []string
	for _, n := range list(m["name"]) {
		nm, _ := n.(map[string]any)
		if s := humanName(nm); s != "" {
			if u := str(nm, "use"); u != "" && u != "official" && u != "usual" {
				s += " (" + u + ")"
			}
			out = append(out, s)
		}
	}
	return out
}

func identifiers(m map[string]any) []string {
	var out []string
	for _, x := range list(m["identifier"]) {
		im, _ := x.(map[string]any)
		label := str(im, "system")
		if tp, ok := im["type"].(map[string]any); ok {
			if t := str(tp, "text"); t != "" {
				label = t
			} else if cs := list(tp["coding"]); len(cs) > 0 {
				c, _ := cs[0].(map[string]any)
				label = cmp.Or(str(c, "display"), str(c, "code"), label)
			}
		}
		s := str(im, "value")
		if label != "" {
			s = label + ": " + s
		}
		if u := str(im, "use"); u == "old" {
			s += " (old)"
		}
		out = append(out, s)
	}
	return out
}

func addresses(m map[string]any) []string {
	var out []string
	for _, x := range list(m["address"]) {
		am, _ := x.(map[string]any)
		var parts []string
		for _, l := range list(am["line"]) {
			if s, ok := l.(string); ok {
				parts = append(parts, s)
			}
		}
		for _, k := range []string{"city", "state", "postalCode", "country"} {
			if s := str(am, k); s != "" {
				parts = append(parts, s)
			}
		}
		if len(parts) > 0 {
			out = append(out, strings.Join(parts, ", "))
		}
	}
	return out
}

func telecoms(m map[string]any) []string {
	var out []string
	for _, x := range list(m["telecom"]) {
		tm, _ := x.(map[string]any)
		if v := str(tm, "value"); v != "" {
			out = append(out, cmp.Or(str(tm, "system"), "contact")+": "+v)
		}
	}
	return out
}

func replacedBy(m map[string]any) string {
	for _, l := range list(m["link"]) {
		lm, _ := l.(map[string]any)
		if str(lm, "type") == "replaced-by" {
			o, _ := lm["other"].(map[string]any)
			id, _ := refParts(str(o, "reference"), "Patient")
			return id
		}
	}
	return ""
}

// pairView is what the pair page shows.
type pairView struct {
	Task   *task
	A, B   record
	Fields []field
	CSRF   template.HTML
	// Preview is a merge preview: what would move.
	Preview *previewView
	Note    string
	// CanMerge and CanDecide say whether the user's role takes the
	// patient-link step (merge) and the duplicate review's (not a
	// duplicate), as the store's Guard names them: the page offers only
	// the actions the user may take.
	CanMerge, CanDecide bool
}

type previewView struct {
	Survivor, Retired         string
	SurvivorName, RetiredName string
	ByType                    []count
	Changed                   []string
}

func (p *pages) loadPair(r *http.Request) (*pairView, error) {
	ctx := r.Context()
	t, err := p.readTask(ctx, r.PathValue("task"), identity.CodeCandidate)
	if err != nil {
		return nil, err
	}
	if t.Focus == "" || t.Other == "" {
		return nil, custodian.Errorf(custodian.EUNPROCESSABLE, "Task %s does not name two patients.", t.ID)
	}
	a := custodian.ActorFromContext(ctx)
	v := &pairView{Task: t, CSRF: httpauth.CSRFField(r), CanMerge: access.HasRole(a, p.mergers), CanDecide: access.HasRole(a, p.review)}
	var bodies [2]map[string]any
	for i, id := range []string{t.Focus, t.Other} {
		m, err := p.patient(ctx, id)
		if err != nil {
			return nil, err
		}
		cs, err := p.counts(ctx, id)
		if err != nil {
			return nil, err
		}
		active := true
		if b, ok := m["active"].(bool); ok {
			active = b
		}
		rec := record{ID: id, Name: personName(m), Active: active, ReplacedBy: replacedBy(m), Counts: cs}
		bodies[i] = m
		if i == 0 {
			v.A = rec
		} else {
			v.B = rec
		}
	}
	t.FocusName, t.OtherName = v.A.Name, v.B.Name
	v.Fields = compare(bodies[0], bodies[1])
	return v, nil
}

func (p *pages) pair(w http.ResponseWriter, r *http.Request) error {
	v, err := p.loadPair(r)
	if err != nil {
		return err
	}
	return p.render(w, r, "Duplicate candidate", PathQueue, "pair", v)
}

// survivor reads the chosen survivor of the pair: one of its two ids.
func survivor(r *http.Request, v *pairView) (keep, retire string, err error) {
	switch s := r.PostFormValue("survivor"); s {
	case v.A.ID:
		return v.A.ID, v.B.ID, nil
	case v.B.ID:
		return v.B.ID, v.A.ID, nil
	default:
		return "", "", custodian.Errorf(custodian.EINVALID, "Choose which of the two records survives the merge.")
	}
}

func (p *pages) preview(w http.ResponseWriter, r *http.Request) error {
	v, err := p.loadPair(r)
	if err != nil {
		return err
	}
	keep, retire, err := survivor(r, v)
	if err != nil {
		return err
	}
	m, err := p.id.Merge(r.Context(), keep, retire, true)
	if err != nil {
		return err
	}
	pv := &previewView{Survivor: keep, Retired: retire, Changed: m.Changed}
	pv.SurvivorName, pv.RetiredName = v.A.Name, v.B.Name
	if keep == v.B.ID {
		pv.SurvivorName, pv.RetiredName = v.B.Name, v.A.Name
	}
	byType := map[string]int64{}
	for _, c := range m.Changed {
		typ, _, _ := strings.Cut(c, "/")
		byType[typ]++
	}
	for _, typ := range slices.Sorted(func(yield func(string) bool) {
		for k := range byType {
			if !yield(k) {
				return
			}
		}
	}) {
		pv.ByType = append(pv.ByType, count{typ, byType[typ]})
	}
	v.Preview = pv
	return p.render(w, r, "Merge preview", PathQueue, "pair", v)
}

// result is the page after a decision.
type result struct {
	Heading, Message string
	Task             string
	Changed          int
}

func (p *pages) merge(w http.ResponseWriter, r *http.Request) error {
	v, err := p.loadPair(r)
	if err != nil {
		return err
	}
	keep, retire, err := survivor(r, v)
	if err != nil {
		return err
	}
	m, err := p.id.Merge(r.Context(), keep, retire, false)
	if err != nil {
		return err
	}
	return p.render(w, r, "Merged", PathQueue, "result", result{
		Heading: "Records merged",
		Message: fmt.Sprintf("Patient %s was merged into Patient %s; %d resources were rewritten. The merge can be undone from the merge history.", retire, keep, len(m.Changed)),
		Task:    m.Task, Changed: len(m.Changed),
	})
}

func (p *pages) notDuplicate(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("task")
	t, err := p.readTask(r.Context(), id, identity.CodeCandidate)
	if err != nil {
		return err
	}
	note := strings.TrimSpace(r.PostFormValue("note"))
	if len(note) > 2000 {
		return custodian.Errorf(custodian.EINVALID, "The note is too long (2,000 characters at most).")
	}
	if err := p.id.NotDuplicate(r.Context(), t.ID, note); err != nil {
		return err
	}
	return p.render(w, r, "Not a duplicate", PathQueue, "result", result{
		Heading: "Recorded: not a duplicate",
		Message: fmt.Sprintf("Patients %s and %s are recorded as different people; the pair will not be queued again.", t.Focus, t.Other),
	})
}

// history lists the merges, newest first.
func (p *pages) history(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	ms, more, err := p.tasks(ctx, identity.CodeMerge, "")
	if err != nil {
		return err
	}
	slices.SortStableFunc(ms, func(a, b *task) int { return b.Authored.Compare(a.Authored) })
	var ids []string
	for _, t := range ms {
		ids = append(ids, t.Survivor, t.Retired)
	}
	nm, err := p.names(ctx, ids)
	if err != nil {
		return err
	}
	for _, t := range ms {
		t.FocusName, t.OtherName = nm[t.Survivor], nm[t.Retired]
	}
	return p.render(w, r, "Merge history", PathHistory, "history", struct {
		Merges []*task
		More   bool
		CSRF   template.HTML
	}{ms, more, httpauth.CSRFField(r)})
}

func (p *pages) unmerge(w http.ResponseWriter, r *http.Request) error {
	t, err := p.readTask(r.Context(), r.PathValue("task"), identity.CodeMerge)
	if err != nil {
		return err
	}
	m, err := p.id.Unmerge(r.Context(), t.ID)
	if err != nil {
		return err
	}
	return p.render(w, r, "Unmerged", PathHistory, "result", result{
		Heading: "Merge undone",
		Message: fmt.Sprintf("Patient %s is a record of its own again, separate from Patient %s; %d resources were restored to their state before the merge.", m.Retired, m.Survivor, len(m.Changed)),
		Changed: len(m.Changed),
	})
}

// month is one month of the card's chart.
type month struct {
	Label            string
	Merges, Unmerges int
}

// cards is the dashboard's duplicates card.
func (p *pages) cards(ctx context.Context) ([]web.Card, error) {
	if !access.HasRole(custodian.ActorFromContext(ctx), p.review) {
		return nil, nil
	}
	rep, err := p.id.Report(ctx)
	if err != nil {
		return nil, err
	}
	months := lastMonths(p.now(), 12, rep)
	var b bytes.Buffer
	err = tmpl.ExecuteTemplate(&b, "card", struct {
		R      *identity.Report
		Months []month
		Chart  template.HTML
	}{rep, months, monthChart(months)})
	if err != nil {
		return nil, err
	}
	return []web.Card{{Slot: "duplicates", Title: "Duplicate patients", Body: template.HTML(b.String())}}, nil
}

// lastMonths returns the n months up to now's with their merge counts.
func lastMonths(now time.Time, n int, rep *identity.Report) []month {
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -(n - 1), 0)
	out := make([]month, n)
	for i := range out {
		k := first.AddDate(0, i, 0).Format("2006-01")
		out[i] = month{Label: k, Merges: rep.Merges[k], Unmerges: rep.Unmerges[k]}
	}
	return out
}

// monthChart draws merges (and unmerges) per month as small inline SVG
// bars; the numbers are in the table beside it.
func monthChart(ms []month) template.HTML {
	const w, h, left, top, bottom = 360, 120, 26, 8, 20
	hi := 2
	for _, m := range ms {
		hi = max(hi, m.Merges, m.Unmerges)
	}
	top2 := float64(hi)
	plotW, plotH := float64(w-left-4), float64(h-top-bottom)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart dup-chart" viewBox="0 0 %d %d" role="img" aria-labelledby="dup-chart-t" focusable="false"><title id="dup-chart-t">Merges and unmerges per month (numbers in the table)</title>`, w, h)
	for _, v := range []float64{0, top2} {
		y := float64(top) + plotH - plotH*v/top2
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/><text class="lbl" x="%d" y="%.1f" text-anchor="end">%d</text>`, left, w-4, y, y, left-4, y+4, int(v))
	}
	slot := plotW / float64(len(ms))
	bw := math.Max(1, slot*0.38)
	for i, m := range ms {
		x := float64(left) + float64(i)*slot + slot*0.1
		for k, v := range []int{m.Merges, m.Unmerges} {
			bh := float64(v) / top2 * plotH
			cls := [...]string{"c0", "c1"}[k]
			fmt.Fprintf(&b, `<rect class="bar %s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d %s</title></rect>`,
				cls, x+float64(k)*bw, float64(top)+plotH-bh, bw, bh, m.Label, v, [...]string{"merges", "unmerges"}[k])
		}
		if (len(ms)-1-i)%3 == 0 {
			anchor, lx := "middle", x+bw
			if i == len(ms)-1 {
				anchor, lx = "end", x+2*bw
			}
			fmt.Fprintf(&b, `<text class="lbl" x="%.1f" y="%d" text-anchor="%s">%s</text>`, lx, h-6, anchor, m.Label)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
