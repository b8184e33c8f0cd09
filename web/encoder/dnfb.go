package encoder

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/coding"
)

// row is one DNFB encounter as the queue lists it.
type row struct {
	ID                          string // the Encounter's resource id
	Patient, Service, Attending string
	Admitted, Discharged        string
	AgeDays                     int
	Status                      string
	// Restricted is set when the patient is stored but hidden from the
	// user: Patient is then empty, and the row says "restricted".
	Restricted bool
	discharged time.Time
	patient    string // "Patient/id"
}

// encounterFacts are the parts of an Encounter the pages show.
type encounterFacts struct {
	Class       string
	Service     string
	Attending   string // "Practitioner/id"
	Subject     string
	Visit       string
	Disposition string
}

type encounterJSON struct {
	Class       struct{ Code string }
	Identifier  []struct{ Value string }
	ServiceType *struct {
		Text   string
		Coding []struct{ Display string }
	}
	Subject     struct{ Reference string }
	Participant []struct {
		Type []struct {
			Coding []struct{ Code string }
		}
		Individual struct{ Reference string }
	}
	Hospitalization *struct {
		DischargeDisposition *struct {
			Coding []struct{ Code, Display string }
		}
	}
}

func readEncounter(body []byte) encounterFacts {
	var e encounterJSON
	_ = json.Unmarshal(body, &e)
	f := encounterFacts{Class: e.Class.Code, Subject: e.Subject.Reference}
	if len(e.Identifier) > 0 {
		f.Visit = e.Identifier[0].Value
	}
	if st := e.ServiceType; st != nil {
		f.Service = st.Text
		if f.Service == "" && len(st.Coding) > 0 {
			f.Service = st.Coding[0].Display
		}
	}
	for _, p := range e.Participant {
		for _, t := range p.Type {
			for _, c := range t.Coding {
				if c.Code == "ATND" && f.Attending == "" {
					f.Attending = p.Individual.Reference
				}
			}
		}
	}
	if h := e.Hospitalization; h != nil && h.DischargeDisposition != nil && len(h.DischargeDisposition.Coding) > 0 {
		c := h.DischargeDisposition.Coding[0]
		f.Disposition = cmp.Or(c.Display, c.Code)
	}
	return f
}

// personName is the first official (or any) name of a Patient or
// Practitioner, "Given Family".
func personName(body []byte) string {
	var p struct {
		Name []struct {
			Use, Text string
			Family    string
			Given     []string
			Prefix    []string
		}
	}
	_ = json.Unmarshal(body, &p)
	best := -1
	for i, n := range p.Name {
		if best < 0 || (n.Use == "official" && p.Name[best].Use != "official") {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	n := p.Name[best]
	if n.Text != "" {
		return n.Text
	}
	return strings.TrimSpace(strings.Join(append(append(n.Prefix[:len(n.Prefix):len(n.Prefix)], n.Given...), n.Family), " "))
}

// details reads the finished inpatient encounters with their patients and
// attendings, in one search (with includes) rather than a read per row:
// those named by ids, or every one when ids is nil (to sort the whole
// queue by a name). Pages of 300 keep a page's patients and practitioners
// under the store's bound on included resources (store.MaxIncluded).
func (p *pages) details(ctx context.Context, ids []string) (enc map[string]encounterFacts, names map[string]string, err error) {
	enc, names = map[string]encounterFacts{}, map[string]string{}
	criteria := "class=IMP&status=finished"
	if ids != nil {
		if len(ids) == 0 {
			return enc, names, nil
		}
		criteria = "_id=" + strings.Join(ids, ",")
	}
	qu, err := p.q.Store.ParseQueryString("Encounter", criteria+"&_include=Encounter:subject&_include=Encounter:participant&_count=300")
	if err != nil {
		return nil, nil, err
	}
	for {
		page, err := p.q.Store.SearchWithIncludes(ctx, qu)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range page.Resources {
			enc[r.ID] = readEncounter(r.Body)
		}
		for _, r := range page.Included {
			names[r.Type+"/"+r.ID] = personName(r.Body)
		}
		if page.Next == "" {
			return enc, names, nil
		}
		qu.Cursor = page.Next
	}
}

type dnfbView struct {
	Rows    []row
	Total   int
	Sort    string
	Desc    bool
	Columns []column
	Buckets []coding.AgeBucket
	Drafts  int
	// Page and Pages number the pages of dnfbPage rows; Prev and Next
	// link to the neighbours ("" for none).
	Page, Pages int
	Prev, Next  string
	// AsOf is when the queue was read (it is kept a minute).
	AsOf time.Time
}

// column is a sortable column heading.
type column struct {
	Key, Label, Href string
	Numeric          bool
	Sorted           string // "ascending", "descending" or ""
}

var sortKeys = []struct{ key, label string }{
	{"patient", "Patient"}, {"service", "Service"}, {"attending", "Attending"},
	{"admitted", "Admitted"}, {"discharged", "Discharged"}, {"age", "Days since discharge"}, {"status", "Status"},
}

// dnfb is the coder's queue: discharged encounters not final coded.
func (p *pages) dnfb(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	page := 1
	if s := q.Get("page"); s != "" {
		var err error
		if page, err = strconv.Atoi(s); err != nil || page < 1 {
			return custodian.Errorf(custodian.EINVALID, "The page %q is not a page number.", s)
		}
	}
	list, at, err := p.queue.Get(ctx)
	if err != nil {
		return err
	}
	v := &dnfbView{Total: len(list), Buckets: coding.AgeBuckets(list), Sort: q.Get("sort"), Desc: q.Get("dir") == "desc", Page: page, AsOf: at}
	if !slices.ContainsFunc(sortKeys, func(k struct{ key, label string }) bool { return k.key == v.Sort }) {
		v.Sort, v.Desc = "age", true
	}
	rows := make([]row, 0, len(list))
	for _, it := range list {
		rw := row{ID: strings.TrimPrefix(it.Encounter, "Encounter/"), patient: it.Patient,
			Admitted: day(it.Admitted), Discharged: day(it.Discharged), AgeDays: it.AgeDays, Status: it.Status, discharged: it.Discharged}
		if it.Status == coding.StatusDraft {
			v.Drafts++
		}
		rows = append(rows, rw)
	}
	// Names, services and attendings are read for the rows shown only,
	// unless the queue is sorted by one of them.
	byName := v.Sort == "patient" || v.Sort == "service" || v.Sort == "attending"
	if byName && len(rows) > 0 {
		enc, names, err := p.details(ctx, nil)
		if err != nil {
			return err
		}
		if err := p.fill(ctx, rows, enc, names); err != nil {
			return err
		}
	}
	sortRows(rows, v.Sort, v.Desc)
	v.Pages = max(1, (len(rows)+dnfbPage-1)/dnfbPage)
	if page > v.Pages {
		return custodian.Errorf(custodian.ENOTFOUND, "There is no page %d (the queue has %d).", page, v.Pages)
	}
	v.Rows = rows[(page-1)*dnfbPage : min(len(rows), page*dnfbPage)]
	if !byName && len(v.Rows) > 0 {
		ids := make([]string, len(v.Rows))
		for i, rw := range v.Rows {
			ids[i] = rw.ID
		}
		enc, names, err := p.details(ctx, ids)
		if err != nil {
			return err
		}
		if err := p.fill(ctx, v.Rows, enc, names); err != nil {
			return err
		}
	}
	sortQuery := "sort=" + v.Sort
	if v.Desc {
		sortQuery += "&dir=desc"
	}
	if page > 1 {
		v.Prev = PathDNFB + "?" + sortQuery + "&page=" + strconv.Itoa(page-1)
	}
	if page < v.Pages {
		v.Next = PathDNFB + "?" + sortQuery + "&page=" + strconv.Itoa(page+1)
	}
	for _, k := range sortKeys {
		c := column{Key: k.key, Label: k.label, Numeric: k.key == "age", Href: PathDNFB + "?sort=" + k.key}
		if k.key == v.Sort {
			c.Sorted = "ascending"
			if v.Desc {
				c.Sorted = "descending"
			} else {
				c.Href += "&dir=desc"
			}
		}
		v.Columns = append(v.Columns, c)
	}
	return p.render(w, r, "Coding queue (DNFB)", "dnfb", v)
}

// dnfbPage is how many encounters a page of the queue lists.
const dnfbPage = 100

// fill puts each row's patient name, service and attending in. A
// patient the search did not include (names has no entry) is hidden from
// the user if it is stored: the row is marked restricted and shows no
// name.
func (p *pages) fill(ctx context.Context, rows []row, enc map[string]encounterFacts, names map[string]string) error {
	var absent []string
	for i := range rows {
		f := enc[rows[i].ID]
		rows[i].Service, rows[i].Attending = f.Service, names[f.Attending]
		name, ok := names[rows[i].patient]
		if rows[i].Patient = name; name == "" {
			rows[i].Patient = "(no name)"
		}
		if id, isPatient := strings.CutPrefix(rows[i].patient, "Patient/"); !ok && isPatient {
			absent = append(absent, id)
		}
	}
	if len(absent) == 0 {
		return nil
	}
	slices.Sort(absent)
	absent = slices.Compact(absent)
	// Stored or not is asked as Custodian (it reveals existence alone,
	// which the stay's subject reference already claims).
	stored, err := p.q.Store.Exist(custodian.NewContextWithActor(ctx, custodian.SystemActor()), "Patient", absent)
	if err != nil {
		return err
	}
	hidden := map[string]bool{}
	for i, id := range absent {
		hidden["Patient/"+id] = stored[i]
	}
	for i := range rows {
		if hidden[rows[i].patient] {
			rows[i].Patient, rows[i].Restricted = "", true
		}
	}
	return nil
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// sortRows orders the queue by a column; ties fall back to the oldest
// discharge first, then the encounter id, so the order is stable.
func sortRows(rows []row, key string, desc bool) {
	by := func(a, b row) int {
		switch key {
		case "patient":
			return strings.Compare(strings.ToLower(a.Patient), strings.ToLower(b.Patient))
		case "service":
			return strings.Compare(a.Service, b.Service)
		case "attending":
			return strings.Compare(a.Attending, b.Attending)
		case "admitted":
			return strings.Compare(a.Admitted, b.Admitted)
		case "discharged":
			return a.discharged.Compare(b.discharged)
		case "status":
			return strings.Compare(a.Status, b.Status)
		}
		return cmp.Compare(a.AgeDays, b.AgeDays)
	}
	slices.SortStableFunc(rows, func(a, b row) int {
		c := by(a, b)
		if desc {
			c = -c
		}
		return cmp.Or(c, a.discharged.Compare(b.discharged), strings.Compare(a.ID, b.ID))
	})
}
