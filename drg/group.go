package drg

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/custodian-him/custodian"
)

// HACStatus says how hospital-acquired conditions changed the DRG.
type HACStatus uint8

// HAC statuses, named as the CMS grouper names them.
const (
	HACNotApplicable HACStatus = iota // no HAC criteria met
	HACNoChange                       // a HAC was met; the final DRG is the initial one
	HACChanges                        // a HAC was met and lowered the DRG
	HACUngroupable                    // a HAC-list code lacked a usable POA: the final DRG is 999
)

var hacStatusNames = [...]string{"NOT_APPLICABLE", "FINAL_DRG_NO_CHANGE", "FINAL_DRG_CHANGES", "FINAL_DRG_UNGROUPABLE"}

func (h HACStatus) String() string { return hacStatusNames[h] }

// Grouping is one of the two groupings of a claim (initial or final).
type Grouping struct {
	MDC        int
	DRG        int
	Return     ReturnCode
	Severity   Severity
	MedSurg    string // MEDICAL, SURGICAL or NONE
	formula    *formula
	rerouteMDC int // the MDC the DRG was found in after a reroute (0 if none)
}

// Result is the grouper's answer for a claim.
type Result struct {
	Version   string
	Initial   Grouping
	Final     Grouping
	HACStatus HACStatus
	// Explanation is filled when Options.Explain is set.
	Explanation *Explanation
}

// Options steer one grouping.
type Options struct {
	// Version forces a grouper version ("v43.1"); otherwise DischargeDate
	// chooses it, and without a date the current version is used.
	Version       string
	DischargeDate time.Time
	// Explain asks for the Explanation (it costs allocations).
	Explain bool
}

// Grouper groups claims. It is safe for concurrent use.
type Grouper struct {
	// Weights is the site's Table 5, if one was loaded (nil: none); the
	// grouper itself does not use it, its callers show it beside the DRG.
	Weights *Weights

	pool sync.Pool
	// last remembers the version named by the latest Options.Version, so
	// a run of claims with one version looks it up once.
	last atomic.Pointer[namedTable]
}

type namedTable struct {
	name string
	t    *table
}

// New returns a grouper. Tables are read on first use of each version.
func New() *Grouper {
	return &Grouper{pool: sync.Pool{New: func() any { return new(state) }}}
}

// Load reads a version's tables now rather than on first use.
func (g *Grouper) Load(version string) error {
	v, err := LookupVersion(version)
	if err != nil {
		return err
	}
	_, err = loadTable(v)
	return err
}

// Group groups one claim.
func (g *Grouper) Group(c *Claim, opt Options) (*Result, error) {
	r := new(Result)
	if err := g.GroupInto(c, opt, r); err != nil {
		return nil, err
	}
	return r, nil
}

// GroupInto groups one claim into r, reusing it; without Explain it does not
// allocate.
func (g *Grouper) GroupInto(c *Claim, opt Options, r *Result) error {
	name := opt.Version
	if name == "" && opt.DischargeDate.IsZero() {
		name = CurrentVersion
	}
	var t *table
	if l := g.last.Load(); l != nil && name != "" && l.name == name {
		t = l.t
	} else {
		var v Version
		var err error
		if name != "" {
			v, err = LookupVersion(name)
		} else {
			v, err = VersionFor(opt.DischargeDate)
		}
		if err != nil {
			return err
		}
		if t, err = loadTable(v); err != nil {
			return err
		}
		if name != "" {
			g.last.Store(&namedTable{name, t})
		}
	}
	v := t.version
	if len(c.SDx) > MaxCodes || len(c.Procedures) > MaxCodes {
		return custodian.Errorf(custodian.EINVALID, "a claim carries at most %d secondary diagnoses and %d procedures", MaxCodes, MaxCodes)
	}
	on := opt.DischargeDate
	if on.IsZero() {
		on = v.From
	}
	s := g.pool.Get().(*state)
	s.run(t, c, on, r)
	if opt.Explain {
		r.Explanation = s.explain(t, c, r)
	} else {
		r.Explanation = nil
	}
	g.pool.Put(s)
	return nil
}

// sdxState is a secondary diagnosis during grouping.
type sdxState struct {
	idx       int32 // -1: not a valid code
	poa       byte
	excluded  bool // made a non-CC by the principal diagnosis
	deathExcl bool // an MCC only when alive, and the patient died
	hacMet    uint16
	hacAny    bool // criteria of some HAC met: no severity in the final grouping
	dup       bool // the same code as the principal or an earlier secondary diagnosis
}

type state struct {
	t      *table
	pdx    int32
	pdxMDC int
	sdx    []sdxState
	prs    []int32
	sets   sets
	sevs   [2][]int8 // per suppression list: severity + 1, 0 = not yet computed
	final  bool
}

func (s *state) run(t *table, c *Claim, on time.Time, r *Result) {
	*r = Result{Version: t.version.Name}
	s.t = t
	s.sets = sets{}
	sp := &t.special
	// The principal diagnosis.
	s.pdx = -1
	if i, ok := t.dxIdx.get(c.PDx.Code); ok {
		s.pdx = i
	}
	var pdx *dxInfo
	sexConflict := false
	if s.pdx >= 0 {
		pdx = &t.dxs[s.pdx]
		s.pdxMDC = int(pdx.mdc)
		if pdx.flags&fSexMDC != 0 {
			switch {
			case c.Sex == 'M' && pdx.maleMDC >= 0:
				s.pdxMDC = int(pdx.maleMDC)
			case c.Sex == 'F' && pdx.femaleMDC >= 0:
				s.pdxMDC = int(pdx.femaleMDC)
			default:
				sexConflict = true
			}
		}
		for _, a := range pdx.attrs {
			s.sets.pdx.set(a)
			s.sets.any.set(a)
		}
		if pdx.flags&fEcode != 0 || isExternalCause(c.PDx.Code) {
			s.sets.any.set(sp.pdxEcode)
		}
		if s.pdxMDC == 20 {
			s.sets.any.set(sp.mdc20)
		}
		if sexConflict && c.Sex != 'M' && c.Sex != 'F' {
			s.sets.any.set(sp.invalidSex)
		}
	} else {
		s.pdxMDC = 0
		s.sets.any.set(sp.invalidPDX)
	}
	// Secondary diagnoses.
	died := c.DischargeStatus == 20
	s.sdx = s.sdx[:0]
	var sig uint8
	if pdx != nil {
		sig = pdx.sigTrauma
	}
	allIncident := pdx != nil && pdx.flags&fIncident != 0
	for i, d := range c.SDx {
		st := sdxState{idx: -1, poa: d.POA}
		if j, ok := t.dxIdx.get(d.Code); ok {
			st.idx = j
		}
		if d.Code == c.PDx.Code {
			st.dup = true
		}
		for _, e := range c.SDx[:i] {
			if e.Code == d.Code {
				st.dup = true
			}
		}
		if st.idx >= 0 && !st.dup {
			x := &t.dxs[st.idx]
			for _, a := range x.attrs {
				s.sets.sdx.set(a)
				s.sets.any.set(a)
			}
			st.excluded = t.excludes(s.pdx, st.idx)
			st.deathExcl = died && x.flags&fMCCAlive != 0
			sig |= x.sigTrauma
			if x.flags&fIncident == 0 {
				allIncident = false
			}
		}
		s.sdx = append(s.sdx, st)
	}
	if allIncident {
		s.sets.any.set(sp.onlyIncident)
	}
	if popcount8(sig) >= 2 {
		s.sets.any.set(sp.multst)
	}
	// Procedures.
	s.prs = s.prs[:0]
	var bilat uint8
	var vessels, drugStents, otherStents, singleFusion, antSectX, postFuse, fusionCtr, sglAnt, sglPost1 int
	for _, p := range c.Procedures {
		i, ok := t.prIdx.get(p)
		if !ok {
			s.prs = append(s.prs, -1)
			continue
		}
		s.prs = append(s.prs, i)
		x := &t.prs[i]
		for _, a := range x.attrs {
			s.sets.any.set(a)
		}
		bilat |= x.bilat
		vessels += int(x.vessel)
		if x.flags&prDrugStent != 0 {
			drugStents += int(x.stent)
		}
		if x.flags&prStent != 0 {
			otherStents += int(x.stent)
		}
		if x.flags&(prSglAntFuse|prSglPostFuse1) != 0 {
			singleFusion++
		}
		if x.flags&prSglAntFuse != 0 {
			sglAnt++
			fusionCtr++
		}
		if x.flags&prSglPostFuse1 != 0 {
			sglPost1++
		}
		if x.flags&prSglAntSectX != 0 {
			antSectX++
		}
		if x.flags&prSglPostFuse != 0 {
			postFuse++
			fusionCtr++
		}
	}
	for _, f := range []struct {
		on bool
		id uint16
	}{
		{popcount8(bilat) > 1, sp.bilateral}, {vessels >= 4, sp.fourVessels},
		{drugStents >= 4, sp.fourDrug}, {otherStents >= 4, sp.fourNonDrug}, {drugStents+otherStents >= 4, sp.fourStents},
		{singleFusion > 1, sp.multFuse}, {antSectX > 1, sp.sglAntSectX}, {postFuse > 1, sp.sglPostFuse},
		{fusionCtr >= 3, sp.singleFusion}, {sglAnt >= 2, sp.sglAnt}, {sglPost1 >= 2, sp.sglPost1},
	} {
		if f.on {
			s.sets.any.set(f.id)
		}
	}
	// Discharge status.
	switch {
	case died:
		s.sets.any.set(sp.died)
	default:
		s.sets.any.set(sp.alive)
	}
	if c.DischargeStatus == 7 {
		s.sets.any.set(sp.ama)
	}
	switch c.DischargeStatus {
	case 2, 5, 66, 82, 85, 94:
		s.sets.any.set(sp.xfrnba)
	}
	if !t.validDischarge(c.DischargeStatus, on) {
		s.sets.any.set(sp.invalidDstat)
	}
	s.sets.any.set(sp.anydx)

	// Initial grouping.
	s.final = false
	s.resetSev()
	if pdx != nil && pdx.flags&fEcode != 0 {
		r.Initial = Grouping{DRG: 999, Return: DxCannotBePDX, MedSurg: "NONE"}
		r.Final = r.Initial
		return
	}
	s.group(&r.Initial)
	if r.Initial.Return != OK {
		r.Final = r.Initial
		return
	}
	// HACs.
	ungroupable := s.hacs()
	if ungroupable {
		r.Final = Grouping{DRG: 999, Return: HACMissingOnePOA, MedSurg: "NONE"}
		r.HACStatus = HACUngroupable
		return
	}
	anyMet := false
	for i := range s.sdx {
		if s.sdx[i].hacAny {
			anyMet = true
		}
	}
	if !anyMet {
		r.Final = r.Initial
		return
	}
	s.final = true
	s.resetSev()
	s.group(&r.Final)
	if r.Final.DRG != r.Initial.DRG {
		r.HACStatus = HACChanges
	} else {
		r.HACStatus = HACNoChange
	}
}

func popcount8(b uint8) int {
	n := 0
	for ; b != 0; b &= b - 1 {
		n++
	}
	return n
}

// isExternalCause reports an ICD-10-CM external-cause code (V00–Y99).
func isExternalCause(code string) bool {
	return code != "" && code[0] >= 'V' && code[0] <= 'Y'
}

func (s *state) resetSev() {
	k := 0
	if s.final {
		k = 1
	}
	if cap(s.sevs[k]) < len(s.t.supps) {
		s.sevs[k] = make([]int8, len(s.t.supps))
	}
	s.sevs[k] = s.sevs[k][:len(s.t.supps)]
	clear(s.sevs[k])
}

// severity is the claim's severity under a formula's suppression list: the
// highest severity of the secondary diagnoses that count.
func (s *state) severity(supp int) Severity {
	k := 0
	if s.final {
		k = 1
	}
	if v := s.sevs[k][supp]; v != 0 {
		return Severity(v - 1)
	}
	max := NonCC
	for i := range s.sdx {
		if s.counts(&s.sdx[i], supp) {
			if sv := s.t.dxs[s.sdx[i].idx].sev; sv > max {
				max = sv
			}
		}
	}
	s.sevs[k][supp] = int8(max) + 1
	return max
}

// counts reports whether a secondary diagnosis's severity counts.
func (s *state) counts(d *sdxState, supp int) bool {
	if d.idx < 0 || d.dup || d.excluded || d.deathExcl || (s.final && d.hacAny) {
		return false
	}
	x := &s.t.dxs[d.idx]
	if x.sev == NonCC {
		return false
	}
	for _, a := range s.t.supps[supp] {
		if containsAttr(x.severAttrs, a) {
			return false
		}
	}
	return true
}

// match evaluates the formulas of one MDC in rank order and returns the
// first that holds, with the severity it was evaluated with. Formulas of DRG
// 0 that give no return code are passed over.
func (s *state) match(mdc int) (*formula, Severity) {
	for _, f := range s.t.mdcs[mdc] {
		sev := s.severity(f.supp)
		if !eval(f.nodes, f.root, &s.sets, sev) {
			continue
		}
		if f.returnFormula && f.returnCode == OK {
			continue
		}
		return f, sev
	}
	return nil, NonCC
}

// group runs the pre-MDC formulas, their reroutes and the principal
// diagnosis's MDC.
func (s *state) group(g *Grouping) {
	f, sev := s.match(0)
	mdc := s.pdxMDC
	fromPre := f != nil
	if f == nil {
		f, sev = s.match(s.pdxMDC)
	}
	if f != nil && f.returnFormula {
		*g = Grouping{DRG: 999, Return: f.returnCode, MedSurg: "NONE", formula: f}
		return
	}
	if f != nil && f.reroute != 0 {
		to := f.reroute
		if fromPre {
			mdc = to
		}
		if f2, sev2 := s.match(to); f2 != nil {
			f, sev = f2, sev2
			g.rerouteMDC = to
			if f.reroute != 0 {
				if f3, sev3 := s.match(f.reroute); f3 != nil {
					f, sev = f3, sev3
				}
			}
		}
	}
	if f == nil || f.drg == 0 {
		*g = Grouping{DRG: 999, Return: Ungroupable, MedSurg: "NONE"}
		return
	}
	*g = Grouping{MDC: mdc, DRG: f.drg, Return: OK, MedSurg: f.surgical, formula: f, rerouteMDC: g.rerouteMDC}
	if sev != NonCC && severityUsed(f.nodes, f.root, &s.sets, sev) {
		// CMS reports the severity a DRG was assigned by: a formula that
		// matched without testing MCC or CC reports none.
		g.Severity = sev
	}
}

// severityUsed reports whether a true formula is true through an MCC or CC
// operand.
func severityUsed(nodes []node, i int32, c *sets, sev Severity) bool {
	n := &nodes[i]
	switch n.op {
	case opMCC, opCC:
		return true
	case opAnd:
		return severityUsed(nodes, n.a, c, sev) || severityUsed(nodes, n.b, c, sev)
	case opOr:
		return eval(nodes, n.a, c, sev) && severityUsed(nodes, n.a, c, sev) ||
			eval(nodes, n.b, c, sev) && severityUsed(nodes, n.b, c, sev)
	}
	return false
}

// hacs evaluates the HAC criteria of each secondary diagnosis on a HAC list
// that was not present on admission. It reports whether the final grouping
// is ungroupable: a HAC's criteria were met and a HAC-list code on the claim
// has no usable POA indicator (1, or none).
func (s *state) hacs() bool {
	invalidPOA := false // a HAC-list code evaluated without a usable POA
	hac6Direct := false // HAC 6 met by a code not on the CAUTI "show" list
	for i := range s.sdx {
		d := &s.sdx[i]
		d.hacMet, d.hacAny = 0, false
		if d.idx < 0 || d.dup {
			continue
		}
		x := &s.t.dxs[d.idx]
		if x.hacs == 0 || d.poa == 'Y' || d.poa == 'W' || d.excluded {
			continue
		}
		if d.poa == '1' || d.poa == '0' {
			invalidPOA = true
		}
		for n := 1; n <= 14; n++ {
			if x.hacs&(1<<n) == 0 || s.t.hacs[n] == nil {
				continue
			}
			h := s.t.hacs[n]
			if eval(h.nodes, h.root, &s.sets, NonCC) {
				d.hacMet |= 1 << n
				if n == 6 && x.flags&fHAC6Show == 0 {
					hac6Direct = true
				}
			}
		}
	}
	ungroupable := false
	for i := range s.sdx {
		d := &s.sdx[i]
		if !hac6Direct && d.idx >= 0 && s.t.dxs[d.idx].flags&fHAC6Show != 0 {
			// A code on the show list counts for HAC 6 only beside a
			// catheter-associated infection code that met it.
			d.hacMet &^= 1 << 6
		}
		if d.hacMet == 0 {
			continue
		}
		d.hacAny = true
		if d.poa == '1' || d.poa == '0' || d.hacMet&^(1<<6) != 0 && invalidPOA {
			ungroupable = true
		}
	}
	return ungroupable
}
