package coding

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/codeset"
	"github.com/custodian-him/custodian/store"
)

// Save stores the coder's abstract of an encounter as the FHIR Claim
// "coding-<encounter id>", a new version each time: final false keeps a
// draft (Claim.status draft), final true finalises it (status active). A
// finalisation with error edits is refused (EUNPROCESSABLE, one issue per
// edit); warnings are recorded on the Claim. The actor in ctx must be
// allowed to write Claims (coders are).
//
// The Claim (R4) is use "claim" (a request for payment of a stay that
// happened, not a predetermination), type institutional, with: diagnosis
// in sequence, the first typed principal, onAdmission the POA indicator;
// the MS-DRG as the principal diagnosis's packageCode (R4 has no DRG
// element; packageCode is "the package billing code, for example DRG");
// procedure with sequence and date; supportingInfo "hospitalized" (the
// stay's period) and "discharge" (the UB-04 discharge status); one item
// that names the Encounter (item.encounter) and carries the DRG as its
// product; enterer the coder (as an identifier, since a coder is a user
// and not a Practitioner), created the time of coding; the edits found
// as extensions. Insurance is required by R4 and Custodian keeps no
// Coverage, so it names the coverage by display only.
func (q *Queue) Save(ctx context.Context, encID string, dx []Diagnosis, px []Procedure, final bool) (*Abstract, error) {
	a, err := q.base(ctx, encID)
	if err != nil {
		return nil, err
	}
	a.Diagnoses, a.Procedures = normalizeDx(q.Checker.cm, dx), normalizePx(q.Checker.pcs, px)
	q.Evaluate(a)
	if final {
		if err := errorEdits(a, ""); err != nil {
			return nil, err
		}
	}
	actor := custodian.ActorFromContext(ctx)
	if actor == nil {
		return nil, custodian.Errorf(custodian.EUNAUTHORIZED, "coding needs an actor")
	}
	now := q.Now()
	id := ClaimID(a.Encounter)
	if len(id) > 64 {
		return nil, custodian.Errorf(custodian.EINVALID, "the encounter id is too long to name its coding Claim")
	}
	res := claimResource(a, actor.ID, now, final)
	res["id"] = id
	body, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	out, err := q.Store.Update(ctx, "Claim", id, body, store.WriteOptions{})
	if err != nil {
		return nil, err
	}
	a.Status = StatusDraft
	if final {
		a.Status = StatusFinal
	}
	a.Claim, a.ClaimVersion, a.Coder, a.Coded = "Claim/"+id, out.Resource.VersionID, actor.ID, now
	return a, nil
}

// errorEdits returns nil when a's edits (Evaluate) have no error, and
// otherwise EUNPROCESSABLE with one issue per error edit, naming it: a
// final coding Claim is never stored with one. at is the FHIRPath of the
// codes' container the issues point under ("" for the abstract).
func errorEdits(a *Abstract, at string) error {
	var issues []custodian.Issue
	for i, e := range a.Edits {
		if e.Severity == SevError {
			path := fmt.Sprintf("edit[%d]", i)
			if at != "" {
				path = at
			}
			issues = append(issues, custodian.Issue{Severity: "error", Code: "business-rule", Path: path, Message: e.Code + ": " + e.Message + " " + e.Fix})
		}
	}
	if len(issues) == 0 {
		return nil
	}
	err := custodian.Errorf(custodian.EUNPROCESSABLE, "the abstract has %d error edit(s) and cannot be finalised; save it as a draft or fix them", len(issues))
	err.Issues = issues
	return err
}

// normalizeDx writes codes as coders do (E11.9) when the system knows
// them; unknown input is kept as given, for the edits to report.
func normalizeDx(cm *codeset.CodeSystem, dx []Diagnosis) []Diagnosis {
	out := make([]Diagnosis, len(dx))
	for i, d := range dx {
		out[i] = Diagnosis{Code: strings.TrimSpace(d.Code), POA: strings.ToUpper(strings.TrimSpace(d.POA))}
		if c, err := cm.Lookup(d.Code); err == nil {
			out[i].Code = c.Display()
		}
	}
	return out
}

func normalizePx(pcs *codeset.CodeSystem, px []Procedure) []Procedure {
	out := make([]Procedure, len(px))
	for i, p := range px {
		out[i] = Procedure{Code: strings.TrimSpace(p.Code), Date: strings.TrimSpace(p.Date)}
		if c, err := pcs.Lookup(p.Code); err == nil {
			out[i].Code = c.Display()
		}
	}
	return out
}

func coding(system, code, display string) map[string]any {
	c := map[string]any{"system": system, "code": code}
	if display != "" {
		c["display"] = display
	}
	return c
}

func concept(system, code, display string) map[string]any {
	return map[string]any{"coding": []any{coding(system, code, display)}}
}

// claimResource builds the Claim of an abstract.
func claimResource(a *Abstract, coder string, now time.Time, final bool) map[string]any {
	status := "draft"
	if final {
		status = "active"
	}
	c := map[string]any{
		"resourceType": "Claim",
		"status":       status,
		"type":         concept(sysClaimType, "institutional", "Institutional"),
		"use":          "claim",
		"patient":      map[string]any{"reference": a.Patient},
		"created":      now.UTC().Format(time.RFC3339),
		"enterer":      map[string]any{"identifier": map[string]any{"system": SystemCoder, "value": coder}, "display": coder},
		"priority":     concept(sysProcessPriority, "normal", "Normal"),
		"insurance": []any{map[string]any{"sequence": 1, "focal": true,
			"coverage": map[string]any{"display": "coverage not recorded in Custodian"}}},
	}
	if a.provider != "" {
		c["provider"] = map[string]any{"reference": a.provider}
	} else {
		c["provider"] = map[string]any{"display": "the hospital"}
	}
	period := map[string]any{}
	if !a.Admitted.IsZero() {
		period["start"] = a.Admitted.Format(time.RFC3339)
	}
	if !a.Discharged.IsZero() {
		period["end"] = a.Discharged.Format(time.RFC3339)
	}
	if len(period) > 0 {
		c["billablePeriod"] = period
	}
	var infos []any
	if len(period) > 0 {
		infos = append(infos, map[string]any{"sequence": len(infos) + 1, "category": concept(sysInfoCategory, "hospitalized", "Hospitalized"), "timingPeriod": period})
	}
	if a.DischargeStatus != 0 {
		infos = append(infos, map[string]any{"sequence": len(infos) + 1, "category": concept(sysInfoCategory, "discharge", "Discharge"),
			"code": concept(SystemUB04Status, fmt.Sprintf("%02d", a.DischargeStatus), "")})
	}
	if infos != nil {
		c["supportingInfo"] = infos
	}
	var dxs []any
	var dxSeq []any
	for i, d := range a.Diagnoses {
		e := map[string]any{"sequence": i + 1, "diagnosisCodeableConcept": concept(codeset.URIICD10CM, d.Code, "")}
		if i == 0 {
			e["type"] = []any{concept(sysDxType, "principal", "Principal Diagnosis")}
			if a.DRG != nil && a.DRG.DRG != 0 {
				e["packageCode"] = concept(SystemMSDRG, fmt.Sprintf("%03d", a.DRG.DRG), a.DRG.Description)
			}
		}
		switch d.POA {
		case "Y", "N", "U", "W":
			e["onAdmission"] = concept(sysPOA, strings.ToLower(d.POA), "")
		}
		dxs = append(dxs, e)
		dxSeq = append(dxSeq, i+1)
	}
	if dxs != nil {
		c["diagnosis"] = dxs
	}
	var pxs []any
	var pxSeq []any
	for i, p := range a.Procedures {
		e := map[string]any{"sequence": i + 1, "procedureCodeableConcept": concept(codeset.URIICD10PCS, p.Code, "")}
		if p.Date != "" {
			e["date"] = p.Date
		}
		pxs = append(pxs, e)
		pxSeq = append(pxSeq, i+1)
	}
	if pxs != nil {
		c["procedure"] = pxs
	}
	item := map[string]any{"sequence": 1, "encounter": []any{map[string]any{"reference": a.Encounter}}}
	if a.DRG != nil && a.DRG.DRG != 0 {
		item["productOrService"] = concept(SystemMSDRG, fmt.Sprintf("%03d", a.DRG.DRG), a.DRG.Description)
	} else {
		item["productOrService"] = map[string]any{"text": "inpatient stay (not grouped)"}
	}
	if dxSeq != nil {
		item["diagnosisSequence"] = dxSeq
	}
	if pxSeq != nil {
		item["procedureSequence"] = pxSeq
	}
	c["item"] = []any{item}
	var ext []any
	for _, e := range a.Edits {
		ext = append(ext, map[string]any{"url": ExtEdit, "valueCode": e.Code})
	}
	if ext != nil {
		c["extension"] = ext
	}
	return c
}

// fromClaim reads the codes of a saved coding Claim into a.
func (a *Abstract) fromClaim(r *store.Resource) error {
	var c struct {
		Status    string
		Created   string
		Enterer   struct{ Display string }
		Diagnosis []struct {
			Sequence                 int
			DiagnosisCodeableConcept struct {
				Coding []struct{ System, Code string }
			}
			OnAdmission *struct{ Coding []struct{ Code string } }
		}
		Procedure []struct {
			Sequence                 int
			Date                     string
			ProcedureCodeableConcept struct {
				Coding []struct{ System, Code string }
			}
		}
	}
	if err := json.Unmarshal(r.Body, &c); err != nil {
		return custodian.Wrap(custodian.EINTERNAL, err, "the stored coding Claim cannot be read")
	}
	slices.SortStableFunc(c.Diagnosis, func(x, y struct {
		Sequence                 int
		DiagnosisCodeableConcept struct {
			Coding []struct{ System, Code string }
		}
		OnAdmission *struct{ Coding []struct{ Code string } }
	}) int {
		return x.Sequence - y.Sequence
	})
	for _, d := range c.Diagnosis {
		var dx Diagnosis
		if len(d.DiagnosisCodeableConcept.Coding) > 0 {
			dx.Code = d.DiagnosisCodeableConcept.Coding[0].Code
		}
		if d.OnAdmission != nil && len(d.OnAdmission.Coding) > 0 {
			dx.POA = strings.ToUpper(d.OnAdmission.Coding[0].Code)
		}
		a.Diagnoses = append(a.Diagnoses, dx)
	}
	for _, p := range c.Procedure {
		var px Procedure
		if len(p.ProcedureCodeableConcept.Coding) > 0 {
			px.Code = p.ProcedureCodeableConcept.Coding[0].Code
		}
		px.Date = p.Date
		a.Procedures = append(a.Procedures, px)
	}
	a.Status = StatusDraft
	if c.Status == "active" {
		a.Status = StatusFinal
	}
	a.Claim, a.ClaimVersion, a.Coder = "Claim/"+r.ID, r.VersionID, c.Enterer.Display
	a.Coded, _ = parseTime(c.Created)
	return nil
}

// ClaimID returns the id of the coding Claim of an encounter ("id" or
// "Encounter/id"): "coding-" and the encounter's id, which Save writes and
// the DNFB list and the final coding rule read.
func ClaimID(encounter string) string {
	return claimPrefix + strings.TrimPrefix(encounter, "Encounter/")
}
