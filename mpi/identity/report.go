package identity

import (
	"context"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/custodian-him/custodian/store"
)

// Report is the state of the master patient index's work.
type Report struct {
	// Patients counts the current Patients; OpenCandidates the
	// duplicate-candidate Tasks not yet decided; DuplicateRate their
	// ratio (open candidate pairs per patient).
	Patients       int64   `json:"patients"`
	OpenCandidates int     `json:"openCandidates"`
	DuplicateRate  float64 `json:"duplicateRate"`
	OpenOverlays   int     `json:"openOverlays"`
	// OldestDays and MedianDays are the ages of the open candidates, in
	// days, at the time of the report.
	OldestDays float64 `json:"oldestDays"`
	MedianDays float64 `json:"medianDays"`
	// NotDuplicate counts the pairs declared different people.
	NotDuplicate int `json:"notDuplicate"`
	// Merges and Unmerges count the merge and unmerge Tasks by month of
	// authoredOn ("2026-03").
	Merges   map[string]int `json:"merges"`
	Unmerges map[string]int `json:"unmerges"`
}

// Report reads the queue and the merges as the actor of ctx (who must be
// allowed to search Patient and Task).
func (s *Service) Report(ctx context.Context) (*Report, error) {
	now := s.Store.Now()
	q, _, err := s.Store.ParseQuery("Patient", url.Values{"_total": {"accurate"}, "_count": {"1"}}, true)
	if err != nil {
		return nil, err
	}
	page, err := s.Store.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	rep := &Report{Patients: page.Total, Merges: map[string]int{}, Unmerges: map[string]int{}}
	var ages []float64
	err = s.eachTask(ctx, func(t map[string]any) {
		status, _ := t["status"].(string)
		authored, _ := t["authoredOn"].(string)
		open := status != "completed" && status != "cancelled"
		switch taskCode(t) {
		case CodeCandidate:
			if open {
				rep.OpenCandidates++
				if at, err := time.Parse(time.RFC3339, authored); err == nil {
					ages = append(ages, now.Sub(at).Hours()/24)
				}
			} else if businessStatus(t) == BusinessNotDuplicate {
				rep.NotDuplicate++
			}
		case CodeOverlay:
			if open {
				rep.OpenOverlays++
			}
		case CodeMerge:
			if len(authored) >= 7 {
				rep.Merges[authored[:7]]++
			}
		case CodeUnmerge:
			if len(authored) >= 7 {
				rep.Unmerges[authored[:7]]++
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if rep.Patients > 0 {
		rep.DuplicateRate = float64(rep.OpenCandidates) / float64(rep.Patients)
	}
	if len(ages) > 0 {
		sort.Float64s(ages)
		rep.OldestDays = ages[len(ages)-1]
		rep.MedianDays = ages[len(ages)/2]
		if len(ages)%2 == 0 {
			rep.MedianDays = (ages[len(ages)/2-1] + ages[len(ages)/2]) / 2
		}
	}
	return rep, nil
}

// eachTask calls fn with every Task of this package's codes.
func (s *Service) eachTask(ctx context.Context, fn func(map[string]any)) error {
	codes := System + "|" + CodeCandidate + "," + System + "|" + CodeOverlay + "," + System + "|" + CodeMerge + "," + System + "|" + CodeUnmerge
	q, _, err := s.Store.ParseQuery("Task", url.Values{"code": {codes}, "_count": {"1000"}}, true)
	if err != nil {
		return err
	}
	for {
		page, err := s.Store.Search(ctx, q)
		if err != nil {
			return err
		}
		for _, r := range page.Resources {
			t, err := store.Decode(r.Body)
			if err != nil {
				return err
			}
			fn(t)
		}
		if page.Next == "" {
			return nil
		}
		q.Cursor = page.Next
	}
}

// Candidate is one pair of the duplicate-candidate queue.
type Candidate struct {
	Task string // the Task's id
	// Patient is the patient scored (the Task's focus), Other the one it
	// may be the same person as (ids, without "Patient/").
	Patient, Other string
	// Class is "link" (urgent: the model would have linked the pair) or
	// "review"; Open is false once someone decided.
	Class string
	Open  bool
}

// Candidates lists every duplicate-candidate Task, open or decided, as
// the actor of ctx (who must be allowed to search Task): for reading the
// queue as a whole, such as scoring it against known duplicates.
func (s *Service) Candidates(ctx context.Context) ([]Candidate, error) {
	var out []Candidate
	err := s.eachTask(ctx, func(t map[string]any) {
		if taskCode(t) != CodeCandidate {
			return
		}
		c := Candidate{Open: t["status"] != "completed" && t["status"] != "cancelled"}
		c.Task, _ = t["id"].(string)
		if f, ok := t["focus"].(map[string]any); ok {
			ref, _ := f["reference"].(string)
			c.Patient = strings.TrimPrefix(ref, "Patient/")
		}
		for _, in := range asList(t["input"]) {
			in, _ := in.(map[string]any)
			typ, _ := in["type"].(map[string]any)
			switch typ["text"] {
			case "other-patient":
				if r, ok := in["valueReference"].(map[string]any); ok {
					ref, _ := r["reference"].(string)
					c.Other = strings.TrimPrefix(ref, "Patient/")
				}
			case "class":
				c.Class, _ = in["valueString"].(string)
			}
		}
		out = append(out, c)
	})
	return out, err
}
