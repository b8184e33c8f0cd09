package synth

import "time"

// Claims: every inpatient stay whose discharge summary is on file has
// been coded, and its institutional Claim carries the expected coding
// (the FactCoding of the stay): the principal diagnosis first, each
// diagnosis with its present-on-admission indicator
// (Claim.diagnosis.onAdmission), and the ICD-10-PCS procedures. A stay
// without a discharge summary cannot be coded and has no Claim. Their ids
// are "<patient id>-clm<n>", never those of the coder's own Claims.
const (
	sysClaimType    = "http://terminology.hl7.org/CodeSystem/claim-type"
	sysDxType       = "http://terminology.hl7.org/CodeSystem/ex-diagnosistype"
	sysPOA          = "http://terminology.hl7.org/CodeSystem/ex-diagnosis-on-admission"
	sysPriority     = "http://terminology.hl7.org/CodeSystem/processpriority"
	sysRevenueCodes = "https://www.nubc.org/CodeSystem/RevenueCodes"
)

var poaDisplay = map[string]string{"y": "Yes", "n": "No", "u": "Unknown", "w": "Undetermined"}

// claim writes the Claim of inpatient stay x.
func (g *unitGen) claim(x *encCtx) {
	c := x.c
	id := g.id("clm")
	created := c.end.Add(time.Duration(48+g.r.IntN(7*24)) * time.Hour)
	if created.After(g.cfg.End) {
		created = g.cfg.End.Add(-time.Hour)
	}
	cl := &Claim{ResourceType: "Claim", ID: id, Status: "active",
		Type:           *cc(sysClaimType, "institutional", "Institutional"),
		Use:            "claim",
		Patient:        Reference{Reference: x.patient},
		BillablePeriod: &Period{Start: dt(c.start), End: dt(c.end)},
		Created:        dt(created),
		Provider:       Reference{Reference: "Organization/" + g.sh.hospID},
		Priority:       *cc(sysPriority, "normal", "Normal"),
		Insurance:      []ClaimInsurance{{Sequence: 1, Focal: true, Coverage: Reference{Display: "coverage not recorded"}}},
	}
	var seqs []int
	for i, code := range c.codes {
		d := ClaimDiagnosis{Sequence: i + 1, Diagnosis: CodeableConcept{Coding: []Coding{{System: SystemICD10CM, Code: code, Display: codeTitle(code)}}}}
		if i == 0 {
			d.Type = ccs(sysDxType, "principal", "Principal Diagnosis")
		}
		switch p := c.poa[i]; p {
		case "Y", "N", "U", "W":
			lc := string(p[0] | 0x20)
			d.OnAdmission = cc(sysPOA, lc, poaDisplay[lc])
		}
		cl.Diagnosis = append(cl.Diagnosis, d)
		seqs = append(seqs, i+1)
	}
	for i, pc := range c.procs {
		cl.Procedure = append(cl.Procedure, ClaimProcedure{Sequence: i + 1, Date: dt(c.procAt[i]),
			Procedure: CodeableConcept{Coding: []Coding{{System: SystemICD10PC, Code: pc, Display: codeTitle(pc)}}}})
	}
	cl.Item = []ClaimItem{{Sequence: 1, DiagnosisSeq: seqs[:min(len(seqs), 4)],
		ProductOrService: *cc(sysRevenueCodes, "0100", "All-inclusive room and board plus ancillary"),
		Encounter:        []Reference{{Reference: x.enc}}}}
	g.put(x.slot, "Claim", id, cl)
}
