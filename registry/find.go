package registry

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian/measure"
)

// Evidence is one thing in the record that meets a registry's criteria.
type Evidence struct {
	Kind      string // "diagnosis", "procedure" or "lab"
	Ref       string // Condition/…, Procedure/…, Observation/…
	Code      string
	Date      measure.Day
	Encounter string // Encounter/… where known
	Value     float64
}

// Match returns what in patient p's record meets the criteria, earliest
// first (nil when p is not a case).
func (d *Definition) Match(p *measure.Patient) []Evidence {
	c := d.Criteria
	var out []Evidence
	if c.Diagnoses != nil {
		for _, cd := range p.Conditions {
			if !cd.Known || !c.Diagnoses.Contains(cd.Code) || (cd.System != "" && cd.System != c.Diagnoses.System) || !d.classAllowed(cd) {
				continue
			}
			ev := Evidence{Kind: "diagnosis", Ref: "Condition/" + cd.ID, Code: cd.Code, Date: cd.Onset}
			if cd.Encounter != nil {
				ev.Encounter = "Encounter/" + cd.Encounter.ID
			}
			out = append(out, ev)
		}
	}
	if c.Procedures != nil {
		for _, pr := range p.Procedures {
			if c.Procedures.Contains(pr.Code) {
				ev := Evidence{Kind: "procedure", Ref: "Procedure/" + pr.ID, Code: pr.Code, Date: pr.Date}
				if pr.Encounter != nil {
					ev.Encounter = "Encounter/" + pr.Encounter.ID
				}
				out = append(out, ev)
			}
		}
	}
	for _, l := range c.Labs {
		for _, o := range p.Obs {
			if o.Code == l.Code && o.HasValue && compare(o.Value, l.Comparator, l.Value) {
				out = append(out, Evidence{Kind: "lab", Ref: "Observation/" + o.ID, Code: o.Code, Date: o.Date, Value: o.Value})
			}
		}
	}
	slices.SortFunc(out, func(a, b Evidence) int { return cmp.Or(cmp.Compare(a.Date, b.Date), cmp.Compare(a.Ref, b.Ref)) })
	return out
}

// classAllowed applies EncounterClasses to a diagnosis.
func (d *Definition) classAllowed(cd *measure.Condition) bool {
	classes := d.Criteria.EncounterClasses
	if len(classes) == 0 {
		return true
	}
	if cd.Encounter == nil {
		return cd.Problem && slices.Contains(classes, "problem-list")
	}
	return cd.Encounter.Known && slices.Contains(classes, cd.Encounter.Class)
}

func compare(v float64, op string, x float64) bool {
	switch op {
	case ">":
		return v > x
	case ">=":
		return v >= x
	case "<":
		return v < x
	case "<=":
		return v <= x
	case "=":
		return v == x
	}
	return false
}

// Abstract fills the form's automatic fields for patient p from the
// evidence (as Match returns it); registrar fields are left out.
func (d *Definition) Abstract(p *measure.Patient, ev []Evidence) map[string]string {
	out := map[string]string{}
	var first *Evidence
	if len(ev) > 0 {
		first = &ev[0]
	}
	var firstDx *Evidence
	for i := range ev {
		if ev[i].Kind == "diagnosis" {
			firstDx = &ev[i]
			break
		}
	}
	for _, f := range d.Form {
		var v string
		switch f.Auto {
		case AutoFirstEvidenceDate:
			if first != nil {
				v = first.Date.String()
			}
		case AutoFirstDiagnosisCode:
			if firstDx != nil {
				v = firstDx.Code
			}
		case AutoStage:
			v = stage(p, ev)
		case AutoTreatments:
			if first != nil {
				v = treatments(p, first.Date)
			}
		case AutoLastContact:
			v = lastContact(p).String()
		case AutoVitalStatus:
			v = "alive"
			if p.Died {
				v = strings.TrimSpace("dead " + deathDate(p))
			}
		case AutoLastLab, AutoLastLabDate:
			if o := lastLab(p, d.Criteria.Labs); o != nil {
				if f.Auto == AutoLastLab {
					v = strconv.FormatFloat(o.Value, 'f', -1, 64)
				} else {
					v = o.Date.String()
				}
			}
		case AutoDischargeDisposition:
			if firstDx != nil && firstDx.Encounter != "" {
				for _, e := range p.Encounters {
					if "Encounter/"+e.ID == firstDx.Encounter {
						v = e.Disposition
					}
				}
			}
		}
		if f.Auto != "" {
			out[f.ID] = v
		}
	}
	return out
}

func deathDate(p *measure.Patient) string {
	if p.Death.Known() {
		return p.Death.String()
	}
	return ""
}

// stage is the stage documented on the qualifying diagnoses (the
// earliest that has one).
func stage(p *measure.Patient, ev []Evidence) string {
	for _, e := range ev {
		if e.Kind != "diagnosis" {
			continue
		}
		for _, cd := range p.Conditions {
			if "Condition/"+cd.ID == e.Ref && cd.Stage != "" {
				return cd.Stage
			}
		}
	}
	return ""
}

// treatments lists the procedures on or after day, as "date code" in
// date order, separated by "; ".
func treatments(p *measure.Patient, day measure.Day) string {
	var list []*measure.Procedure
	for _, pr := range p.Procedures {
		if pr.Date.Known() && pr.Date >= day {
			list = append(list, pr)
		}
	}
	slices.SortFunc(list, func(a, b *measure.Procedure) int {
		return cmp.Or(cmp.Compare(a.Date, b.Date), cmp.Compare(a.Code, b.Code))
	})
	var parts []string
	for _, pr := range list {
		parts = append(parts, pr.Date.String()+" "+pr.Code)
	}
	return strings.Join(parts, "; ")
}

// lastContact is the day of the patient's latest encounter (its end
// where it has one).
func lastContact(p *measure.Patient) measure.Day {
	last := measure.ParseDay("")
	for _, e := range p.Encounters {
		if !e.Known {
			continue
		}
		d := e.End
		if !d.Known() {
			d = e.Start
		}
		if d.Known() && (!last.Known() || d > last) {
			last = d
		}
	}
	return last
}

func lastLab(p *measure.Patient, labs []Lab) *measure.Observation {
	if len(labs) == 0 {
		return nil
	}
	var last *measure.Observation
	for _, o := range p.Obs {
		if o.Code == labs[0].Code && o.HasValue && (last == nil || o.At > last.At) {
			last = o
		}
	}
	return last
}
