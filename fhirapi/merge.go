package fhirapi

import (
	"net/http"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/mpi/identity"
	"github.com/custodian-him/custodian/store"
)

const mergeDefinition = "http://hl7.org/fhir/OperationDefinition/Patient-merge"

// MergeOperations serve the master patient index's decisions through svc
// (package identity), as the caller, who must be allowed to update
// Patient:
//
//   - POST /fhir/Patient/$merge: Parameters source-patient (the record
//     retired) and target-patient (the survivor), as valueReference
//     ("Patient/id"), and preview (boolean). The answer is Parameters with
//     an informational outcome, the merge Task (task) and one changed
//     reference per resource written, with its pre-merge version. The
//     parameter names follow FHIR R5 Patient/$merge; identifiers in place
//     of references (source-patient-identifier) are not taken.
//   - POST /fhir/Task/{id}/$unmerge: undoes the merge recorded by the Task.
//   - POST /fhir/Task/{id}/$not-duplicate: closes a duplicate-candidate
//     Task as two different people (optional note, valueString).
func MergeOperations(svc *identity.Service) []Operation {
	m := &mergeAPI{svc: svc}
	return []Operation{
		{Pattern: "POST /fhir/Patient/$merge", Name: "merge", Type: "Patient", Definition: mergeDefinition, Handle: m.merge},
		{Pattern: "POST /fhir/Task/{id}/$unmerge", Name: "unmerge", Type: "Task", Handle: m.unmerge},
		{Pattern: "POST /fhir/Task/{id}/$not-duplicate", Name: "not-duplicate", Type: "Task", Handle: m.notDuplicate},
	}
}

type mergeAPI struct{ svc *identity.Service }

// patientParam reads a reference to a Patient given as valueReference
// (or, in a form or the query, as text).
func patientParam(p *Params, name string) (string, error) {
	ref := p.Get(name)
	for _, part := range p.Parts(name) {
		if v, ok := part["valueReference"].(map[string]any); ok {
			ref, _ = v["reference"].(string)
		}
	}
	if ref == "" {
		return "", custodian.Errorf(custodian.EINVALID, "the %s parameter (a reference to a Patient) is required", name)
	}
	typ, id := store.SplitReference(ref)
	if typ != "Patient" || !store.ValidID(id) {
		return "", custodian.Errorf(custodian.EINVALID, "%s %q is not a reference to a Patient", name, ref)
	}
	return id, nil
}

func (m *mergeAPI) merge(w http.ResponseWriter, r *http.Request) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	for _, n := range p.Names() {
		switch n {
		case "source-patient", "target-patient", "preview":
		default:
			return custodian.Errorf(custodian.EINVALID, "$merge does not take %q (source-patient, target-patient and preview only)", n)
		}
	}
	src, err := patientParam(p, "source-patient")
	if err != nil {
		return err
	}
	dst, err := patientParam(p, "target-patient")
	if err != nil {
		return err
	}
	preview := false
	switch v := p.Get("preview"); v {
	case "", "false":
	case "true":
		preview = true
	default:
		return custodian.Errorf(custodian.EINVALID, "preview %q is not true or false", v)
	}
	res, err := m.svc.Merge(r.Context(), dst, src, preview)
	if err != nil {
		return err
	}
	msg := "Patient/" + src + " was merged into Patient/" + dst
	if preview {
		msg = "preview: merging Patient/" + src + " into Patient/" + dst + " would change these resources"
	}
	writeMerged(w, msg, res)
	return nil
}

func (m *mergeAPI) unmerge(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !store.ValidID(id) {
		return custodian.Errorf(custodian.EINVALID, "%q is not a valid resource id", id)
	}
	res, err := m.svc.Unmerge(r.Context(), id)
	if err != nil {
		return err
	}
	writeMerged(w, "Patient/"+res.Retired+" and Patient/"+res.Survivor+" are separate again", res)
	return nil
}

func (m *mergeAPI) notDuplicate(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !store.ValidID(id) {
		return custodian.Errorf(custodian.EINVALID, "%q is not a valid resource id", id)
	}
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	if err := m.svc.NotDuplicate(r.Context(), id, strings.TrimSpace(p.Get("note"))); err != nil {
		return err
	}
	WriteResource(w, http.StatusOK, outcomeParams("Task/"+id+" is closed: the two patients are different people", "", nil))
	return nil
}

func writeMerged(w http.ResponseWriter, msg string, res *identity.Merged) {
	WriteResource(w, http.StatusOK, outcomeParams(msg, res.Task, res.Changed))
}

func outcomeParams(msg, task string, changed []string) map[string]any {
	params := []any{map[string]any{"name": "outcome", "resource": map[string]any{"resourceType": "OperationOutcome",
		"issue": []any{map[string]any{"severity": "information", "code": "informational", "diagnostics": msg}}}}}
	if task != "" {
		params = append(params, map[string]any{"name": "task", "valueReference": map[string]any{"reference": "Task/" + task}})
	}
	for _, c := range changed {
		params = append(params, map[string]any{"name": "changed", "valueReference": map[string]any{"reference": c}})
	}
	return map[string]any{"resourceType": "Parameters", "parameter": params}
}
