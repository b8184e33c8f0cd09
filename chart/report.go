package chart

import (
	"slices"
	"sort"
	"time"
)

// Item is one deficiency in a queue, with its Task.
type Item struct {
	*Deficiency
	TaskID string
	Status string
	// Age is how long the record has been deficient (from Since).
	Age time.Duration
	// Delinquent is set when the record is past its completion limit.
	Delinquent bool
}

// QueueFilter chooses a queue's items; empty fields match everything.
type QueueFilter struct {
	Kind, Service, Owner, Class string
	// Unassigned keeps only items with no owner.
	Unassigned bool
	// Closed includes completed and cancelled Tasks.
	Closed bool
	// Sort is "age" (oldest first, the default), "due", "owner" or "service".
	Sort string
}

// Queue returns the analyst's work queue: the deficiencies the filter
// chooses, oldest first (or as Sort says).
func (rv *Reviewer) Queue(f QueueFilter) []*Item {
	now := rv.Now()
	rv.mu.Lock()
	limit := rv.rules.recordLimit()
	var out []*Item
	for _, t := range rv.tasks {
		d := t.D
		if (!f.Closed && t.Status != StatusRequested) || (f.Kind != "" && d.Kind != f.Kind) ||
			(f.Service != "" && d.Service != f.Service) || (f.Owner != "" && d.Owner != f.Owner) ||
			(f.Class != "" && d.Class != f.Class) || (f.Unassigned && d.Owner != "") {
			continue
		}
		it := &Item{Deficiency: d, TaskID: t.ID, Status: t.Status}
		if !d.Since.IsZero() {
			end := now
			if !d.Cleared.IsZero() {
				end = d.Cleared
			}
			it.Age = end.Sub(d.Since)
		}
		it.Delinquent = t.Status == StatusRequested && !d.Discharge.IsZero() && now.After(d.Discharge.Add(limit))
		out = append(out, it)
	}
	rv.mu.Unlock()
	less := func(a, b *Item) bool { return a.Since.Before(b.Since) }
	switch f.Sort {
	case "due":
		less = func(a, b *Item) bool { return a.Due.Before(b.Due) }
	case "owner":
		less = func(a, b *Item) bool { return a.Owner < b.Owner }
	case "service":
		less = func(a, b *Item) bool { return a.Service < b.Service }
	}
	sort.SliceStable(out, func(i, j int) bool {
		if less(out[i], out[j]) != less(out[j], out[i]) {
			return less(out[i], out[j])
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// ClinicianList is a clinician's own open deficiencies (owner is a
// Practitioner reference), oldest first.
func (rv *Reviewer) ClinicianList(owner string) []*Item {
	return rv.Queue(QueueFilter{Owner: owner})
}

// Month is one calendar month's delinquency figures.
type Month struct {
	Month string `json:"month"` // YYYY-MM
	// Discharges in the month.
	Discharges int `json:"discharges"`
	// Delinquent records at the month's end: discharged more than the
	// completion limit before it, with a deficiency open then.
	Delinquent int `json:"delinquent"`
	// Rate is Delinquent over the average monthly discharges of the
	// report's months (the Joint Commission's comparison).
	Rate float64 `json:"rate"`
	// Raised and Cleared count deficiencies that arose and ended in the
	// month (the trend), Raised also by kind.
	Raised  int            `json:"raised"`
	Cleared int            `json:"cleared"`
	ByKind  map[string]int `json:"byKind"`
}

// Delinquency returns the figures of each month from from's month to
// to's, in the hospital time zone loc (UTC when nil).
func (rv *Reviewer) Delinquency(from, to time.Time, loc *time.Location) []*Month {
	if loc == nil {
		loc = time.UTC
	}
	rv.mu.Lock()
	defer rv.mu.Unlock()
	limit := rv.rules.recordLimit()
	first := time.Date(from.In(loc).Year(), from.In(loc).Month(), 1, 0, 0, 0, 0, loc)
	var months []*Month
	var ends []time.Time
	for m := first; !m.After(to); m = m.AddDate(0, 1, 0) {
		months = append(months, &Month{Month: m.Format("2006-01"), ByKind: map[string]int{}})
		ends = append(ends, m.AddDate(0, 1, 0))
	}
	if len(months) == 0 {
		return nil
	}
	// The month of t: the first whose end is after it (instants compared,
	// so no time zone conversion per encounter).
	idx := func(t time.Time) int {
		if t.Before(first) {
			return -1
		}
		i, _ := slices.BinarySearchFunc(ends, t, func(end, t time.Time) int {
			if end.After(t) {
				return 1
			}
			return -1
		})
		if i >= len(months) {
			return -1
		}
		return i
	}
	for q, n := range rv.ix.discharges {
		if i := idx(time.Unix(q*900, 0)); i >= 0 {
			months[i].Discharges += n
		}
	}
	delinquent := make([]map[string]bool, len(months))
	for i := range delinquent {
		delinquent[i] = map[string]bool{}
	}
	for _, t := range rv.tasks {
		d := t.D
		if t.Status == StatusCancelled {
			continue
		}
		if i := idx(d.Since); i >= 0 {
			months[i].Raised++
			months[i].ByKind[d.Kind]++
		}
		if !d.Cleared.IsZero() {
			if i := idx(d.Cleared); i >= 0 {
				months[i].Cleared++
			}
		}
		if d.Discharge.IsZero() {
			continue
		}
		for i, end := range ends {
			open := !d.Since.After(end) && (d.Cleared.IsZero() || d.Cleared.After(end))
			if open && end.After(d.Discharge.Add(limit)) {
				delinquent[i][d.Encounter] = true
			}
		}
	}
	total := 0
	for _, m := range months {
		total += m.Discharges
	}
	avg := float64(total) / float64(len(months))
	for i, m := range months {
		m.Delinquent = len(delinquent[i])
		if avg > 0 {
			m.Rate = float64(m.Delinquent) / avg
		}
	}
	return months
}

// Tally is one clinician's deficiency counts.
type Tally struct {
	Owner      string         `json:"owner"`
	Open       int            `json:"open"`
	Delinquent int            `json:"delinquent"` // open on records past the completion limit
	Late       int            `json:"late"`       // breaches already ended (filed late)
	Completed  int            `json:"completed"`
	ByKind     map[string]int `json:"byKind"` // open, by kind
}

// Tallies returns per-clinician counts, most open first ("" is unassigned).
func (rv *Reviewer) Tallies() []*Tally {
	now := rv.Now()
	rv.mu.Lock()
	limit := rv.rules.recordLimit()
	by := map[string]*Tally{}
	for _, t := range rv.tasks {
		d := t.D
		x := by[d.Owner]
		if x == nil {
			x = &Tally{Owner: d.Owner, ByKind: map[string]int{}}
			by[d.Owner] = x
		}
		switch {
		case t.Status == StatusRequested:
			x.Open++
			x.ByKind[d.Kind]++
			if !d.Discharge.IsZero() && now.After(d.Discharge.Add(limit)) {
				x.Delinquent++
			}
		case t.Status == StatusCompleted && d.Cleared.After(d.Due) && !d.Due.IsZero():
			x.Late++
		case t.Status == StatusCompleted:
			x.Completed++
		}
	}
	rv.mu.Unlock()
	out := make([]*Tally, 0, len(by))
	for _, x := range by {
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Open != out[j].Open {
			return out[i].Open > out[j].Open
		}
		return out[i].Owner < out[j].Owner
	})
	return out
}
