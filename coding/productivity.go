package coding

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/custodian-him/custodian/store"
)

// CoderStats is one coder's work over a period, from the coding Claims'
// versions.
type CoderStats struct {
	Coder string `json:"coder"`
	// Finalized counts finalisations (versions with status active);
	// Encounters the distinct encounters finalised; Refinalized the
	// finalisations of an encounter already finalised before (rework).
	Finalized   int `json:"finalized"`
	Encounters  int `json:"encounters"`
	Refinalized int `json:"refinalized"`
	Drafts      int `json:"drafts"`
	// ActiveHours counts the distinct clock hours in which the coder saved
	// anything; PerHour is Encounters / ActiveHours.
	ActiveHours int     `json:"activeHours"`
	PerHour     float64 `json:"perHour"`
	// WithEdits counts finalisations that carried at least one edit
	// (warnings; errors block finalising); EditRate is WithEdits /
	// Finalized; Edits counts the edits by code.
	WithEdits int            `json:"withEdits"`
	EditRate  float64        `json:"editRate"`
	Edits     map[string]int `json:"edits,omitempty"`
}

// AgeBucket counts DNFB encounters by days since discharge.
type AgeBucket struct {
	Label    string `json:"label"` // "0-3", "4-7", "8-14", "15-30", "31+"
	From, To int    `json:"-"`
	Count    int    `json:"count"`
}

// Productivity is the coding report for a period.
type Productivity struct {
	From, To time.Time    `json:"-"`
	Coders   []CoderStats `json:"coders"`
	DNFB     []AgeBucket  `json:"dnfb"`
	DNFBSize int          `json:"dnfbSize"`
}

// Productivity computes per-coder figures from the history of the coding
// Claims saved in [from, to) (zero times: unbounded), and the DNFB's age
// buckets as of now.
func (q *Queue) Productivity(ctx context.Context, from, to time.Time) (*Productivity, error) {
	type acc struct {
		CoderStats
		hours map[int64]bool
		encs  map[string]bool
	}
	by := map[string]*acc{}
	var versions []*store.Resource
	f := store.HistoryFilter{Type: "Claim", Count: 500}
	if !from.IsZero() {
		f.Since = from.UnixMilli()
	}
	for {
		page, err := q.Store.History(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, v := range page.Versions {
			if strings.HasPrefix(v.ID, claimPrefix) && !v.Deleted && (to.IsZero() || v.LastUpdated.Before(to)) && (from.IsZero() || !v.LastUpdated.Before(from)) {
				versions = append(versions, v)
			}
		}
		if page.Next == 0 {
			break
		}
		f.Before = page.Next
	}
	// oldest first, so rework is seen as such
	slices.SortFunc(versions, func(a, b *store.Resource) int {
		if c := a.LastUpdated.Compare(b.LastUpdated); c != 0 {
			return c
		}
		return cmp.Compare(a.VersionID, b.VersionID)
	})
	finalized := map[string]bool{}
	for _, v := range versions {
		var c struct {
			Status    string
			Extension []struct{ URL, ValueCode string }
		}
		if err := json.Unmarshal(v.Body, &c); err != nil {
			continue
		}
		a := by[v.Author]
		if a == nil {
			a = &acc{CoderStats: CoderStats{Coder: v.Author, Edits: map[string]int{}}, hours: map[int64]bool{}, encs: map[string]bool{}}
			by[v.Author] = a
		}
		a.hours[v.LastUpdated.Unix()/3600] = true
		if c.Status != "active" {
			a.Drafts++
			continue
		}
		a.Finalized++
		if finalized[v.ID] {
			a.Refinalized++
		}
		finalized[v.ID] = true
		a.encs[v.ID] = true
		n := 0
		for _, e := range c.Extension {
			if e.URL == ExtEdit {
				a.Edits[e.ValueCode]++
				n++
			}
		}
		if n > 0 {
			a.WithEdits++
		}
	}
	out := &Productivity{From: from, To: to}
	for _, a := range by {
		s := a.CoderStats
		s.Encounters, s.ActiveHours = len(a.encs), len(a.hours)
		if s.ActiveHours > 0 {
			s.PerHour = float64(s.Encounters) / float64(s.ActiveHours)
		}
		if s.Finalized > 0 {
			s.EditRate = float64(s.WithEdits) / float64(s.Finalized)
		}
		if len(s.Edits) == 0 {
			s.Edits = nil
		}
		out.Coders = append(out.Coders, s)
	}
	slices.SortFunc(out.Coders, func(a, b CoderStats) int { return cmp.Compare(a.Coder, b.Coder) })
	list, err := q.DNFB(ctx)
	if err != nil {
		return nil, err
	}
	out.DNFB = AgeBuckets(list)
	out.DNFBSize = len(list)
	return out, nil
}

// AgeBuckets counts DNFB items by days since discharge: 0-3, 4-7, 8-14,
// 15-30 and 31 or more.
func AgeBuckets(list []DNFBItem) []AgeBucket {
	b := []AgeBucket{{Label: "0-3", From: 0, To: 3}, {Label: "4-7", From: 4, To: 7}, {Label: "8-14", From: 8, To: 14},
		{Label: "15-30", From: 15, To: 30}, {Label: "31+", From: 31, To: 1 << 30}}
	for _, it := range list {
		for i := range b {
			if it.AgeDays >= b[i].From && it.AgeDays <= b[i].To {
				b[i].Count++
				break
			}
		}
	}
	return b
}
