package registry

import (
	"encoding/csv"
	"io"
	"time"

	"github.com/custodian-him/custodian/measure"
)

// Abstract is a case with its form filled: the automatic fields from the
// record as it is now, the registrar's from the case, and the follow-up
// schedule.
type Abstract struct {
	*Case
	Evidence    []Evidence
	Values      map[string]string // every form field by id
	LastContact string
	NextDue     string // the next follow-up (accepted cases with a schedule)
	Overdue     bool
}

// Abstracts returns registry's cases with status ("" for all) with their
// forms filled, as of day today.
func (s *Service) Abstracts(registry, status string, today time.Time) ([]*Abstract, error) {
	d, err := s.Definition(registry)
	if err != nil {
		return nil, err
	}
	cases, err := s.Cases(registry, status)
	if err != nil {
		return nil, err
	}
	return s.abstracts(d, cases, today)
}

// AbstractsOf returns the forms of the given cases of registry (from
// Cases, e.g. one page of them), filled as of today: a list shows a page
// without filling the forms of every case.
func (s *Service) AbstractsOf(registry string, cases []*Case, today time.Time) ([]*Abstract, error) {
	d, err := s.Definition(registry)
	if err != nil {
		return nil, err
	}
	return s.abstracts(d, cases, today)
}

func (s *Service) abstracts(d *Definition, cases []*Case, today time.Time) ([]*Abstract, error) {
	day := measure.ParseDay(today.Format("2006-01-02"))
	var out []*Abstract
	err := s.Record.View(func(v *measure.View) error {
		for _, c := range cases {
			a := &Abstract{Case: c, Values: map[string]string{}}
			if p := v.Patient(c.Patient); p != nil {
				a.Evidence = d.Match(p)
				a.Values = d.Abstract(p, a.Evidence)
				a.LastContact = lastContact(p).String()
			}
			for _, f := range d.Form {
				if f.Registrar {
					a.Values[f.ID] = c.Fields[f.ID]
				}
			}
			if c.Status == Accepted && d.FollowUp.IntervalDays > 0 {
				from := measure.ParseDay(a.LastContact)
				if n := len(c.FollowUps); n > 0 {
					if f := measure.ParseDay(c.FollowUps[n-1]); !from.Known() || f > from {
						from = f
					}
				}
				if !from.Known() {
					from = measure.ParseDay(c.Decided)
				}
				if from.Known() {
					due := from + measure.Day(d.FollowUp.IntervalDays)
					a.NextDue = due.String()
					a.Overdue = due < day
				}
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// Overdue returns the accepted cases of registry whose follow-up is past
// due on today.
func (s *Service) Overdue(registry string, today time.Time) ([]*Abstract, error) {
	all, err := s.Abstracts(registry, Accepted, today)
	if err != nil {
		return nil, err
	}
	var out []*Abstract
	for _, a := range all {
		if a.Overdue {
			out = append(out, a)
		}
	}
	return out, nil
}

// WriteCSV writes registry's cases with status ("" for all): patient,
// status, found, decided, decided by, next follow-up, overdue, then every
// form field in the form's order.
func (s *Service) WriteCSV(w io.Writer, registry, status string, today time.Time) error {
	d, err := s.Definition(registry)
	if err != nil {
		return err
	}
	list, err := s.Abstracts(registry, status, today)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	head := []string{"patient", "status", "found", "decided", "decided_by", "next_follow_up", "overdue"}
	for _, f := range d.Form {
		head = append(head, f.ID)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, a := range list {
		overdue := ""
		if a.Overdue {
			overdue = "yes"
		}
		row := []string{a.Patient, a.Status, a.Found, a.Decided, a.DecidedBy, a.NextDue, overdue}
		for _, f := range d.Form {
			row = append(row, a.Values[f.ID])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Bundle exports registry's accepted cases as a FHIR collection Bundle:
// a Group of the patients (an actual group of persons) and each case's
// Task with every form field in Task.output.
func (s *Service) Bundle(registry string, today time.Time) (map[string]any, error) {
	d, err := s.Definition(registry)
	if err != nil {
		return nil, err
	}
	list, err := s.Abstracts(registry, Accepted, today)
	if err != nil {
		return nil, err
	}
	now := today.UTC().Format(time.RFC3339)
	var members, entries []any
	for _, a := range list {
		m := map[string]any{"entity": map[string]any{"reference": "Patient/" + a.Patient}}
		if a.Decided != "" {
			m["period"] = map[string]any{"start": a.Decided}
		}
		members = append(members, m)
		t := a.Case.task(d, cmpOr(a.Decided, now))
		var out []any
		for _, f := range d.Form {
			if v := a.Values[f.ID]; v != "" {
				out = append(out, map[string]any{"type": text(f.ID), "valueString": v})
			}
		}
		for _, f := range a.FollowUps {
			out = append(out, map[string]any{"type": text(followUpOutput), "valueDate": f})
		}
		if len(out) > 0 {
			t["output"] = out
		} else {
			delete(t, "output")
		}
		entries = append(entries, map[string]any{"resource": t})
	}
	group := map[string]any{
		"resourceType": "Group", "id": "registry-" + d.ID, "type": "person", "actual": true,
		"name": d.Title, "quantity": len(members),
		"code": map[string]any{"coding": []any{map[string]any{"system": taskCodeSystem, "code": d.ID}}, "text": d.Title},
	}
	if len(members) > 0 {
		group["member"] = members
	}
	entries = append([]any{map[string]any{"resource": group}}, entries...)
	return map[string]any{"resourceType": "Bundle", "type": "collection", "timestamp": now, "entry": entries}, nil
}

// Incidence counts registry's cases with status ("" for all) by the month
// (YYYY-MM) of their earliest qualifying evidence, for trend charts.
// Cases with no evidence left in the record count under "".
func (s *Service) Incidence(registry, status string) (map[string]int, error) {
	d, err := s.Definition(registry)
	if err != nil {
		return nil, err
	}
	cases, err := s.Cases(registry, status)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	err = s.Record.View(func(v *measure.View) error {
		for _, c := range cases {
			month := ""
			if p := v.Patient(c.Patient); p != nil {
				if ev := d.Match(p); len(ev) > 0 {
					month = ev[0].Date.Month()
				}
			}
			out[month]++
		}
		return nil
	})
	return out, err
}
