package measure_test

import (
	"strings"
	"time"

	"github.com/custodian-him/custodian/measure"
)

// The independent computation: each built-in measure written plainly over
// the raw resources (JSON trees), sharing nothing with the package but
// its published value sets.

type refIndex struct {
	patients   map[string]map[string]any
	encounters []map[string]any
	byPatient  map[string][]map[string]any // encounters
	conditions map[string]map[string]any
	condsOf    map[string][]map[string]any // by patient
	procsOf    map[string][]string         // procedure codes by encounter id
	claimOf    map[string]map[string]any   // by encounter id
	obsOf      map[string][]map[string]any // by patient
}

func str(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			if len(c) == 0 {
				return ""
			}
			cur = c[0].(map[string]any)[p]
		default:
			return ""
		}
	}
	s, _ := cur.(string)
	return s
}

func list(m map[string]any, key string) []any { l, _ := m[key].([]any); return l }

func idOf(ref string) string { _, id, _ := strings.Cut(ref, "/"); return id }

func newRefIndex(raw map[string][]map[string]any) *refIndex {
	x := &refIndex{patients: map[string]map[string]any{}, byPatient: map[string][]map[string]any{},
		conditions: map[string]map[string]any{}, condsOf: map[string][]map[string]any{}, procsOf: map[string][]string{},
		claimOf: map[string]map[string]any{}, obsOf: map[string][]map[string]any{}}
	for _, p := range raw["Patient"] {
		x.patients[p["id"].(string)] = p
	}
	for _, e := range raw["Encounter"] {
		x.encounters = append(x.encounters, e)
		pid := idOf(str(e, "subject", "reference"))
		x.byPatient[pid] = append(x.byPatient[pid], e)
	}
	for _, c := range raw["Condition"] {
		x.conditions[c["id"].(string)] = c
		pid := idOf(str(c, "subject", "reference"))
		x.condsOf[pid] = append(x.condsOf[pid], c)
	}
	for _, p := range raw["Procedure"] {
		eid := idOf(str(p, "encounter", "reference"))
		x.procsOf[eid] = append(x.procsOf[eid], str(p, "code", "coding", "code"))
	}
	for _, c := range raw["Claim"] {
		eid := idOf(str(list(c, "item")[0].(map[string]any), "encounter", "reference"))
		x.claimOf[eid] = c
	}
	for _, o := range raw["Observation"] {
		pid := idOf(str(o, "subject", "reference"))
		x.obsOf[pid] = append(x.obsOf[pid], o)
	}
	return x
}

func date(s string) time.Time {
	if len(s) < 10 {
		return time.Time{}
	}
	t, _ := time.Parse("2006-01-02", s[:10])
	return t
}

func days(from, to string) int { return int(date(to).Sub(date(from)).Hours() / 24) }

func inPeriod(s, from, to string) bool { return len(s) >= 10 && s[:10] >= from && s[:10] <= to }

func age(birth, at string) int {
	b, a := date(birth), date(at)
	y := a.Year() - b.Year()
	if a.Month() < b.Month() || (a.Month() == b.Month() && a.Day() < b.Day()) {
		y--
	}
	return y
}

func band(birth, at string) string {
	if birth == "" {
		return "unknown"
	}
	a := age(birth, at)
	switch {
	case a < 18:
		return "0-17"
	case a < 45:
		return "18-44"
	case a < 65:
		return "45-64"
	case a < 75:
		return "65-74"
	case a < 85:
		return "75-84"
	}
	return "85+"
}

func (x *refIndex) principal(e map[string]any) string {
	if c := x.claimOf[e["id"].(string)]; c != nil {
		return str(list(c, "diagnosis")[0].(map[string]any), "diagnosisCodeableConcept", "coding", "code")
	}
	for _, d := range list(e, "diagnosis") {
		if c := x.conditions[idOf(str(d.(map[string]any), "condition", "reference"))]; c != nil {
			return str(c, "code", "coding", "code")
		}
	}
	return ""
}

func (x *refIndex) procedures(e map[string]any) []string {
	if c := x.claimOf[e["id"].(string)]; c != nil && len(list(c, "procedure")) > 0 {
		var out []string
		for _, p := range list(c, "procedure") {
			out = append(out, str(p.(map[string]any), "procedureCodeableConcept", "coding", "code"))
		}
		return out
	}
	return x.procsOf[e["id"].(string)]
}

func (x *refIndex) planned(e map[string]any) bool {
	pdx := x.principal(e)
	if measure.PlannedDx.Contains(pdx) {
		return true
	}
	potential := false
	for _, p := range x.procedures(e) {
		if measure.PlannedProcedures.Contains(p) {
			return true
		}
		potential = potential || measure.PotentiallyPlannedProcedures.Contains(p)
	}
	return potential && !measure.AcuteDx.Contains(pdx)
}

func dead(p map[string]any, by string) bool {
	if d := str(p, "deceasedDateTime"); d != "" {
		return d[:10] <= by
	}
	b, _ := p["deceasedBoolean"].(bool)
	return b
}

// refCase is one case of the reference computation with its populations
// and strata.
type refCase struct {
	key    string // patient, or patient|encounter
	pops   map[string]bool
	strata map[string]string
	value  float64
}

func inpatientDischarge(e map[string]any, from, to string) bool {
	return str(e, "class", "code") == "IMP" && str(e, "status") == "finished" && inPeriod(str(e, "period", "end"), from, to)
}

func (x *refIndex) stayStrata(e map[string]any) map[string]string {
	p := x.patients[idOf(str(e, "subject", "reference"))]
	sex := str(p, "gender")
	if sex == "" {
		sex = "unknown"
	}
	svc := str(e, "serviceType", "coding", "display")
	att := "unknown"
	for _, part := range list(e, "participant") {
		pm := part.(map[string]any)
		if str(pm, "type", "coding", "code") == "ATND" {
			att = str(pm, "individual", "reference")
		}
	}
	return map[string]string{"month": str(e, "period", "end")[:7], "sex": sex,
		"age-band": band(str(p, "birthDate"), str(e, "period", "start")), "service": svc, "attending": att}
}

// stays evaluates an encounter-based measure given its populations.
func (x *refIndex) stays(from, to string, ip func(e map[string]any) bool, excl, num func(e map[string]any) bool, value func(e map[string]any) float64) []refCase {
	var out []refCase
	for _, e := range x.encounters {
		pid := idOf(str(e, "subject", "reference"))
		if x.patients[pid] == nil || !ip(e) {
			continue
		}
		c := refCase{key: pid + "|" + e["id"].(string), pops: map[string]bool{measure.InitialPopulation: true}, strata: x.stayStrata(e)}
		if value != nil {
			c.pops[measure.MeasurePopulation] = true
			c.value = value(e)
		} else {
			c.pops[measure.Denominator] = true
			c.pops[measure.DenominatorExclusion] = excl != nil && excl(e)
			c.pops[measure.Numerator] = !c.pops[measure.DenominatorExclusion] && num(e)
		}
		out = append(out, c)
	}
	return out
}

func (x *refIndex) readmission(from, to string) []refCase {
	return x.stays(from, to, func(e map[string]any) bool { return inpatientDischarge(e, from, to) },
		func(e map[string]any) bool {
			switch str(e, "hospitalization", "dischargeDisposition", "coding", "code") {
			case "exp", "other-hcf", "aadvice":
				return true
			}
			return dead(x.patients[idOf(str(e, "subject", "reference"))], str(e, "period", "end")[:10])
		},
		func(e map[string]any) bool {
			// the first inpatient admission within 30 days decides
			end := str(e, "period", "end")
			var first map[string]any
			for _, o := range x.byPatient[idOf(str(e, "subject", "reference"))] {
				start := str(o, "period", "start")
				if o["id"] == e["id"] || str(o, "class", "code") != "IMP" || start == "" {
					continue
				}
				switch str(o, "status") {
				case "cancelled", "entered-in-error", "planned":
					continue
				}
				gap := days(end, start)
				if gap < 0 || gap > 30 || (gap == 0 && start < end) {
					continue
				}
				if first == nil || start < str(first, "period", "start") {
					first = o
				}
			}
			return first != nil && !x.planned(first)
		}, nil)
}

func (x *refIndex) mortality(from, to string, set *measure.CodeSet) []refCase {
	return x.stays(from, to, func(e map[string]any) bool {
		return inpatientDischarge(e, from, to) && (set == nil || set.Contains(x.principal(e)))
	},
		func(e map[string]any) bool {
			return str(e, "hospitalization", "admitSource", "coding", "code") == "hosp-trans"
		},
		func(e map[string]any) bool {
			return str(e, "hospitalization", "dischargeDisposition", "coding", "code") == "exp"
		}, nil)
}

func (x *refIndex) los(from, to string) []refCase {
	return x.stays(from, to, func(e map[string]any) bool { return inpatientDischarge(e, from, to) }, nil, nil,
		func(e map[string]any) float64 {
			return float64(max(1, days(str(e, "period", "start"), str(e, "period", "end"))))
		})
}

func (x *refIndex) hac(from, to string) []refCase {
	cases := x.stays(from, to, func(e map[string]any) bool { return inpatientDischarge(e, from, to) }, nil,
		func(e map[string]any) bool {
			c := x.claimOf[e["id"].(string)]
			for i, d := range list(c, "diagnosis") {
				poa := str(d.(map[string]any), "onAdmission", "coding", "code")
				if i > 0 && (poa == "n" || poa == "u") {
					return true
				}
			}
			return false
		}, nil)
	for i := range cases {
		_, eid, _ := strings.Cut(cases[i].key, "|")
		if x.claimOf[eid] == nil {
			cases[i].pops[measure.Denominator] = false
			cases[i].pops[measure.Numerator] = false
		}
	}
	return cases
}

// chronic evaluates a patient-based measure: age range at the period's
// end, a diagnosis in set by then, a visit in the period.
func (x *refIndex) chronic(from, to string, set *measure.CodeSet, lo, hi int, excl func(pid string) bool, num func(pid string) bool) []refCase {
	var out []refCase
	for pid, p := range x.patients {
		birth := str(p, "birthDate")
		if birth == "" || age(birth, to) < lo || age(birth, to) > hi {
			continue
		}
		has := false
		for _, c := range x.condsOf[pid] {
			onset := str(c, "onsetDateTime")
			if onset == "" {
				onset = str(c, "recordedDate")
			}
			if onset != "" && onset[:10] <= to && set.Contains(str(c, "code", "coding", "code")) {
				has = true
			}
		}
		var last map[string]any
		for _, e := range x.byPatient[pid] {
			start := str(e, "period", "start")
			if inPeriod(start, from, to) && (last == nil || start > str(last, "period", "start")) {
				last = e
			}
		}
		if !has || last == nil {
			continue
		}
		sex := str(p, "gender")
		if sex == "" {
			sex = "unknown"
		}
		c := refCase{key: pid, pops: map[string]bool{measure.InitialPopulation: true, measure.Denominator: true},
			strata: map[string]string{"month": str(last, "period", "start")[:7], "sex": sex, "age-band": band(birth, to)}}
		c.pops[measure.DenominatorExclusion] = excl(pid)
		c.pops[measure.Numerator] = !c.pops[measure.DenominatorExclusion] && num(pid)
		out = append(out, c)
	}
	return out
}

func (x *refIndex) lastObs(pid, from, to string, codes ...string) map[string]any {
	var last map[string]any
	for _, o := range x.obsOf[pid] {
		t := str(o, "effectiveDateTime")
		code := str(o, "code", "coding", "code")
		match := false
		for _, c := range codes {
			match = match || c == code
		}
		if match && inPeriod(t, from, to) && (last == nil || t > str(last, "effectiveDateTime")) {
			last = o
		}
	}
	return last
}

func num(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case interface{ Float64() (float64, error) }:
		f, _ := n.Float64()
		return f
	}
	return -1
}

func (x *refIndex) diabetes(from, to string) []refCase {
	return x.chronic(from, to, measure.Diabetes, 18, 75,
		func(pid string) bool { return dead(x.patients[pid], to) },
		func(pid string) bool {
			o := x.lastObs(pid, from, to, "4548-4")
			return o == nil || num(o["valueQuantity"].(map[string]any)["value"]) > 9
		})
}

func (x *refIndex) hypertension(from, to string) []refCase {
	return x.chronic(from, to, measure.Hypertension, 18, 85,
		func(pid string) bool {
			if dead(x.patients[pid], to) {
				return true
			}
			for _, c := range x.condsOf[pid] {
				code, onset := str(c, "code", "coding", "code"), str(c, "onsetDateTime")
				if onset == "" {
					onset = str(c, "recordedDate")
				}
				if onset != "" && onset[:10] <= to && measure.ESRD.Contains(code) {
					return true
				}
				if inPeriod(onset, from, to) && measure.Pregnancy.Contains(code) {
					return true
				}
			}
			return false
		},
		func(pid string) bool {
			o := x.lastObs(pid, from, to, "85354-9")
			if o == nil {
				return false
			}
			sys, dia := -1.0, -1.0
			for _, comp := range list(o, "component") {
				cm := comp.(map[string]any)
				v := num(cm["valueQuantity"].(map[string]any)["value"])
				switch str(cm, "code", "coding", "code") {
				case "8480-6":
					sys = v
				case "8462-4":
					dia = v
				}
			}
			return sys >= 0 && dia >= 0 && sys < 140 && dia < 90
		})
}
