package drg

import "sort"

// Explanation says why a claim grouped as it did, in the terms a coder uses.
type Explanation struct {
	Version      string                 `json:"version"`
	PrincipalMDC int                    `json:"principalMDC"`
	Initial      GroupingExplanation    `json:"initial"`
	Final        GroupingExplanation    `json:"final"`
	Diagnoses    []DiagnosisExplanation `json:"diagnoses"`
	Procedures   []ProcedureExplanation `json:"procedures,omitempty"`
}

// GroupingExplanation describes one grouping: the DRG, and the formula of
// the MS-DRG definitions that gave it.
type GroupingExplanation struct {
	MDC            int    `json:"mdc"`
	MDCDescription string `json:"mdcDescription,omitempty"`
	DRG            int    `json:"drg"`
	DRGDescription string `json:"drgDescription,omitempty"`
	ReturnCode     string `json:"returnCode"`
	Severity       string `json:"severity"`
	MedSurg        string `json:"medSurg"`
	// FormulaMDC and FormulaRank locate the formula that matched (the
	// pre-MDC formulas are MDC 0); ReroutedTo is the MDC it was found in
	// after a reroute.
	FormulaMDC  int    `json:"formulaMDC"`
	FormulaRank int    `json:"formulaRank"`
	Formula     string `json:"formula,omitempty"`
	ReroutedTo  int    `json:"reroutedTo,omitempty"`
}

// DiagnosisExplanation is one diagnosis's part in the grouping.
type DiagnosisExplanation struct {
	Code      string `json:"code"`
	POA       string `json:"poa,omitempty"`
	Principal bool   `json:"principal,omitempty"`
	Valid     bool   `json:"valid"`
	// Severity is the code's own level as a secondary diagnosis (MCC, CC,
	// NON_CC); Counts says whether it raised this claim's severity in the
	// initial and final groupings, and Reason why not when it did not.
	Severity      string `json:"severity,omitempty"`
	CountsInitial bool   `json:"countsInitial,omitempty"`
	CountsFinal   bool   `json:"countsFinal,omitempty"`
	Reason        string `json:"reason,omitempty"`
	// AffectsDRG: the code's attributes were used by the formula that
	// matched (INITIAL, FINAL, BOTH, or empty).
	AffectsDRG string `json:"affectsDRG,omitempty"`
	HACs       []int  `json:"hacs,omitempty"` // HAC numbers whose criteria the code met
}

// ProcedureExplanation is one procedure's part in the grouping.
type ProcedureExplanation struct {
	Code       string   `json:"code"`
	Valid      bool     `json:"valid"`
	AffectsDRG string   `json:"affectsDRG,omitempty"`
	Attributes []string `json:"attributes,omitempty"` // the attributes the matching formula used
}

func (s *state) explain(t *table, c *Claim, r *Result) *Explanation {
	e := &Explanation{Version: t.version.Name, PrincipalMDC: s.pdxMDC}
	var used [2][]node
	for k, g := range []*Grouping{&r.Initial, &r.Final} {
		ge := &e.Initial
		if k == 1 {
			ge = &e.Final
		}
		*ge = GroupingExplanation{MDC: g.MDC, DRG: g.DRG, ReturnCode: g.Return.String(), Severity: g.Severity.String(),
			MedSurg: g.MedSurg, ReroutedTo: g.rerouteMDC, MDCDescription: t.mdcDesc[g.MDC], DRGDescription: t.drgDesc[g.DRG]}
		if g.formula != nil {
			ge.FormulaMDC, ge.FormulaRank, ge.Formula = g.formula.mdc, g.formula.rank, g.formula.text
			if g.Return == OK {
				s.final = k == 1
				usedAttrs(g.formula.nodes, g.formula.root, &s.sets, g.Severity, &used[k])
			}
		}
	}
	impact := func(in [2]bool) string {
		switch {
		case in[0] && in[1]:
			return "BOTH"
		case in[0]:
			return "INITIAL"
		case in[1]:
			return "FINAL"
		}
		return ""
	}
	dxUses := func(x *dxInfo, principal bool, k int) bool {
		for _, n := range used[k] {
			if (n.op == opPDX && !principal) || (n.op == opSDX && principal) {
				continue
			}
			if n.op == opAny || n.op == opPDX || n.op == opSDX {
				if containsAttr(x.attrs, n.attr) {
					return true
				}
			}
		}
		return false
	}
	pd := DiagnosisExplanation{Code: c.PDx.Code, POA: poaText(c.PDx.POA), Principal: true, Valid: s.pdx >= 0}
	if s.pdx >= 0 {
		x := &t.dxs[s.pdx]
		pd.AffectsDRG = impact([2]bool{dxUses(x, true, 0), dxUses(x, true, 1)})
	}
	e.Diagnoses = append(e.Diagnoses, pd)
	for i, d := range c.SDx {
		st := &s.sdx[i]
		de := DiagnosisExplanation{Code: d.Code, POA: poaText(d.POA), Valid: st.idx >= 0}
		if st.idx >= 0 {
			x := &t.dxs[st.idx]
			de.Severity = x.sev.String()
			for k, g := range []*Grouping{&r.Initial, &r.Final} {
				if g.formula == nil || g.Return != OK {
					continue
				}
				s.final = k == 1
				ok := s.counts(st, g.formula.supp) && x.sev == g.Severity
				sevUsed := false
				for _, n := range used[k] {
					if n.op == opMCC || n.op == opCC {
						sevUsed = true
					}
				}
				if k == 0 {
					de.CountsInitial = ok
				} else {
					de.CountsFinal = ok
				}
				_ = sevUsed
			}
			switch {
			case st.dup:
				de.Reason = "repeats an earlier diagnosis"
			case x.sev == NonCC:
			case st.excluded:
				de.Reason = "CC/MCC excluded by the principal diagnosis"
			case st.deathExcl:
				de.Reason = "an MCC only when the patient is discharged alive"
			case st.hacAny:
				de.Reason = "hospital-acquired condition not present on admission: left out of the final DRG"
			case !de.CountsInitial && r.Initial.formula != nil && r.Initial.Return == OK && !s.counts(st, r.Initial.formula.supp):
				de.Reason = "severity suppressed by the DRG logic of the matching formula"
			}
			de.AffectsDRG = impact([2]bool{dxUses(x, false, 0) || de.CountsInitial, dxUses(x, false, 1) || de.CountsFinal})
			for n := 1; n <= 14; n++ {
				if st.hacMet&(1<<n) != 0 {
					de.HACs = append(de.HACs, n)
				}
			}
		}
		e.Diagnoses = append(e.Diagnoses, de)
	}
	for i, p := range c.Procedures {
		pe := ProcedureExplanation{Code: p, Valid: s.prs[i] >= 0}
		if s.prs[i] >= 0 {
			x := &t.prs[s.prs[i]]
			var in [2]bool
			seen := map[string]bool{}
			for k := range used {
				for _, n := range used[k] {
					if n.op == opAny && containsAttr(x.attrs, n.attr) {
						in[k] = true
						if name := t.attrName[n.attr]; !seen[name] {
							seen[name] = true
							pe.Attributes = append(pe.Attributes, name)
						}
					}
				}
			}
			sort.Strings(pe.Attributes)
			pe.AffectsDRG = impact(in)
		}
		e.Procedures = append(e.Procedures, pe)
	}
	return e
}

func poaText(p byte) string {
	if p == 0 || p == '0' {
		return ""
	}
	return string(p)
}

// DRGDescription returns the title of a DRG in a version ("" if unknown).
func DRGDescription(version string, drg int) string {
	v, err := LookupVersion(version)
	if err != nil {
		return ""
	}
	t, err := loadTable(v)
	if err != nil {
		return ""
	}
	return t.drgDesc[drg]
}
