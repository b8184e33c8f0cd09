package measure

import (
	"slices"
)

// A fact is a parsed version trimmed to what apply reads of it, so that
// saved facts are small and quick to read back: displays, texts and code
// systems apply never looks at are dropped, and only the parts of lists
// it uses are kept (the attending participants, a problem-list category).
// Read back (factcodec.go), a fact fills the same shape as a body parses
// into and applies to the same entry; the restart tests compare every measure with a
// from-scratch build. Changing what apply reads means changing the trim
// below too, and factsVersion: the facts' Format follows the shapes by
// itself, but not this.

// factsVersion is part of the facts' Format.
const factsVersion = 3

// factOf is the fact saved for a change: nil Data for a delete or a
// version the record keeps nothing of.
func factOf(c change) (Fact, error) {
	f := Fact{Type: c.typ, ID: c.id, Version: c.version}
	if c.v == nil || c.deleted {
		return f, nil
	}
	f.Data = encodeFact(trimmed(c.v))
	return f, nil
}

// trimmed returns a copy of a parsed version with what apply does not
// read left out; v itself is not changed (apply may still be reading it).
func trimmed(v any) any {
	switch j := v.(type) {
	case *patientJSON:
		out := *j
		out.Meta = j.Meta.trim()
		return &out
	case *encounterJSON:
		out := *j
		out.Meta = j.Meta.trim()
		out.Class = coding{Code: j.Class.Code}
		out.Priority = j.Priority.firstCode()
		if len(j.ServiceType.Coding) > 0 {
			cd := j.ServiceType.Coding[0]
			out.ServiceType = concept{Coding: []coding{{Code: cd.Code, Display: cd.Display}}}
		} else {
			out.ServiceType = concept{Text: j.ServiceType.Text}
		}
		out.Hospitalization.DischargeDisposition = j.Hospitalization.DischargeDisposition.firstCode()
		out.Hospitalization.AdmitSource = j.Hospitalization.AdmitSource.firstCode()
		out.Participant = nil
		for _, p := range j.Participant {
			if slices.ContainsFunc(p.Type, func(t concept) bool { return t.hasCode("ATND") }) {
				p.Type = []concept{{Coding: []coding{{Code: "ATND"}}}}
				out.Participant = append(out.Participant, p)
				break // the first attending is the one kept
			}
		}
		return &out
	case *conditionJSON:
		out := *j
		out.Meta = j.Meta.trim()
		out.Code = concept{}
		for _, k := range j.Code.Coding {
			if k.Code != "" {
				out.Code.Coding = append(out.Code.Coding, coding{System: k.System, Code: k.Code})
			}
		}
		out.Category = nil
		if slices.ContainsFunc(j.Category, func(c concept) bool { return c.hasCode("problem-list-item") }) {
			out.Category = []concept{{Coding: []coding{{Code: "problem-list-item"}}}}
		}
		out.VerificationStatus = j.VerificationStatus.firstCode()
		out.Stage = nil
		for _, st := range j.Stage {
			// apply takes the first stage with a coding, else the first
			// with a text.
			s := st
			if len(st.Summary.Coding) > 0 {
				cd := st.Summary.Coding[0]
				s.Summary = concept{Coding: []coding{{Code: cd.Code, Display: cd.Display}}, Text: st.Summary.Text}
			} else {
				s.Summary = concept{Text: st.Summary.Text}
			}
			out.Stage = append(out.Stage, s)
		}
		return &out
	case *procedureJSON:
		out := *j
		out.Meta = j.Meta.trim()
		out.Code = concept{}
		if len(j.Code.Coding) > 0 {
			out.Code.Coding = []coding{{System: j.Code.Coding[0].System, Code: j.Code.Coding[0].Code}}
		}
		return &out
	case *claimJSON:
		out := *j
		out.Diagnosis = make([]claimDx, 0, len(j.Diagnosis))
		for _, d := range j.Diagnosis {
			t := claimDx{Sequence: d.Sequence, OnAdmission: d.OnAdmission.firstCode()}
			if code := d.Code.code(SystemICD10CM); code != "" {
				t.Code = concept{Coding: []coding{{System: SystemICD10CM, Code: code}}}
			}
			if principalFirst(d.Type) == 0 {
				t.Type = []concept{{Coding: []coding{{Code: "principal"}}}}
			}
			out.Diagnosis = append(out.Diagnosis, t)
		}
		out.Procedure = nil
		for _, p := range j.Procedure {
			p.Code = p.Code.firstCode()
			out.Procedure = append(out.Procedure, p)
		}
		return &out
	case *observationJSON:
		out := *j
		out.Meta = j.Meta.trim()
		out.Code = concept{}
		for _, k := range j.Code.Coding {
			if k.System == SystemLOINC {
				out.Code.Coding = append(out.Code.Coding, coding{System: k.System, Code: k.Code})
			}
		}
		out.Component = nil
		for _, comp := range j.Component {
			var codes []coding
			for _, k := range comp.Code.Coding {
				if k.Code == SystolicCode || k.Code == DiastolicCode {
					codes = append(codes, coding{Code: k.Code})
				}
			}
			if codes != nil {
				comp.Code = concept{Coding: codes}
				out.Component = append(out.Component, comp)
			}
		}
		return &out
	}
	return v
}

// firstCode keeps the code of the first coding, which is what code("")
// reads.
func (c concept) firstCode() concept {
	if len(c.Coding) == 0 {
		return concept{}
	}
	return concept{Coding: []coding{{Code: c.Coding[0].Code}}}
}

// trim keeps the security labels' systems and codes.
func (m metaJSON) trim() metaJSON {
	var out metaJSON
	for _, c := range m.Security {
		out.Security = append(out.Security, coding{System: c.System, Code: c.Code})
	}
	return out
}
