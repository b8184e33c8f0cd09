package measure

import (
	"slices"
	"strings"
)

// apply puts one change into the record; r.mu must be held for writing.
func (r *Record) apply(c change) {
	r.gen.Add(1)
	switch c.typ {
	case "Patient":
		r.applyPatient(c)
	case "Encounter":
		r.applyEncounter(c)
	case "Condition":
		r.applyCondition(c)
	case "Procedure":
		r.applyProcedure(c)
	case "Claim":
		r.applyClaim(c)
	case "Observation":
		r.applyObservation(c)
	}
}

func (r *Record) applyPatient(c change) {
	p := r.patient(c.id)
	if c.version < p.version {
		return
	}
	p.version = c.version
	j, _ := c.v.(*patientJSON)
	if c.deleted || j == nil {
		p.Known = false
		return
	}
	p.Known = true
	p.Sex = r.str(j.Gender)
	p.Birth = parseDay(j.BirthDate)
	p.Died = j.DeceasedDateTime != "" || (j.DeceasedBoolean != nil && *j.DeceasedBoolean)
	p.Death = parseDay(j.DeceasedDateTime)
	p.Active = j.Active == nil || *j.Active
	p.Sensitive = j.Meta.sensitive()
}

func (r *Record) applyEncounter(c change) {
	e := r.encounter(c.id)
	if c.version < e.version {
		return
	}
	e.version = c.version
	j, _ := c.v.(*encounterJSON)
	if c.deleted || j == nil || j.Status == "entered-in-error" {
		if e.Patient != nil {
			e.Patient.Encounters = remove(e.Patient.Encounters, e)
			e.Patient = nil
		}
		e.Known = false
		return
	}
	pid := refID(j.Subject, "Patient")
	if e.Patient != nil && e.Patient.ID != pid {
		e.Patient.Encounters = remove(e.Patient.Encounters, e)
		e.Patient = nil
	}
	if e.Patient == nil && pid != "" {
		e.Patient = r.patient(pid)
		e.Patient.Encounters = append(e.Patient.Encounters, e)
	}
	e.Known = true
	e.Sensitive = j.Meta.sensitive()
	e.StartAt, e.EndAt = instant(j.Period.Start), instant(j.Period.End)
	e.Start, e.End = parseDay(j.Period.Start), parseDay(j.Period.End)
	k := EncounterKind{Class: j.Class.Code, Status: j.Status, Disposition: j.Hospitalization.DischargeDisposition.code(""),
		Priority: j.Priority.code(""), AdmitSource: j.Hospitalization.AdmitSource.code("")}
	if len(j.ServiceType.Coding) > 0 {
		cd := j.ServiceType.Coding[0]
		k.Service = cmpOr(cd.Display, cd.Code)
	} else {
		k.Service = j.ServiceType.Text
	}
	for _, p := range j.Participant {
		for _, t := range p.Type {
			if t.hasCode("ATND") && k.Attending == "" {
				k.Attending = p.Individual.Reference
			}
		}
	}
	e.EncounterKind = r.encounterKind(k)
	// Encounter.diagnosis in rank order where ranks are given; the
	// written order otherwise (a stable sort keeps it among equals).
	dx := slices.Clone(j.Diagnosis)
	slices.SortStableFunc(dx, func(a, b encounterDx) int {
		return rankKey(a.Rank) - rankKey(b.Rank)
	})
	e.DxRefs = e.DxRefs[:0]
	for _, d := range dx {
		if id := refID(d.Condition, "Condition"); id != "" {
			e.DxRefs = append(e.DxRefs, r.condition(id))
		}
	}
}

// rankKey orders unranked diagnoses after ranked ones.
func rankKey(rank int) int {
	if rank <= 0 {
		return 1 << 30
	}
	return rank
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (r *Record) applyCondition(c change) {
	cd := r.condition(c.id)
	if c.version < cd.version {
		return
	}
	cd.version = c.version
	if cd.Patient != nil {
		cd.Patient.Conditions = remove(cd.Patient.Conditions, cd)
	}
	// kept as a stub: encounters may list it
	*cd = Condition{ID: cd.ID, Onset: noDay, version: c.version, ConditionCode: noConditionCode}
	j, _ := c.v.(*conditionJSON)
	if c.deleted || j == nil {
		return
	}
	if vs := j.VerificationStatus.code(""); vs == "entered-in-error" || vs == "refuted" {
		return
	}
	cd.Known = true
	cd.Sensitive = j.Meta.sensitive()
	if eid := refID(j.Encounter, "Encounter"); eid != "" {
		cd.Encounter = r.encounter(eid)
	}
	var code ConditionCode
	for _, k := range j.Code.Coding {
		if k.Code != "" {
			code.System, code.Code = k.System, k.Code
			if k.System == SystemICD10CM {
				break
			}
		}
	}
	for _, cat := range j.Category {
		if cat.hasCode("problem-list-item") {
			cd.Problem = true
		}
	}
	cd.Onset = parseDay(cmpOr(cmpOr(j.OnsetDateTime, j.OnsetPeriod.Start), j.RecordedDate))
	for _, st := range j.Stage {
		if code.Stage == "" && len(st.Summary.Coding) > 0 {
			code.Stage = cmpOr(st.Summary.Coding[0].Display, st.Summary.Coding[0].Code)
		}
		if code.Stage == "" {
			code.Stage = st.Summary.Text
		}
	}
	cd.ConditionCode = r.conditionCode(code)
	if pid := refID(j.Subject, "Patient"); pid != "" {
		cd.Patient = r.patient(pid)
		cd.Patient.Conditions = append(cd.Patient.Conditions, cd)
	}
}

func (r *Record) applyProcedure(c change) {
	old := r.procedures[c.id]
	if old != nil {
		if c.version < old.version {
			return
		}
		if old.Encounter != nil {
			old.Encounter.Procedures = remove(old.Encounter.Procedures, old)
		}
		if old.Patient != nil {
			old.Patient.Procedures = remove(old.Patient.Procedures, old)
		}
		delete(r.procedures, c.id)
	}
	j, _ := c.v.(*procedureJSON)
	if c.deleted || j == nil || j.Status == "entered-in-error" || j.Status == "not-done" {
		return
	}
	p := &Procedure{ID: c.id, version: c.version, Sensitive: j.Meta.sensitive(),
		Date: parseDay(cmpOr(j.PerformedDateTime, j.PerformedPeriod.Start))}
	if len(j.Code.Coding) > 0 {
		p.System, p.Code = r.str(j.Code.Coding[0].System), r.str(j.Code.Coding[0].Code)
	}
	if pid := refID(j.Subject, "Patient"); pid != "" {
		p.Patient = r.patient(pid)
		p.Patient.Procedures = append(p.Patient.Procedures, p)
	}
	if eid := refID(j.Encounter, "Encounter"); eid != "" {
		p.Encounter = r.encounter(eid)
		p.Encounter.Procedures = append(p.Encounter.Procedures, p)
	}
	r.procedures[c.id] = p
}

func (r *Record) applyClaim(c change) {
	old := r.claims[c.id]
	if old != nil {
		if c.version < old.version {
			return
		}
		if old.Encounter != nil && old.Encounter.Claim == old {
			old.Encounter.Claim = nil
		}
		delete(r.claims, c.id)
	}
	j, _ := c.v.(*claimJSON)
	if c.deleted || j == nil || j.Status == "entered-in-error" || j.Status == "cancelled" {
		return
	}
	cl := &Claim{ID: c.id, version: c.version}
	dx := slices.Clone(j.Diagnosis)
	slices.SortStableFunc(dx, func(a, b claimDx) int {
		if d := principalFirst(a.Type) - principalFirst(b.Type); d != 0 {
			return d
		}
		return a.Sequence - b.Sequence
	})
	for _, d := range dx {
		code := d.Code.code(SystemICD10CM)
		if code == "" {
			continue
		}
		cl.Diagnoses = append(cl.Diagnoses, Dx{Code: r.str(code), POA: r.str(strings.ToUpper(d.OnAdmission.code("")))})
	}
	for _, p := range j.Procedure {
		if code := p.Code.code(""); code != "" {
			cl.Procedures = append(cl.Procedures, r.str(code))
		}
	}
	for _, it := range j.Item {
		for _, ref := range it.Encounter {
			if eid := refID(ref, "Encounter"); eid != "" && cl.Encounter == nil {
				cl.Encounter = r.encounter(eid)
			}
		}
	}
	if cl.Encounter != nil {
		cl.Encounter.Claim = cl
	}
	r.claims[c.id] = cl
}

// principalFirst sorts the principal diagnosis before the others, which
// follow in sequence order.
func principalFirst(types []concept) int {
	for _, t := range types {
		if t.hasCode("principal") {
			return 0
		}
	}
	return 1
}

func (r *Record) applyObservation(c change) {
	old := r.obs[c.id]
	if old != nil {
		if c.version < old.version {
			return
		}
		if old.Patient != nil {
			old.Patient.Obs = remove(old.Patient.Obs, old)
		}
		delete(r.obs, c.id)
	}
	j, _ := c.v.(*observationJSON)
	if c.deleted || j == nil {
		return
	}
	switch j.Status {
	case "final", "amended", "corrected":
	default:
		return
	}
	eff := cmpOr(j.EffectiveDateTime, j.EffectivePeriod.Start)
	o := &Observation{ID: c.id, version: c.version, Date: parseDay(eff), At: instant(eff), Sensitive: j.Meta.sensitive()}
	code := ""
	for _, k := range j.Code.Coding {
		if k.System == SystemLOINC && r.keep.Load().codes[k.Code] && k.Code != SystolicCode {
			code = k.Code
		}
	}
	if code == "" {
		return
	}
	o.Code = r.str(code)
	if slices.Contains(BPPanelCodes, code) {
		for _, comp := range j.Component {
			v, ok := comp.ValueQuantity.number()
			switch {
			case !ok:
			case comp.Code.hasCode(SystolicCode):
				o.Value, o.HasValue = v, true
			case comp.Code.hasCode(DiastolicCode):
				o.Diastolic, o.HasDiastol = v, true
			}
		}
		o.Unit = "mm[Hg]"
	} else {
		o.Value, o.HasValue = j.ValueQuantity.number()
		o.Unit = r.str(cmpOr(j.ValueQuantity.Code, j.ValueQuantity.Unit))
	}
	if pid := refID(j.Subject, "Patient"); pid != "" {
		o.Patient = r.patient(pid)
		o.Patient.Obs = append(o.Patient.Obs, o)
	} else {
		return
	}
	r.obs[c.id] = o
}
