package release

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/custodian-him/custodian"
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

// pageSize is how many requests one page of the queue shows.
const pageSize = 100

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
	pg := 1
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return custodian.Errorf(custodian.EINVALID, "The page must be a number from 1.")
		}
		pg = n
	}
	v.Page = pg
	var f roi.Filter
	switch v.Status {
	case "open":
		f.Open = true
	case "all":
	default:
		f.Status = roi.Status(v.Status)
	}
	reqs, err := p.svc.List(r.Context(), f)
	if err != nil {
		return err
	}
	now := p.now()
	var ids []string
	for _, rq := range reqs {
		if v.Overdue && !rq.Overdue(now) {
			continue
		}
		v.Total++
		if v.Total <= (pg-1)*pageSize || v.Total > pg*pageSize {
			continue
		}
		row := queueRow{Request: rq, Age: rq.Age(now), DaysLeft: rq.DaysLeft(now), Overdue: rq.Overdue(now)}
		row.DueSoon = rq.Status.Open() && !row.Overdue && row.DaysLeft <= soonDays
		v.Rows = append(v.Rows, row)
		ids = append(ids, rq.Patient)
	}
	link := func(n int) string {
		u := url.Values{"status": {v.Status}, "page": {strconv.Itoa(n)}}
		if v.Overdue {
			u.Set("overdue", "1")
		}
		return PathQueue + "?" + u.Encode()
	}
	if pg > 1 {
		v.Prev = link(pg - 1)
	}
	if v.Total > pg*pageSize {
		v.Next = link(pg + 1)
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
	if allow(ctx, workRoles) != nil {
		return nil, nil
	}
	reqs, err := p.svc.List(ctx, roi.Filter{Open: true})
	if err != nil {
		return nil, err
	}
	now := p.now()
	v := struct{ Open, Late, Soon int }{Open: len(reqs)}
	for _, rq := range reqs {
		switch {
		case rq.Overdue(now):
			v.Late++
		case rq.DaysLeft(now) <= soonDays:
			v.Soon++
		}
	}
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, "card", v); err != nil {
		return nil, custodian.Errorf(custodian.EINTERNAL, "release card: %v", err)
	}
	return []web.Card{{Slot: "roi", Title: "Release of information", Body: template.HTML(b.String())}}, nil
}
