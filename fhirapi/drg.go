package fhirapi

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/drg"
)

const drgDefinition = "https://custodian-him.github.io/fhir/OperationDefinition/Claim-drg"

// DRGOperations serve MS-DRG grouping of one claim, as GET or POST
// /fhir/Claim/$drg, answering a Parameters resource with the initial and
// final groupings and the explanation.
//
// Input parameters:
//   - claim (resource): a FHIR R4 Claim. Its diagnoses (ICD-10-CM, system
//     http://hl7.org/fhir/sid/icd-10-cm, or the code alone) give the principal
//     diagnosis (type "principal", else sequence 1) and the secondary ones in
//     sequence order, with onAdmission's code as POA (y, n, u, w, 1); its
//     procedures give the ICD-10-PCS codes; a supportingInfo of category
//     "discharge" gives the discharge status (its code) and one of category
//     "hospitalized" the discharge date (timingPeriod.end), unless the
//     parameters below give them.
//   - or, flat: pdx ("CODE:POA"), sdx (repeated, or a |-list of CODE:POA),
//     procedure (repeated, or a |-list).
//   - age (integer years) and sex (M, F, U, or male, female, unknown):
//     required (a Claim refers to its patient, it does not carry them).
//   - dischargeStatus (UB-04 code, required unless the Claim carries it),
//     dischargeDate (chooses the version), version (forces one).
//
// Output: version, finalMDC, finalDRG, finalDRGDescription, returnCode,
// finalSeverity, medSurg, initialMDC, initialDRG, hacStatus, the relative
// weight, GMLOS and AMLOS when the grouper has a weights table (else a
// weightsNote), and explanation, with parts mirroring drg.Explanation.
func DRGOperations(g *drg.Grouper) []Operation {
	d := &drgAPI{g: g}
	return []Operation{
		{Pattern: "GET /fhir/Claim/$drg", Name: "drg", Type: "Claim", Definition: drgDefinition, Handle: d.group},
		{Pattern: "POST /fhir/Claim/$drg", Name: "drg", Type: "Claim", Definition: drgDefinition, Handle: d.group},
	}
}

type drgAPI struct{ g *drg.Grouper }

func (d *drgAPI) group(w http.ResponseWriter, r *http.Request) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	var c drg.Claim
	var opt drg.Options
	opt.Explain = true
	opt.Version = p.Get("version")
	ageText := p.Get("age")
	if ageText == "" {
		return custodian.Errorf(custodian.EINVALID, "the age parameter (whole years) is required")
	}
	if c.Age, err = strconv.Atoi(ageText); err != nil || c.Age < 0 || c.Age > 124 {
		return custodian.Errorf(custodian.EINVALID, "age %q is not a whole number of years from 0 to 124", ageText)
	}
	switch strings.ToLower(p.Get("sex")) {
	case "m", "male":
		c.Sex = 'M'
	case "f", "female":
		c.Sex = 'F'
	case "u", "unknown", "other":
		c.Sex = 'U'
	case "":
		return custodian.Errorf(custodian.EINVALID, "the sex parameter (M, F or U) is required")
	default:
		return custodian.Errorf(custodian.EINVALID, "sex %q is not M, F or U", p.Get("sex"))
	}
	status, date := p.Get("dischargeStatus"), p.Get("dischargeDate")
	if claim := p.Resource("claim"); claim != nil {
		st, dt, err := claimCodes(claim, &c)
		if err != nil {
			return err
		}
		if status == "" {
			status = st
		}
		if date == "" {
			date = dt
		}
	} else {
		pdx := p.Get("pdx")
		if pdx == "" {
			return custodian.Errorf(custodian.EINVALID, "give a claim resource or the pdx parameter")
		}
		sdx := strings.Join(p.All("sdx"), "|")
		procs := strings.Join(p.All("procedure"), "|")
		if status == "" {
			return custodian.Errorf(custodian.EINVALID, "the dischargeStatus parameter (a UB-04 patient discharge status code) is required")
		}
		if err := c.ParseFields(ageText, string(c.Sex), status, pdx, sdx, procs); err != nil {
			return err
		}
	}
	if status == "" {
		return custodian.Errorf(custodian.EINVALID, "no discharge status: give the dischargeStatus parameter or a Claim.supportingInfo of category discharge")
	}
	if c.DischargeStatus, err = strconv.Atoi(status); err != nil {
		return custodian.Errorf(custodian.EINVALID, "discharge status %q is not a UB-04 code", status)
	}
	if date != "" && opt.Version == "" {
		t, err := time.Parse(time.DateOnly, date[:min(len(date), 10)])
		if err != nil {
			return custodian.Errorf(custodian.EINVALID, "discharge date %q is not a date", date)
		}
		opt.DischargeDate = t
	}
	res, err := d.g.Group(&c, opt)
	if err != nil {
		return err
	}
	WriteResource(w, http.StatusOK, drgParameters(res, d.g.Weights))
	return nil
}

// claimCodes reads the diagnoses and procedures of a FHIR Claim into c and
// returns the discharge status and date it carries.
func claimCodes(claim map[string]any, c *drg.Claim) (status, date string, err error) {
	if claim["resourceType"] != "Claim" {
		return "", "", custodian.Errorf(custodian.EINVALID, "the claim parameter must be a Claim resource")
	}
	type dx struct {
		seq       float64
		principal bool
		d         drg.Diagnosis
	}
	var dxs []dx
	list, _ := claim["diagnosis"].([]any)
	for i, e := range list {
		m, _ := e.(map[string]any)
		code := codingCode(m["diagnosisCodeableConcept"], "http://hl7.org/fhir/sid/icd-10-cm")
		if code == "" {
			return "", "", custodian.Errorf(custodian.EINVALID, "Claim.diagnosis[%d] has no ICD-10-CM diagnosisCodeableConcept", i)
		}
		x := dx{seq: float64(i + 1), d: drg.Diagnosis{Code: strings.ToUpper(strings.ReplaceAll(code, ".", "")), POA: '0'}}
		if s, ok := m["sequence"].(float64); ok {
			x.seq = s
		}
		types, _ := m["type"].([]any)
		for _, t := range types {
			if codingCode(t, "") == "principal" {
				x.principal = true
			}
		}
		if poa := strings.ToUpper(codingCode(m["onAdmission"], "")); poa != "" {
			switch poa {
			case "Y", "N", "U", "W", "1":
				x.d.POA = poa[0]
			default:
				return "", "", custodian.Errorf(custodian.EINVALID, "Claim.diagnosis[%d].onAdmission %q is not y, n, u, w or 1", i, poa)
			}
		}
		dxs = append(dxs, x)
	}
	if len(dxs) == 0 {
		return "", "", custodian.Errorf(custodian.EINVALID, "the Claim has no diagnosis")
	}
	sort.SliceStable(dxs, func(i, j int) bool { return dxs[i].seq < dxs[j].seq })
	p := 0
	for i, x := range dxs {
		if x.principal {
			p = i
			break
		}
	}
	c.PDx = dxs[p].d
	c.SDx = c.SDx[:0]
	for i, x := range dxs {
		if i != p {
			c.SDx = append(c.SDx, x.d)
		}
	}
	procs, _ := claim["procedure"].([]any)
	for i, e := range procs {
		m, _ := e.(map[string]any)
		code := codingCode(m["procedureCodeableConcept"], "http://www.cms.gov/Medicare/Coding/ICD10")
		if code == "" {
			return "", "", custodian.Errorf(custodian.EINVALID, "Claim.procedure[%d] has no ICD-10-PCS procedureCodeableConcept", i)
		}
		c.Procedures = append(c.Procedures, strings.ToUpper(code))
	}
	if len(c.SDx) > drg.MaxCodes || len(c.Procedures) > drg.MaxCodes {
		return "", "", custodian.Errorf(custodian.EINVALID, "a claim carries at most %d secondary diagnoses and %d procedures", drg.MaxCodes, drg.MaxCodes)
	}
	infos, _ := claim["supportingInfo"].([]any)
	for _, e := range infos {
		m, _ := e.(map[string]any)
		switch codingCode(m["category"], "") {
		case "discharge":
			status = codingCode(m["code"], "")
		case "hospitalized":
			if per, ok := m["timingPeriod"].(map[string]any); ok {
				date, _ = per["end"].(string)
			}
		}
	}
	return status, date, nil
}

// codingCode returns the code of a CodeableConcept's coding in system (any
// system if "" or if none is in system).
func codingCode(v any, system string) string {
	cc, _ := v.(map[string]any)
	codings, _ := cc["coding"].([]any)
	first := ""
	for _, e := range codings {
		m, _ := e.(map[string]any)
		code, _ := m["code"].(string)
		if code == "" {
			continue
		}
		if sys, _ := m["system"].(string); system != "" && sys == system {
			return code
		}
		if first == "" {
			first = code
		}
	}
	return first
}

func drgParameters(r *drg.Result, weights *drg.Weights) map[string]any {
	str := func(name, v string) map[string]any { return map[string]any{"name": name, "valueString": v} }
	code := func(name, v string) map[string]any { return map[string]any{"name": name, "valueCode": v} }
	three := func(n int) string { return strconv.Itoa(1000 + n)[1:] }
	params := []any{
		str("version", r.Version),
		str("finalMDC", strconv.Itoa(r.Final.MDC)),
		str("finalDRG", three(r.Final.DRG)),
		str("finalDRGDescription", drg.DRGDescription(r.Version, r.Final.DRG)),
		code("returnCode", r.Final.Return.String()),
		code("finalSeverity", r.Final.Severity.String()),
		code("medSurg", r.Final.MedSurg),
		str("initialMDC", strconv.Itoa(r.Initial.MDC)),
		str("initialDRG", three(r.Initial.DRG)),
		code("hacStatus", r.HACStatus.String()),
	}
	if x, ok := weights.Lookup(r.Final.DRG); ok {
		params = append(params,
			map[string]any{"name": "relativeWeight", "valueDecimal": x.Weight},
			map[string]any{"name": "gmlos", "valueDecimal": x.GMLOS},
			map[string]any{"name": "amlos", "valueDecimal": x.AMLOS})
	} else if weights == nil {
		params = append(params, str("weightsNote", "no weights table loaded"))
	} else {
		params = append(params, str("weightsNote", "the weights table has no row for this DRG"))
	}
	if r.Explanation != nil {
		b, _ := json.Marshal(r.Explanation)
		var m map[string]any
		json.Unmarshal(b, &m)
		params = append(params, map[string]any{"name": "explanation", "part": parts(m)})
	}
	return map[string]any{"resourceType": "Parameters", "parameter": params}
}

// parts turns a JSON object into Parameters parts: strings, numbers and
// booleans as values, objects as nested parts, arrays as repeated parts.
func parts(m map[string]any) []any {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []any
	var add func(name string, v any)
	add = func(name string, v any) {
		switch v := v.(type) {
		case string:
			out = append(out, map[string]any{"name": name, "valueString": v})
		case bool:
			out = append(out, map[string]any{"name": name, "valueBoolean": v})
		case float64:
			if v == float64(int64(v)) {
				out = append(out, map[string]any{"name": name, "valueInteger": int64(v)})
			} else {
				out = append(out, map[string]any{"name": name, "valueDecimal": v})
			}
		case map[string]any:
			out = append(out, map[string]any{"name": name, "part": parts(v)})
		case []any:
			for _, e := range v {
				add(name, e)
			}
		}
	}
	for _, k := range keys {
		add(k, m[k])
	}
	return out
}
