package roi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/roi"
	"github.com/custodian-him/custodian/store"
)

// loadRequests stores n release requests for the env's patient straight
// from their Task form (as Submit would write them): received over the 90
// days before the clock, every fifth extended, every seventh fulfilled,
// every eleventh in review.
func (e *env) loadRequests(n int) {
	e.t.Helper()
	var batch []map[string]any
	flush := func() {
		res, err := e.st.PutBatch(system(), batch)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				e.t.Fatal(r.Err)
			}
		}
		batch = batch[:0]
	}
	for i := range n {
		received := clock.Add(-time.Duration((i*7919)%(90*24*60)) * time.Minute)
		r := &roi.Request{ID: store.NewUUID(), Number: fmt.Sprintf("ROI-%06d", i), Patient: e.patient, RequesterKind: roi.Attorney,
			RequesterName: "Baker & Lowe LLP", Purpose: "HLEGAL", Basis: roi.BasisAuthorization, Authorization: "a1",
			Types: []string{"DocumentReference"}, Received: received, Due: roi.DueDate(received, i%5 == 0), Status: roi.Requested}
		if i%5 == 0 {
			r.ExtensionReason = "records off site"
		}
		switch {
		case i%7 == 0:
			r.Status = roi.Fulfilled
		case i%11 == 0:
			r.Status = roi.InReview
		}
		batch = append(batch, roi.TaskOf(r))
		if len(batch) == 500 {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
}

// TestQueuePages: the pages of the queue, followed to the end, are the
// requests List returns in due-date order (extended requests in their
// place), for each filter; overdue and totals agree with the requests'
// own figures.
func TestQueuePages(t *testing.T) {
	e := newEnv(t)
	e.loadRequests(230)
	// One extended through the service, so Extend marks it for the queue.
	r := e.attorneyRequest(e.authorize(nil).ID, nil)
	if _, err := e.svc.Extend(specialist(), r.ID, "records off site"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		q    roi.PageQuery
		keep func(r *roi.Request) bool
	}{
		{"open", roi.PageQuery{Filter: roi.Filter{Open: true}, Count: 17}, func(r *roi.Request) bool { return r.Status.Open() }},
		{"overdue", roi.PageQuery{Filter: roi.Filter{Open: true}, Overdue: true, Count: 10}, func(r *roi.Request) bool { return r.Overdue(e.now) }},
		{"fulfilled", roi.PageQuery{Filter: roi.Filter{Status: roi.Fulfilled}, Count: 9}, func(r *roi.Request) bool { return r.Status == roi.Fulfilled }},
		{"all", roi.PageQuery{Count: 50}, func(*roi.Request) bool { return true }},
		{"in review", roi.PageQuery{Filter: roi.Filter{Status: roi.InReview}, Count: 3}, func(r *roi.Request) bool { return r.Status == roi.InReview }},
	}
	all, err := e.svc.List(specialist(), roi.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want []*roi.Request
			for _, r := range all {
				if c.keep(r) {
					want = append(want, r)
				}
			}
			if len(want) < 3 {
				t.Fatalf("only %d requests to page through", len(want))
			}
			q := c.q
			q.Total = true
			var got []*roi.Request
			for pages := 0; ; pages++ {
				p, err := e.svc.Page(specialist(), q)
				if err != nil {
					t.Fatal(err)
				}
				if p.Total != len(want) {
					t.Errorf("total %d, want %d", p.Total, len(want))
				}
				if len(p.Requests) > q.Count || p.Next != "" && len(p.Requests) != q.Count {
					t.Fatalf("page of %d, size %d", len(p.Requests), q.Count)
				}
				got = append(got, p.Requests...)
				if p.Next == "" || pages > 1000 {
					break
				}
				q.Cursor = p.Next
			}
			if len(got) != len(want) {
				t.Fatalf("%d requests over the pages, want %d", len(got), len(want))
			}
			for i := range got {
				if i > 0 && got[i].Due.Before(got[i-1].Due) {
					t.Fatalf("request %d due %s before the previous one's %s", i, got[i].Due, got[i-1].Due)
				}
			}
			ids := func(rs []*roi.Request) []string {
				var out []string
				for _, r := range rs {
					out = append(out, r.ID)
				}
				slices.Sort(out)
				return out
			}
			if !slices.Equal(ids(got), ids(want)) {
				t.Error("the pages hold other requests than the list")
			}
		})
	}
	counts, err := e.svc.Counts(specialist(), 7)
	if err != nil {
		t.Fatal(err)
	}
	var open, late, soon int
	for _, r := range all {
		if r.Status.Open() {
			open++
			if r.Overdue(e.now) {
				late++
			} else if r.DaysLeft(e.now) <= 7 {
				soon++
			}
		}
	}
	if *counts != (roi.QueueCounts{Open: open, Overdue: late, DueSoon: soon}) {
		t.Errorf("counts %+v, want open %d overdue %d due soon %d", *counts, open, late, soon)
	}
	if _, err := e.svc.Page(specialist(), roi.PageQuery{Cursor: "not-a-cursor"}); code(err) != custodian.EINVALID {
		t.Errorf("bad cursor: %v", err)
	}
}

// TestMarkExtended: a request extended before the queue searched by its
// businessStatus coding (written here without it) is found in the
// extended stream, in due-date order, once MarkExtended has run.
func TestMarkExtended(t *testing.T) {
	e := newEnv(t)
	e.loadRequests(60)
	r := e.attorneyRequest(e.authorize(nil).ID, func(r *roi.Request) { r.Received = day("2026-02-20") })
	x, err := e.svc.Extend(specialist(), r.ID, "records off site")
	if err != nil {
		t.Fatal(err)
	}
	// The Task as an older version wrote it: the extension input, no coding.
	old, err := e.st.Read(system(), "Task", r.ID)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(old.Body), `{"code":"extended","system":"`+roi.ExtendedSystem+`"}`, ``, 1)
	body = strings.Replace(body, `,]`, `]`, 1)
	if body == string(old.Body) {
		t.Fatalf("the fixture did not find the coding in %s", old.Body)
	}
	if _, err := e.st.Update(system(), "Task", r.ID, []byte(body), store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	inOrder := func() bool {
		p, err := e.svc.Page(specialist(), roi.PageQuery{Filter: roi.Filter{Open: true}, Count: roi.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(p.Requests); i++ {
			if p.Requests[i].Due.Before(p.Requests[i-1].Due) {
				return false
			}
		}
		return true
	}
	if inOrder() {
		t.Fatalf("the queue is in order with an unmarked extended request due %s; the test shows nothing", x.Due)
	}
	n, err := e.svc.MarkExtended(specialist())
	if err != nil || n != 1 {
		t.Fatalf("marked %d: %v", n, err)
	}
	if !inOrder() {
		t.Error("the queue is out of due-date order after MarkExtended")
	}
	if n, _ := e.svc.MarkExtended(specialist()); n != 0 {
		t.Errorf("a second run marked %d", n)
	}
}
