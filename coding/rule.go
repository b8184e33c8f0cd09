package coding

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/codeset"
	"github.com/custodian-him/custodian/store"
)

// FinalCodingRule returns the rule that holds a final coding Claim
// written by a user or client to what Save holds the coder's
// finalisation to, whichever way it is written (a FHIR create, update or
// patch, a Bundle's entry, a batch): the store asks it inside the write
// (access.Guard.Rules, store.WriteRule).
//
// Final coding is the encoder's step, not a bare write: the codes pass the
// claim edits and the MS-DRG is what the grouper makes of them. A coder
// finalises through the coding workspace or Encounter/$finalize-coding;
// a Claim written directly is accepted only when it is what that path
// would have produced from its codes, so an external encoder's final
// abstract can still come in through the FHIR API, checked the same way.
// A write is refused with EUNPROCESSABLE, one issue per failed edit
// (named by its code, e.g. "POA_MISSING: …"), when its codes have error
// edits, when the MS-DRG it states is not the grouper's, when it names no
// stored inpatient encounter (item.encounter, or the encounter its
// "coding-<encounter>" id names) or a patient other than the encounter's,
// when a diagnosis has no ICD-10-CM code, or when it names as its coder
// (enterer) someone other than the writer.
//
// The rule reads the stay as the writer would read it (store.Store.Sees):
// a sensitive stay the writer may not see, the glass not broken, reads as
// not stored, so a refusal tells the writer nothing of it. The patient's
// age and sex are read whether the writer may see the patient or not: a
// Claim that conflicts with them is never final, seen or not. For a
// patient hidden from the writer, an age or sex edit that fails, and a
// stated MS-DRG that is not the grouper's (the grouping rests on age and
// sex too), are refused with one issue that says no more than that the
// Claim fails an edit on data the writer may not see (EditHiddenData),
// naming neither the edit, nor the code, nor the grouper's MS-DRG: a
// coder with access, or this one after breaking the glass, sees which.
// It tells the writer one thing of the hidden record, that these codes do
// not fit it — what any claim scrubber downstream would tell them too.
// A stay or patient the writer sees only because they broke the glass is
// read under the glass, and the store records that read as a
// break-the-glass read (store.Store.Sees), whether the write is stored or
// refused.
//
// A final coding Claim is any active Claim whose id is "coding-…" (the
// ids Save writes and the DNFB list reads), or, written by a user (a
// person), a Claim of status active, use claim and type institutional for
// an inpatient stay (Encounter.class IMP, ACUTE or NONAC). An API client's
// institutional claims (another system's, e.g. a billing system's) are
// not judged unless their id is "coding-…". Drafts, deletes, outpatient and other Claims
// are not judged.
func (q *Queue) FinalCodingRule() store.WriteRule {
	return store.WriteRule{Type: "Claim", Check: q.checkFinal}
}

// EditHiddenData is the one issue a final coding Claim is refused with
// when it fails an edit on data its writer may not see: an age or sex
// edit, or the grouping, of a patient hidden from them (FinalCodingRule).
const EditHiddenData = "FAILS_ON_HIDDEN_DATA"

// hiddenDataIssue is EditHiddenData's message, the same whichever edit
// failed.
const hiddenDataIssue = EditHiddenData + ": the Claim fails a coding edit on patient data you may not see; ask a coder with access to the patient's record, or break the glass for the patient to see which edit."

// codeableJSON is what the rule reads of a CodeableConcept.
type codeableJSON struct {
	Coding []struct{ System, Code string }
}

// claimJSON is what the rule reads of a Claim.
type claimJSON struct {
	ID     string
	Status string
	Use    string
	Type   struct {
		Coding []struct{ System, Code string }
	}
	Patient struct{ Reference string }
	Enterer struct {
		Identifier struct{ System, Value string }
	}
	Diagnosis []struct {
		Sequence                 int
		DiagnosisCodeableConcept *codeableJSON
		OnAdmission              *struct{ Coding []struct{ Code string } }
		PackageCode              *struct {
			Coding []struct{ System, Code string }
		}
	}
	Procedure []struct {
		Sequence                 int
		Date                     string
		ProcedureCodeableConcept *codeableJSON
	}
	Item []struct {
		Encounter        []struct{ Reference string }
		ProductOrService struct {
			Coding []struct{ System, Code string }
		}
	}
}

// finalCoding reports whether c, written by a person (a user) or not (an
// API client), is a final coding Claim the rule judges: any active
// "coding-…" Claim, the coding workspace's own; and an active institutional
// claim that a person writes, since a person writing one is coding the
// stay. An institutional claim an API client brings in from another system
// (a billing system's claim, a Synthea bundle's) is that system's record,
// grouped by its own rules, and is stored as sent.
func (c *claimJSON) finalCoding(byPerson bool) bool {
	if c.Status != "active" {
		return false
	}
	if strings.HasPrefix(c.ID, claimPrefix) {
		return true
	}
	return byPerson && c.Use == "claim" && slices.ContainsFunc(c.Type.Coding, func(x struct{ System, Code string }) bool {
		return x.System == sysClaimType && x.Code == "institutional"
	})
}

// unprocessable is an EUNPROCESSABLE error with one issue at path.
func unprocessable(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	err := custodian.Errorf(custodian.EUNPROCESSABLE, "the final coding Claim cannot be stored: %s", msg)
	err.Issues = []custodian.Issue{{Severity: "error", Code: "business-rule", Path: path, Message: msg}}
	return err
}

func (q *Queue) checkFinal(ctx context.Context, rd store.Reader, _, new map[string]any) error {
	if new == nil {
		return nil
	}
	actor := custodian.ActorFromContext(ctx)
	byPerson := actor != nil && actor.Kind == "user"
	// The rule runs in the store's single writer for every Claim written;
	// most are not final coding Claims (an API client's institutional
	// claims are stored as sent), and two members tell so without reading
	// the whole Claim.
	status, _ := new["status"].(string)
	id, _ := new["id"].(string)
	if status != "active" || (!byPerson && !strings.HasPrefix(id, claimPrefix)) {
		return nil
	}
	body, err := json.Marshal(new)
	if err != nil {
		return custodian.Wrap(custodian.EINTERNAL, err, "coding: the Claim cannot be encoded")
	}
	var c claimJSON
	if err := json.Unmarshal(body, &c); err != nil {
		return custodian.Wrap(custodian.EINVALID, err, "the Claim cannot be read")
	}
	if !c.finalCoding(byPerson) {
		return nil
	}
	encID, err := c.encounter()
	if err != nil {
		return err
	}
	// The rule reads the stay as the writer would: a stay the writer may
	// not see (a sensitive record, the glass not broken) reads as none, so
	// no message tells the writer that it exists.
	enc, err := q.current(ctx, rd, "Encounter", encID)
	if err != nil || enc.Deleted {
		if err == nil || custodian.ErrorCode(err) == custodian.ENOTFOUND {
			return unprocessable("Claim.item.encounter", "Encounter/%s is not a stored encounter", encID)
		}
		return err
	}
	if !strings.HasPrefix(c.ID, claimPrefix) && !inpatient(enc.Body) {
		// The coding service codes inpatient stays; an outpatient
		// institutional claim is not held to its inpatient edits (POA).
		return nil
	}
	// The patient's age and sex are read as the system would: the edits
	// on them run even when the writer may not see the patient (hidden),
	// and then say nothing of what they found (hiddenEdits).
	var hidden bool
	a, err := baseOf(ctx, encID, enc.Body, func(id string) ([]byte, error) {
		p, err := rd.Current(ctx, "Patient", id)
		if custodian.ErrorCode(err) == custodian.ENOTFOUND || err == nil && p.Deleted {
			return nil, nil // age and sex unknown, as the edits then say
		}
		if err != nil {
			return nil, err
		}
		if hidden, err = q.hides(ctx, rd, p); err != nil {
			return nil, err
		}
		return p.Body, nil
	})
	if err != nil {
		return err
	}
	if c.Patient.Reference != a.Patient {
		return unprocessable("Claim.patient", "the Claim is for %s but %s is the stay of %s", c.Patient.Reference, a.Encounter, a.Patient)
	}
	if v := c.Enterer.Identifier; v.System == SystemCoder {
		if actor := custodian.ActorFromContext(ctx); actor == nil || v.Value != actor.ID {
			return unprocessable("Claim.enterer", "the Claim names %q as its coder; a coder finalises under their own name", v.Value)
		}
	}
	dx, px, err := c.codes()
	if err != nil {
		return err
	}
	a.Diagnoses, a.Procedures = normalizeDx(q.Checker.cm, dx), normalizePx(q.Checker.pcs, px)
	q.evaluate(a, false)
	if hidden {
		hiddenEdits(a)
	}
	if err := errorEdits(a, "Claim.diagnosis"); err != nil {
		return err
	}
	if a.DRG != nil && a.DRG.DRG != 0 {
		want := fmt.Sprintf("%03d", a.DRG.DRG)
		for _, stated := range c.statedDRGs() {
			switch {
			case stated == want:
			case hidden:
				return unprocessable("Claim.diagnosis.packageCode", "%s", hiddenDataIssue)
			default:
				return unprocessable("Claim.diagnosis.packageCode", "the MS-DRG stated, %s, is not the grouper's for these codes (%s %s, %s)",
					stated, want, a.DRG.Description, a.DRG.Version)
			}
		}
	}
	return nil
}

// hiddenEdits replaces a's error edits on the patient's age and sex, for
// a patient hidden from the writer, with one that names neither them nor
// their codes (EditHiddenData); the other edits rest on the codes and the
// stay alone, which the writer sees, and are kept as they are.
func hiddenEdits(a *Abstract) {
	var failed bool
	a.Edits = slices.DeleteFunc(a.Edits, func(e Edit) bool {
		on := e.Severity == SevError && (e.Code == EditAge || e.Code == EditSex)
		failed = failed || on
		return on
	})
	if failed {
		a.Edits = append(a.Edits, Edit{Code: EditHiddenData, Severity: SevError,
			Message: strings.TrimPrefix(hiddenDataIssue, EditHiddenData+": ")})
	}
}

// current reads typ/id through rd as the actor of ctx would see it:
// ENOTFOUND for a version the actor may not see (hides).
func (q *Queue) current(ctx context.Context, rd store.Reader, typ, id string) (*store.Resource, error) {
	r, err := rd.Current(ctx, typ, id)
	if err != nil || r.Deleted {
		return r, err
	}
	hidden, err := q.hides(ctx, rd, r)
	if err != nil {
		return nil, err
	}
	if hidden {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "%s/%s is not found", typ, id)
	}
	return r, nil
}

// hides reports whether r, read through rd, is hidden from the actor of
// ctx (store.Store.Sees); nothing is without a store.
func (q *Queue) hides(ctx context.Context, rd store.Reader, r *store.Resource) (bool, error) {
	if q.Store == nil || r.Deleted {
		return false, nil
	}
	ok, err := q.Store.Sees(ctx, rd, r)
	return !ok, err
}

// inpatient reports whether an Encounter body is an inpatient stay, by
// its class (v3 ActCode IMP, ACUTE or NONAC), as the coding operations
// decide the setting.
func inpatient(body []byte) bool {
	var e encounterJSON
	if json.Unmarshal(body, &e) != nil {
		return false
	}
	switch e.Class.Code {
	case "IMP", "ACUTE", "NONAC":
		return true
	}
	return false
}

// encounter returns the id of the encounter c codes: its item.encounter,
// which must agree with the encounter a "coding-<id>" Claim id names.
func (c *claimJSON) encounter() (string, error) {
	var named []string
	for _, it := range c.Item {
		for _, e := range it.Encounter {
			id, ok := strings.CutPrefix(e.Reference, "Encounter/")
			if !ok || !store.ValidID(id) {
				return "", unprocessable("Claim.item.encounter", "%q is not a reference to an Encounter", e.Reference)
			}
			if !slices.Contains(named, id) {
				named = append(named, id)
			}
		}
	}
	if len(named) > 1 {
		return "", unprocessable("Claim.item.encounter", "a final coding Claim codes one stay; it names %d encounters", len(named))
	}
	if fromID, ok := strings.CutPrefix(c.ID, claimPrefix); ok {
		if len(named) == 1 && named[0] != fromID {
			return "", unprocessable("Claim.item.encounter", "Claim/%s codes Encounter/%s, not Encounter/%s", c.ID, fromID, named[0])
		}
		return fromID, nil
	}
	if len(named) == 0 {
		return "", unprocessable("Claim.item.encounter", "a final coding Claim names the stay it codes in item.encounter")
	}
	return named[0], nil
}

// codes returns c's diagnoses (ICD-10-CM, in sequence, with POA) and
// procedures (ICD-10-PCS).
func (c *claimJSON) codes() ([]Diagnosis, []Procedure, error) {
	dxs := slices.Clone(c.Diagnosis)
	slices.SortStableFunc(dxs, func(x, y struct {
		Sequence                 int
		DiagnosisCodeableConcept *codeableJSON
		OnAdmission              *struct{ Coding []struct{ Code string } }
		PackageCode              *struct {
			Coding []struct{ System, Code string }
		}
	}) int {
		return x.Sequence - y.Sequence
	})
	var dx []Diagnosis
	for i, d := range dxs {
		code := codeIn(d.DiagnosisCodeableConcept, codeset.URIICD10CM)
		if code == "" {
			return nil, nil, unprocessable(fmt.Sprintf("Claim.diagnosis[%d]", i), "diagnosis %d has no ICD-10-CM code", d.Sequence)
		}
		var poa string
		if d.OnAdmission != nil && len(d.OnAdmission.Coding) > 0 {
			poa = strings.ToUpper(d.OnAdmission.Coding[0].Code)
		}
		dx = append(dx, Diagnosis{Code: code, POA: poa})
	}
	var px []Procedure
	for i, p := range c.Procedure {
		code := codeIn(p.ProcedureCodeableConcept, codeset.URIICD10PCS)
		if code == "" {
			return nil, nil, unprocessable(fmt.Sprintf("Claim.procedure[%d]", i), "procedure %d has no ICD-10-PCS code", p.Sequence)
		}
		px = append(px, Procedure{Code: code, Date: p.Date[:min(10, len(p.Date))]})
	}
	return dx, px, nil
}

// statedDRGs returns the MS-DRGs c states: as a diagnosis's packageCode
// and as an item's product.
func (c *claimJSON) statedDRGs() []string {
	var out []string
	for _, d := range c.Diagnosis {
		if d.PackageCode == nil {
			continue
		}
		for _, x := range d.PackageCode.Coding {
			if x.System == SystemMSDRG {
				out = append(out, x.Code)
			}
		}
	}
	for _, it := range c.Item {
		for _, x := range it.ProductOrService.Coding {
			if x.System == SystemMSDRG {
				out = append(out, x.Code)
			}
		}
	}
	return out
}

// codeIn is the first code of system in cc ("" if none, or cc is nil).
func codeIn(cc *codeableJSON, system string) string {
	if cc == nil {
		return ""
	}
	for _, x := range cc.Coding {
		if x.System == system {
			return x.Code
		}
	}
	return ""
}
