package identity

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/mpi"
	"github.com/custodian-him/custodian/store"
)

// Codes of the Tasks this package writes, in System.
const (
	System = "https://custodian.example/fhir/CodeSystem/mpi"

	CodeMerge     = "patient-merge"
	CodeUnmerge   = "patient-unmerge"
	CodeCandidate = "duplicate-candidate"
	CodeOverlay   = "possible-overlay"

	// BusinessNotDuplicate completes a candidate a person declared two
	// different people; BusinessMerged one whose pair was merged;
	// BusinessUnmerged marks a merge Task that was undone.
	BusinessNotDuplicate = "not-duplicate"
	BusinessMerged       = "merged"
	BusinessUnmerged     = "unmerged"

	// PairSystem identifies a candidate Task by its pair ("a/b", ids in
	// order) and an overlay Task by "overlay/id/version".
	PairSystem = "https://custodian.example/fhir/mpi-pair"
)

// Service acts on the patients of Store: merges, the candidate queue and
// the reports. Index is the live master patient index the queue scores
// against (kept current by fhirapi.MatchWatcher); merges work without it.
type Service struct {
	Store  *store.Store
	Index  *mpi.Index
	Logger *slog.Logger

	mu    sync.Mutex
	dirty map[string]int64 // patient id → version to check
	wake  chan struct{}
}

// Merged is what a merge did (or, previewed, would do).
type Merged struct {
	Survivor, Retired string
	// Task is the merge Task's id ("" in a preview).
	Task string
	// Changed lists every resource written, with its pre-merge version
	// ("Observation/7/_history/2"), the two Patients included.
	Changed []string
}

// reach returns ctx acting as the user of ctx with the system's reach
// (see the package doc), after checking the user may update Patient and
// take the patient-link step on item ("Type/id", for the audit trail).
func (s *Service) reach(ctx context.Context, item string) (context.Context, error) {
	a := custodian.ActorFromContext(ctx)
	if a == nil {
		return nil, custodian.Errorf(custodian.EUNAUTHORIZED, "the request has no authenticated actor")
	}
	if err := s.Store.Allowed(ctx, "Patient", "update"); err != nil {
		return nil, err
	}
	// Merging is the patient-link workflow's step (the HIM director's by
	// default), as the store's Guard names its deciders; the writes below
	// act as the system, which the guard does not judge. A refusal is in
	// the audit trail.
	if err := s.Store.MayDecide(ctx, access.WorkflowPatientLink, item); err != nil {
		return nil, err
	}
	if a.Kind == "system" {
		return ctx, nil
	}
	d := *a
	d.Kind = "system"
	return custodian.NewContextWithActor(ctx, &d), nil
}

// Merge merges the patient retired into survivor (see the package doc).
// With preview nothing is written. It returns EINVALID for one patient
// given twice, ENOTFOUND for an unknown one, ECONFLICT when either was
// merged already, EFORBIDDEN when the user may not update patients and
// EPRECONDITION when a resource changed while the merge was planned.
func (s *Service) Merge(ctx context.Context, survivor, retired string, preview bool) (*Merged, error) {
	sctx, err := s.reach(ctx, "Patient/"+retired)
	if err != nil {
		return nil, err
	}
	if survivor == retired {
		return nil, custodian.Errorf(custodian.EINVALID, "a patient cannot be merged into itself (Patient/%s)", survivor)
	}
	sp, err := s.Store.Read(sctx, "Patient", survivor)
	if err != nil {
		return nil, err
	}
	rp, err := s.Store.Read(sctx, "Patient", retired)
	if err != nil {
		return nil, err
	}
	sres, err := store.Decode(sp.Body)
	if err != nil {
		return nil, err
	}
	rres, err := store.Decode(rp.Body)
	if err != nil {
		return nil, err
	}
	if to := linkOf(sres, "replaced-by"); to != "" {
		return nil, custodian.Errorf(custodian.ECONFLICT, "Patient/%s was merged into %s already; choose that record as the survivor", survivor, to)
	}
	if to := linkOf(rres, "replaced-by"); to != "" {
		return nil, custodian.Errorf(custodian.ECONFLICT, "Patient/%s was merged into %s already", retired, to)
	}
	m := &Merged{Survivor: survivor, Retired: retired}
	var entries []store.Entry
	err = s.eachInCompartment(sctx, retired, func(r *store.Resource) error {
		if r.Type == "Patient" && (r.ID == retired || r.ID == survivor) {
			return nil
		}
		res, err := store.Decode(r.Body)
		if err != nil {
			return err
		}
		if !rewriteRefs(res, retired, survivor) {
			return nil
		}
		m.Changed = append(m.Changed, versionRef(r))
		entries = append(entries, store.Entry{Method: store.MethodUpdate, URL: r.Ref(), Resource: res, IfMatch: r.VersionID})
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The survivor: replaces the retired patient, and keeps its numbers.
	rewriteRefs(sres, retired, survivor)
	sres["link"] = append(without(sres["link"], retired), map[string]any{
		"other": map[string]any{"reference": "Patient/" + retired}, "type": "replaces"})
	ids, _ := sres["identifier"].([]any)
	for _, x := range asList(rres["identifier"]) {
		id, ok := x.(map[string]any)
		if !ok || hasIdentifier(ids, id) {
			continue
		}
		c := clone(id)
		c["use"] = "old"
		ids = append(ids, c)
	}
	if len(ids) > 0 {
		sres["identifier"] = ids
	}
	// The retired patient: inactive, replaced by the survivor.
	rres["active"] = false
	rres["link"] = append(without(rres["link"], survivor), map[string]any{
		"other": map[string]any{"reference": "Patient/" + survivor}, "type": "replaced-by"})
	m.Changed = append(m.Changed, versionRef(sp), versionRef(rp))
	entries = append(entries,
		store.Entry{Method: store.MethodUpdate, URL: sp.Ref(), Resource: sres, IfMatch: sp.VersionID},
		store.Entry{Method: store.MethodUpdate, URL: rp.Ref(), Resource: rres, IfMatch: rp.VersionID})
	if preview {
		return m, nil
	}
	task := s.task(ctx, CodeMerge, "completed", "Patient/"+survivor)
	task["description"] = fmt.Sprintf("Patient/%s merged into Patient/%s", retired, survivor)
	inputs := []any{refInput("retired-patient", versionRef(rp)), refInput("survivor-patient", versionRef(sp))}
	for _, c := range m.Changed {
		inputs = append(inputs, refInput("changed", c))
	}
	task["input"] = inputs
	entries = append(entries, store.Entry{Method: store.MethodCreate, URL: "Task", FullURL: "urn:uuid:" + store.NewUUID(), Resource: task})
	// A candidate Task of this pair is closed by the merge.
	if c, err := s.pairTask(sctx, survivor, retired); err != nil {
		return nil, err
	} else if c != nil && c.status != "completed" {
		c.res["status"] = "completed"
		c.res["businessStatus"] = concept(BusinessMerged)
		entries = append(entries, store.Entry{Method: store.MethodUpdate, URL: "Task/" + c.id, Resource: c.res, IfMatch: c.version})
	}
	outs, err := s.Store.Transaction(sctx, entries)
	if err != nil {
		return nil, err
	}
	for i, e := range entries {
		if e.URL == "Task" {
			m.Task = outs[i].Resource.ID
		}
	}
	return m, nil
}

// Unmerge undoes the merge recorded by Task taskID (see the package doc).
// It returns ENOTFOUND for an unknown Task, EINVALID for a Task that is not
// a merge, ECONFLICT for a merge already undone or a resource changed
// since the merge.
func (s *Service) Unmerge(ctx context.Context, taskID string) (*Merged, error) {
	sctx, err := s.reach(ctx, "Task/"+taskID)
	if err != nil {
		return nil, err
	}
	tr, err := s.Store.Read(sctx, "Task", taskID)
	if err != nil {
		return nil, err
	}
	task, err := store.Decode(tr.Body)
	if err != nil {
		return nil, err
	}
	if taskCode(task) != CodeMerge {
		return nil, custodian.Errorf(custodian.EINVALID, "Task/%s is not a patient merge", taskID)
	}
	if businessStatus(task) == BusinessUnmerged {
		return nil, custodian.Errorf(custodian.ECONFLICT, "the merge of Task/%s was undone already", taskID)
	}
	m := &Merged{Task: taskID}
	var entries []store.Entry
	var changed []string
	for _, in := range asList(task["input"]) {
		name, ref := inputRef(in)
		switch name {
		case "retired-patient":
			_, m.Retired, _ = splitVersion(ref)
			continue
		case "survivor-patient":
			_, m.Survivor, _ = splitVersion(ref)
			continue
		case "changed":
		default:
			continue
		}
		typ, id, vid := splitVersion(ref)
		if vid == 0 {
			return nil, custodian.Errorf(custodian.EINVALID, "Task/%s lists %q, which is not a versioned reference", taskID, ref)
		}
		cur, err := s.Store.Read(sctx, typ, id)
		if err != nil {
			return nil, custodian.Wrap(custodian.ErrorCode(err), err, "%s/%s, changed by the merge, cannot be read", typ, id)
		}
		if cur.VersionID != vid+1 {
			changed = append(changed, cur.Ref())
			continue
		}
		old, err := s.Store.VRead(sctx, typ, id, vid)
		if err != nil {
			return nil, err
		}
		res, err := store.Decode(old.Body)
		if err != nil {
			return nil, err
		}
		if meta, ok := res["meta"].(map[string]any); ok {
			delete(meta, "versionId")
			delete(meta, "lastUpdated")
			if len(meta) == 0 {
				delete(res, "meta")
			}
		}
		m.Changed = append(m.Changed, ref)
		entries = append(entries, store.Entry{Method: store.MethodUpdate, URL: typ + "/" + id, Resource: res, IfMatch: cur.VersionID})
	}
	if len(changed) > 0 {
		return nil, custodian.Errorf(custodian.ECONFLICT, "%s changed since the merge; undo those changes or correct the records by hand", strings.Join(changed, ", "))
	}
	task["businessStatus"] = concept(BusinessUnmerged)
	entries = append(entries, store.Entry{Method: store.MethodUpdate, URL: "Task/" + taskID, Resource: task, IfMatch: tr.VersionID})
	un := s.task(ctx, CodeUnmerge, "completed", "Patient/"+m.Survivor)
	un["basedOn"] = []any{map[string]any{"reference": "Task/" + taskID}}
	un["description"] = fmt.Sprintf("Patient/%s separated again from Patient/%s", m.Retired, m.Survivor)
	entries = append(entries, store.Entry{Method: store.MethodCreate, URL: "Task", FullURL: "urn:uuid:" + store.NewUUID(), Resource: un})
	if _, err := s.Store.Transaction(sctx, entries); err != nil {
		return nil, err
	}
	return m, nil
}

// eachInCompartment calls fn with every current resource in the
// compartment of Patient id.
func (s *Service) eachInCompartment(ctx context.Context, id string, fn func(*store.Resource) error) error {
	// One search over every type of the compartment: a page of the record
	// costs one statement whatever the number of types.
	q, _, err := s.Store.ParseQuery("", url.Values{"_count": {"1000"}}, false)
	if err != nil {
		return err
	}
	cp := &store.Compartment{Type: "Patient", ID: id, Params: map[string][]string{}}
	for _, t := range fhir.R4().ResourceTypes() {
		if ps := fhir.PatientCompartmentParams(t); len(ps) > 0 {
			cp.Params[t] = ps
			q.Types = append(q.Types, t)
		}
	}
	slices.Sort(q.Types)
	q.Compartment = cp
	for {
		page, err := s.Store.Search(ctx, q)
		if err != nil {
			return err
		}
		for _, r := range page.Resources {
			if err := fn(r); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		q.Cursor = page.Next
	}
}

// task returns a new Task of code written by the actor of ctx.
func (s *Service) task(ctx context.Context, code, status, focus string) map[string]any {
	t := map[string]any{"resourceType": "Task", "status": status, "intent": "order",
		"code":       map[string]any{"coding": []any{map[string]any{"system": System, "code": code}}},
		"focus":      map[string]any{"reference": focus},
		"for":        map[string]any{"reference": strings.Join(strings.Split(focus, "/")[:2], "/")},
		"authoredOn": store.FormatInstant(s.Store.Now()),
	}
	if a := custodian.ActorFromContext(ctx); a != nil {
		t["requester"] = map[string]any{"display": a.ID}
	}
	return t
}

// rewriteRefs points every reference to Patient/from in v at Patient/to
// and reports whether it changed anything.
func rewriteRefs(v any, from, to string) bool {
	changed := false
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "reference" {
				if typ, id := store.SplitReference(s); typ == "Patient" && id == from {
					x[k] = "Patient/" + to
					changed = true
				}
				continue
			}
			changed = rewriteRefs(e, from, to) || changed
		}
	case []any:
		for _, e := range x {
			changed = rewriteRefs(e, from, to) || changed
		}
	}
	return changed
}

func linkOf(p map[string]any, typ string) string {
	for _, l := range asList(p["link"]) {
		lm, _ := l.(map[string]any)
		if lm["type"] == typ {
			o, _ := lm["other"].(map[string]any)
			ref, _ := o["reference"].(string)
			return ref
		}
	}
	return ""
}

// without returns the links of v that do not point at Patient/id.
func without(v any, id string) []any {
	var out []any
	for _, l := range asList(v) {
		lm, _ := l.(map[string]any)
		o, _ := lm["other"].(map[string]any)
		ref, _ := o["reference"].(string)
		if t, i := store.SplitReference(ref); t == "Patient" && i == id {
			continue
		}
		out = append(out, l)
	}
	return out
}

func hasIdentifier(ids []any, id map[string]any) bool {
	return slices.ContainsFunc(ids, func(x any) bool {
		xm, _ := x.(map[string]any)
		return xm["system"] == id["system"] && xm["value"] == id["value"]
	})
}

func asList(v any) []any { l, _ := v.([]any); return l }

func clone(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func versionRef(r *store.Resource) string {
	return r.Ref() + "/_history/" + strconv.FormatInt(r.VersionID, 10)
}

// splitVersion takes "Type/id/_history/n" apart.
func splitVersion(ref string) (typ, id string, vid int64) {
	p := strings.Split(ref, "/")
	if len(p) < 2 {
		return "", "", 0
	}
	typ, id = p[0], p[1]
	if len(p) == 4 && p[2] == "_history" {
		vid, _ = strconv.ParseInt(p[3], 10, 64)
	}
	return typ, id, vid
}

func concept(code string) map[string]any {
	return map[string]any{"coding": []any{map[string]any{"system": System, "code": code}}, "text": code}
}

func refInput(name, ref string) map[string]any {
	return map[string]any{"type": map[string]any{"text": name}, "valueReference": map[string]any{"reference": ref}}
}

func inputRef(in any) (name, ref string) {
	m, _ := in.(map[string]any)
	t, _ := m["type"].(map[string]any)
	name, _ = t["text"].(string)
	v, _ := m["valueReference"].(map[string]any)
	ref, _ = v["reference"].(string)
	return name, ref
}

func codeOf(v any) string {
	c, _ := v.(map[string]any)
	for _, cd := range asList(c["coding"]) {
		cm, _ := cd.(map[string]any)
		if cm["system"] == System {
			s, _ := cm["code"].(string)
			return s
		}
	}
	return ""
}

func taskCode(t map[string]any) string       { return codeOf(t["code"]) }
func businessStatus(t map[string]any) string { return codeOf(t["businessStatus"]) }
