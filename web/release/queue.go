package release

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/roi"
	"github.com/custodian-him/custodian/web"
)

// soonDays is how close to its due date an open request is flagged.
const soonDays = 5

// queueRow is one request in the queue.
type queueRow struct {
	*roi.Request
	// Patient is the patient's name, "" when the user may not see it.
	PatientName      string
	Age, DaysLeft    int
	Overdue, DueSoon bool
}

type queueView struct {
	Status   string
	Overdue  bool
	Statuses []option
	Rows     []queueRow
	// Total is the number of requests the filters select; Rows shows
	// page Page of them, with links to the pages before and after.
	Total      int
	Page       int
	Prev, Next string
}

// pageSize is how many requests one page of the queue shows; maxBack is
// how many pages back the links remember.
const (
	pageSize = 100
	maxBack  = 200
)

var statusOptions = []option{
	{"open", "open (requested or in review)"},
	{string(roi.Requested), "requested"},
	{string(roi.InReview), "in review"},
	{string(roi.Fulfilled), "fulfilled"},
	{string(roi.Denied), "denied"},
	{string(roi.Cancelled), "cancelled"},
	{"all", "all"},
}

// queue lists the requests the filters (status, overdue) select, the
// earliest due first.
func (p *pages) queue(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	v := &queueView{Status: q.Get("status"), Overdue: q.Get("overdue") == "1", Statuses: statusOptions}
	if v.Status == "" {
		v.Status = "open"
	}
	if !slices.ContainsFunc(statusOptions, func(o option) bool { return o.Value == v.Status }) {
		return custodian.Errorf(custodian.EINVALID, "There is no request status %q.", v.Status)
	}
	// Pages are read a page at a time: the link to the next page carries
	// its cursor, and every earlier page's cursor ("back") for the way back.
	back := q["back"]
	if len(back) > maxBack {
		return custodian.Errorf(custodian.EINVALID, "The queue goes back at most %d pages.", maxBack)
	}
	cursor := q.Get("cursor")
	if cursor == "" && len(back) > 0 {
		return custodian.Errorf(custodian.EINVALID, "A page after the first needs its cursor.")
	}
	v.Page = 1
	if cursor != "" {
		v.Page = len(back) + 2
	}
	var f roi.Filter
	switch v.Status {
	case "open":
		f.Open = true
	case "all":
	default:
		f.Status = roi.Status(v.Status)
	}
	page, err := p.svc.Page(r.Context(), roi.PageQuery{Filter: f, Overdue: v.Overdue, Count: pageSize, Cursor: cursor, Total: true})
	if err != nil {
		return err
	}
	v.Total = page.Total
	now := p.now()
	var ids []string
	for _, rq := range page.Requests {
		row := queueRow{Request: rq, Age: rq.Age(now), DaysLeft: rq.DaysLeft(now), Overdue: rq.Overdue(now)}
		row.DueSoon = rq.Status.Open() && !row.Overdue && row.DaysLeft <= soonDays
		v.Rows = append(v.Rows, row)
		ids = append(ids, rq.Patient)
	}
	link := func(cursor string, back []string) string {
		u := url.Values{"status": {v.Status}}
		if cursor != "" {
			u.Set("cursor", cursor)
		}
		if len(back) > 0 {
			u["back"] = back
		}
		if v.Overdue {
			u.Set("overdue", "1")
		}
		return PathQueue + "?" + u.Encode()
	}
	if len(back) > 0 {
		// back holds the cursors of the pages before this one; the first
		// page's is "" and is not carried.
		prev := back[len(back)-1]
		v.Prev = link(prev, back[:len(back)-1])
	} else if cursor != "" {
		v.Prev = link("", nil)
	}
	if page.Next != "" {
		var next []string
		if cursor != "" {
			next = append(slices.Clone(back), cursor)
		}
		v.Next = link(page.Next, next)
	}
	names, err := p.names(r.Context(), ids)
	if err != nil {
		return err
	}
	for i := range v.Rows {
		v.Rows[i].PatientName = names[v.Rows[i].Patient]
	}
	return p.render(w, r, http.StatusOK, "Release of information", PathQueue, "queue", v)
}

// cards is the dashboard's release-of-information card: open and overdue
// requests, for the roles that work them.
func (p *pages) cards(ctx context.Context) ([]web.Card, error) {
	if !access.HasRole(custodian.ActorFromContext(ctx), p.workRoles) {
		return nil, nil
	}
	c, err := p.svc.Counts(ctx, soonDays)
	if err != nil {
		return nil, err
	}
	v := struct{ Open, Late, Soon int }{Open: c.Open, Late: c.Overdue, Soon: c.DueSoon}
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, "card", v); err != nil {
		return nil, custodian.Errorf(custodian.EINTERNAL, "release card: %v", err)
	}
	return []web.Card{{Slot: "roi", Title: "Release of information", Body: template.HTML(b.String())}}, nil
}
