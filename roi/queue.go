package roi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"time"

	"github.com/custodian-him/custodian"
)

// ExtendedSystem codes the second coding of an extended request's
// businessStatus (ExtendedCode), so the queue can be searched in due-date
// order: a request is due ResponseDays after it was received, or
// ResponseDays+ExtensionDays once extended, so the requests of each kind
// in order of receipt (authored-on) are in order of due date, and the
// queue is the merge of the two.
const (
	ExtendedSystem = "https://custodian-him.org/fhir/CodeSystem/roi-due"
	ExtendedCode   = "extended"
)

// PageQuery asks for one page of the queue.
type PageQuery struct {
	Filter
	// Overdue selects open requests past their due date (at Service.Now).
	Overdue bool
	// Count is the page size (DefaultPageSize when 0, at most MaxPageSize).
	Count int
	// Cursor continues from a previous Page's Next ("" for the first page).
	Cursor string
	// Total asks for the number of requests the query selects.
	Total bool
}

// Page sizes.
const (
	DefaultPageSize = 25
	MaxPageSize     = 500
)

// Page is a page of the queue, oldest due date first.
type Page struct {
	Requests []*Request
	// Next continues with the following page ("" after the last).
	Next string
	// Total is the number of requests selected, or -1 when not asked.
	Total int
}

// queueCursor is where each of the two streams stands: the store cursor
// of the page it is in ("" for the first) and how many of that page's
// requests were already shown; Done once it has run out.
type queueCursor struct {
	A, B         string `json:",omitempty"`
	SkipA, SkipB int    `json:",omitempty"`
	DoneA, DoneB bool   `json:",omitempty"`
}

// Page returns one page of the requests q selects in due-date order. It
// reads and decodes about two pages of requests from the store, however
// long the queue: the requests are searched (status, patient, due date)
// and sorted by the store, in two streams (not extended, extended) that
// are merged here.
func (s *Service) Page(ctx context.Context, q PageQuery) (*Page, error) {
	n := q.Count
	if n == 0 {
		n = DefaultPageSize
	}
	if n < 0 || n > MaxPageSize {
		return nil, custodian.Errorf(custodian.EINVALID, "the page size must be from 1 to %d", MaxPageSize)
	}
	var cur queueCursor
	if q.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		if err != nil || json.Unmarshal(raw, &cur) != nil {
			return nil, custodian.Errorf(custodian.EINVALID, "the queue's paging cursor is not valid")
		}
	}
	now := s.now()
	var bound time.Time
	if q.Overdue {
		bound = now
	}
	a := &stream{crit: s.queueCriteria(q.Filter, q.Overdue, notExtended, bound), cur: cur.A, skip: cur.SkipA, done: cur.DoneA}
	b := &stream{crit: s.queueCriteria(q.Filter, q.Overdue, extended, bound), cur: cur.B, skip: cur.SkipB, done: cur.DoneB}
	for _, st := range []*stream{a, b} {
		if err := s.fill(ctx, st, n); err != nil {
			return nil, err
		}
	}
	out := &Page{Total: -1}
	for len(out.Requests) < n {
		var take *stream
		switch {
		case a.len() == 0 && b.len() == 0:
		case b.len() == 0:
			take = a
		case a.len() == 0:
			take = b
		default:
			ra, rb := a.head(), b.head()
			take = a
			if c := rb.Due.Compare(ra.Due); c < 0 || c == 0 && rb.Received.Before(ra.Received) {
				take = b
			}
		}
		if take == nil {
			break
		}
		out.Requests = append(out.Requests, take.pop())
	}
	next := queueCursor{A: a.cur, SkipA: a.skip, DoneA: a.exhausted(), B: b.cur, SkipB: b.skip, DoneB: b.exhausted()}
	if !next.DoneA || !next.DoneB {
		raw, _ := json.Marshal(next)
		out.Next = base64.RawURLEncoding.EncodeToString(raw)
	}
	if q.Total {
		if !q.Overdue {
			t, err := s.count(ctx, s.queueCriteria(q.Filter, false, eitherKind, time.Time{}))
			if err != nil {
				return nil, err
			}
			out.Total = t
		} else {
			out.Total = 0
			for _, st := range []*stream{a, b} {
				c, err := s.count(ctx, st.crit)
				if err != nil {
					return nil, err
				}
				out.Total += c
			}
		}
	}
	return out, nil
}

// QueueCounts are the figures of the dashboard card.
type QueueCounts struct {
	Open, Overdue, DueSoon int
}

// Counts counts the open requests, those overdue and those due within
// soonDays days (and not overdue), with count-only searches.
func (s *Service) Counts(ctx context.Context, soonDays int) (*QueueCounts, error) {
	now := s.now()
	f := Filter{Open: true}
	var c QueueCounts
	soon := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, soonDays+1)
	open, err := s.count(ctx, s.queueCriteria(f, false, eitherKind, time.Time{}))
	if err != nil {
		return nil, err
	}
	c.Open = open
	for _, ext := range []requestKind{notExtended, extended} {
		late, err := s.count(ctx, s.queueCriteria(f, true, ext, now))
		if err != nil {
			return nil, err
		}
		bySoon, err := s.count(ctx, s.queueCriteria(f, true, ext, soon))
		if err != nil {
			return nil, err
		}
		c.Overdue += late
		c.DueSoon += bySoon - late
	}
	return &c, nil
}

// requestKind selects requests by whether they were extended.
type requestKind int

const (
	eitherKind requestKind = iota
	notExtended
	extended
)

// queueCriteria is the search of one stream: release requests of f, of
// kind, and when dueBefore is set only open ones due before it (kind must
// then be notExtended or extended).
func (s *Service) queueCriteria(f Filter, open bool, kind requestKind, dueBefore time.Time) string {
	v := url.Values{}
	v.Set("code", TaskSystem+"|"+TaskCode)
	if f.Patient != "" {
		v.Set("subject", "Patient/"+f.Patient)
	}
	switch {
	case f.Status != "" && !open:
		v.Add("business-status", StatusSystem+"|"+string(f.Status))
	case f.Open || open:
		v.Add("business-status", StatusSystem+"|"+string(Requested)+","+StatusSystem+"|"+string(InReview))
	}
	switch kind {
	case extended:
		v.Add("business-status", ExtendedSystem+"|"+ExtendedCode)
	case notExtended:
		v.Add("business-status:not", ExtendedSystem+"|"+ExtendedCode)
	}
	if !dueBefore.IsZero() {
		days := ResponseDays
		if kind == extended {
			days += ExtensionDays
		}
		v.Set("authored-on", "lt"+dueBefore.UTC().AddDate(0, 0, -days).Format("2006-01-02T15:04:05Z"))
	}
	v.Set("_sort", "authored-on")
	return v.Encode()
}

// count counts the Tasks criteria selects without reading them.
func (s *Service) count(ctx context.Context, criteria string) (int, error) {
	q, err := s.Store.ParseQueryString("Task", criteria)
	if err != nil {
		return 0, err
	}
	q.Count, q.CountTotal = 0, true
	p, err := s.Store.Search(ctx, q)
	if err != nil {
		return 0, err
	}
	return int(p.Total), nil
}

// stream is one sorted search of the queue, read a store page at a time.
type stream struct {
	crit string
	// cur and skip are where the next request to show is: the store page
	// starting at cursor cur, after skip requests; done once none is left.
	cur  string
	skip int
	done bool
	// pages read and not yet used up.
	pages []*streamPage
}

type streamPage struct {
	// cursor is the store cursor of the page and next the one after it.
	cursor, next string
	// base requests at the start of the page were shown before; reqs are
	// the rest, and at the first of them not yet shown.
	base int
	reqs []*Request
	at   int
}

// fill reads store pages until the stream holds n requests or has none
// left.
func (s *Service) fill(ctx context.Context, st *stream, n int) error {
	if st.done {
		return nil
	}
	cursor, skip := st.cur, st.skip
	for st.len() < n {
		q, err := s.Store.ParseQueryString("Task", st.crit)
		if err != nil {
			return err
		}
		q.Count, q.Cursor = n, cursor
		res, err := s.Store.Search(ctx, q)
		if err != nil {
			return err
		}
		pg := &streamPage{cursor: cursor, next: res.Next, base: skip}
		for _, r := range res.Resources[min(skip, len(res.Resources)):] {
			req, err := requestOf(r)
			if err != nil {
				return err
			}
			pg.reqs = append(pg.reqs, req)
		}
		st.pages = append(st.pages, pg)
		if res.Next == "" {
			break
		}
		cursor, skip = res.Next, 0
	}
	st.settle()
	return nil
}

// settle drops used-up pages from the front and updates cur and skip.
func (st *stream) settle() {
	for len(st.pages) > 0 {
		p := st.pages[0]
		if p.at < len(p.reqs) {
			st.cur, st.skip = p.cursor, p.base+p.at
			return
		}
		st.pages = st.pages[1:]
		if p.next == "" {
			st.done = true
			return
		}
		st.cur, st.skip = p.next, 0
	}
}

func (st *stream) len() int {
	n := 0
	for _, p := range st.pages {
		n += len(p.reqs) - p.at
	}
	return n
}

func (st *stream) head() *Request {
	p := st.pages[0]
	return p.reqs[p.at]
}

func (st *stream) pop() *Request {
	r := st.head()
	st.pages[0].at++
	st.settle()
	return r
}

// exhausted reports whether nothing is left after what was shown.
func (st *stream) exhausted() bool { return st.done }

// MarkExtended adds the ExtendedCode coding to requests extended before
// the queue searched by it (their Task has the extension's input but not
// the coding), so Page puts them in due-date order. It reads every
// request once and rewrites only those; it returns how many.
func (s *Service) MarkExtended(ctx context.Context) (int, error) {
	rs, err := s.List(ctx, Filter{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rs {
		if r.ExtensionReason == "" {
			continue
		}
		res, err := s.Store.Read(ctx, "Task", r.ID)
		if err != nil {
			return n, err
		}
		if bytes.Contains(res.Body, []byte(ExtendedSystem)) {
			continue
		}
		if _, err := s.write(ctx, r, r.Version); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
