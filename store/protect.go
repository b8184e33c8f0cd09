package store

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/fhir"
)

// SensitiveLabels are the security labels (meta.security) that make a
// resource sensitive: hidden from search and read unless the actor's role
// and purpose of use allow it, or the actor broke the glass for the patient.
var SensitiveLabels = map[string]map[string]bool{
	"http://terminology.hl7.org/CodeSystem/v3-ActCode": {
		"PSY": true, "PSYTHPN": true, // psychiatry, psychotherapy notes
		"ETH": true, "ETHUD": true, // substance use (42 CFR Part 2)
		"HIV": true, "STD": true, "SDV": true, "SEX": true, "SICKLE": true, "TBOO": true, "GDIS": true,
		"CEL": true, // celebrity / VIP
	},
	"http://terminology.hl7.org/CodeSystem/v3-Confidentiality": {
		"R": true, "V": true, // restricted, very restricted
	},
}

// Guard decides what an actor may do and see. Package access implements
// it; the store asks it before every interaction, so the API, the
// workbench and the command line enforce the same rules.
type Guard interface {
	// Allow returns nil if actor may perform interaction (read, search,
	// create, update, delete) on resources of typ, or an EFORBIDDEN error.
	Allow(actor *custodian.Actor, typ, interaction string) error
	// SeesSensitive reports whether actor, with its stated purpose of use,
	// may see resources that carry sensitive security labels.
	SeesSensitive(actor *custodian.Actor) bool
}

// isSensitive reports whether a resource tree carries a sensitive label.
func isSensitive(res map[string]any) bool {
	meta, _ := res["meta"].(map[string]any)
	labels, _ := meta["security"].([]any)
	for _, l := range labels {
		c, _ := l.(map[string]any)
		sys, _ := c["system"].(string)
		code, _ := c["code"].(string)
		if SensitiveLabels[sys][code] {
			return true
		}
	}
	return false
}

// bodySensitive reports whether a stored body carries a sensitive label,
// decoding it only when it has security labels at all.
func bodySensitive(body []byte) bool {
	if !bytes.Contains(body, []byte(`"security"`)) {
		return false
	}
	res, err := Decode(body)
	return err != nil || isSensitive(res) // an unreadable body is treated as sensitive
}

// compartment returns the patient whose record res belongs to, from its
// index entries and the R4 patient compartment definition.
func compartment(typ string, res map[string]any, index []IndexEntry) string {
	if typ == "Patient" {
		id, _ := res["id"].(string)
		return id
	}
	for _, p := range fhir.PatientCompartmentParams(typ) {
		for _, e := range index {
			if e.Kind == KindReference && e.Param == p && (e.RefType == "Patient" || e.RefType == "") && ValidID(e.RefID) {
				return e.RefID
			}
		}
	}
	return ""
}

// actor returns the actor of ctx, or EUNAUTHORIZED when there is none.
func (s *Store) actor(ctx context.Context) (*custodian.Actor, error) {
	a := custodian.ActorFromContext(ctx)
	if a == nil {
		return nil, custodian.Errorf(custodian.EUNAUTHORIZED, "the request has no authenticated actor")
	}
	return a, nil
}

// allow checks that the actor of ctx may perform interaction on typ.
func (s *Store) allow(ctx context.Context, typ, interaction string) (*custodian.Actor, error) {
	a, err := s.actor(ctx)
	if err != nil {
		return nil, err
	}
	if a.Kind == "system" || s.Guard == nil {
		return a, nil
	}
	return a, s.Guard.Allow(a, typ, interaction)
}

// visibility describes what sensitive data an actor may see right now.
type visibility struct {
	all        bool              // sees every sensitive resource
	breakGlass map[string]string // patient → reason, from active grants
}

func (s *Store) visibilityOf(ctx context.Context, rd Reader, a *custodian.Actor) (*visibility, error) {
	if a.Kind == "system" || (s.Guard != nil && s.Guard.SeesSensitive(a)) || s.Guard == nil {
		return &visibility{all: true}, nil
	}
	bg, err := rd.BreakGlass(ctx, a.ID, s.Now())
	if err != nil {
		return nil, err
	}
	return &visibility{breakGlass: bg}, nil
}

// sees reports whether r is visible, and whether that takes a
// break-the-glass grant (whose reason is returned).
func (v *visibility) sees(r *Resource) (ok bool, glass bool, reason string) {
	if r.Deleted || v.all || !bodySensitive(r.Body) {
		return true, false, ""
	}
	if reason, ok := v.breakGlass[r.Compartment]; ok && r.Compartment != "" {
		return true, true, reason
	}
	return false, false, ""
}

// Sees reports whether the actor of ctx may see r, a version read
// through rd, as a read by that actor would show it: a resource with a
// sensitive label only when the Guard lets the actor see such records or
// the actor broke the glass for its patient. A WriteRule reads the record
// through the write's transaction, past the store's filter; it asks this
// so that what it tells the writer does not reveal what the writer may
// not read. EUNAUTHORIZED without an actor.
//
// When the actor sees r only through a break-the-glass grant and rd is
// the Reader the store gave a WriteRule, the rule reads r on the actor's
// behalf under the glass, and the store records that read in the audit
// trail as a break-the-glass read of r (audit.ActionRead, flagged, with
// the grant's reason), as it records one through Read: with the write
// when it commits, on its own when the write is refused or fails — the
// rule may have told the writer what it read.
func (s *Store) Sees(ctx context.Context, rd Reader, r *Resource) (bool, error) {
	a, err := s.actor(ctx)
	if err != nil {
		return false, err
	}
	v, err := s.visibilityOf(ctx, rd, a)
	if err != nil {
		return false, err
	}
	ok, glass, reason := v.sees(r)
	if gt, inWrite := rd.(*guardTx); inWrite && glass {
		gt.readUnderGlass(ctx, s.glassEntry(ctx, r, reason))
	}
	return ok, nil
}

// glassEntry is the audit entry of a read of r by the actor of ctx
// through a break-the-glass grant given for reason.
func (s *Store) glassEntry(ctx context.Context, r *Resource, reason string) *audit.Entry {
	e := s.entry(ctx, audit.ActionRead)
	e.Resources = []string{r.Ref()}
	e.Patients = nonEmpty(r.Compartment)
	e.BreakGlass, e.Reason = true, reason
	return e
}

// BreakGlass opens the sensitive records of patient to the actor of ctx for
// d (at most four hours), for the reason given. The grant and its audit
// entry, flagged for the privacy officer, are written together.
func (s *Store) BreakGlass(ctx context.Context, patient, reason string, d time.Duration) error {
	a, err := s.actor(ctx)
	if err != nil {
		return err
	}
	if !ValidID(patient) {
		return custodian.Errorf(custodian.EINVALID, "%q is not a valid patient id", patient)
	}
	if len(reason) < 10 {
		return custodian.Errorf(custodian.EINVALID, "break-the-glass needs a stated reason of at least 10 characters")
	}
	if d <= 0 || d > 4*time.Hour {
		return custodian.Errorf(custodian.EINVALID, "break-the-glass lasts from 1 minute to 4 hours")
	}
	now := s.now()
	e := s.entry(ctx, "break-glass")
	e.Patients, e.BreakGlass, e.Reason = []string{patient}, true, reason
	e.Resources = []string{"Patient/" + patient}
	return s.backend.Write(ctx, func(tx Tx) error {
		if _, err := tx.Current(ctx, "Patient", patient); err != nil {
			return err
		}
		if err := tx.GrantBreakGlass(ctx, a.ID, patient, reason, now, now.Add(d)); err != nil {
			return err
		}
		return tx.Audit(ctx, e)
	})
}

// WriteGuard is a Guard that also judges what a write changes, not only
// its resource type: the steps of HIM workflows kept as FHIR resources (a
// Task that decides a registry case, releases records …) belong to some
// roles only, though many roles may write Tasks. The store asks it inside
// the write transaction for every version it puts for an actor other than
// the system (create, update, patch, delete, a transaction's or batch's
// entries, an import), so a refusal rolls the whole write back and is
// recorded in the audit trail like any other.
type WriteGuard interface {
	// Governs reports whether a write of typ by actor may need AllowWrite;
	// when it does not, the store neither reads nor decodes anything for it.
	Governs(actor *custodian.Actor, typ string) bool
	// AllowWrite returns nil if actor may replace old with new (old nil:
	// a create; new nil: a delete), or an EFORBIDDEN error.
	AllowWrite(actor *custodian.Actor, typ string, old, new map[string]any) error
}

// guarding returns fn run with a Tx that asks the WriteGuard about every
// version put through it; fn itself when the Guard is not a WriteGuard.
// The store's writes pass through it (watching calls it), as does every
// backend write function that puts versions.
//
// The reads its WriteRules made under a break-the-glass grant (Sees) are
// appended to the audit trail in the write's transaction when fn
// succeeds, so they commit with the write; when fn fails, its error
// carries them (glassReads) for the store to record once the write is
// rolled back (recordGlassReads), since the writer may have been told
// what the rule read.
func (s *Store) guarding(fn func(Tx) error) func(Tx) error {
	wg, ok := s.Guard.(WriteGuard)
	if !ok {
		return fn
	}
	return func(tx Tx) error {
		gt := &guardTx{Tx: tx, g: wg}
		err := fn(gt)
		switch {
		case len(gt.glass) == 0:
			return err
		case err != nil:
			return &glassReads{err: err, reads: gt.glass}
		}
		for _, g := range gt.glass {
			if err := tx.Audit(g.ctx, g.entry); err != nil {
				return err
			}
		}
		return nil
	}
}

// glassRead is a read a WriteRule made under a break-the-glass grant: its
// audit entry, and the context of the write it was made in.
type glassRead struct {
	ctx   context.Context
	entry *audit.Entry
}

// glassReads is the error of a write that failed after its WriteRules
// read under a break-the-glass grant: the write's error, which it
// unwraps to, and those reads, to be recorded once (recordGlassReads).
type glassReads struct {
	err      error
	reads    []glassRead
	recorded bool
}

func (g *glassReads) Error() string { return g.err.Error() }
func (g *glassReads) Unwrap() error { return g.err }

// recordGlassReads records in the audit trail the break-the-glass reads
// that err, a failed write's error, carries (glassReads), if it carries
// any not recorded yet; it returns the audit failure, if any.
func (s *Store) recordGlassReads(ctx context.Context, err error) error {
	var g *glassReads
	if !errors.As(err, &g) || g.recorded {
		return nil
	}
	g.recorded = true
	for _, r := range g.reads {
		if aerr := s.record(ctx, r.entry); aerr != nil {
			return aerr
		}
	}
	return nil
}

// guardsWrites reports whether the writes of ctx's actor are judged by a
// WriteGuard, so they must go through a guarded Tx (the bulk path, which
// puts rows without one, is not for them).
func (s *Store) guardsWrites(ctx context.Context) bool {
	a := custodian.ActorFromContext(ctx)
	_, ok := s.Guard.(WriteGuard)
	return ok && a != nil && a.Kind != "system"
}

// guardTx is a Tx whose Put and PutPacked first ask the WriteGuard.
type guardTx struct {
	Tx
	g WriteGuard
	// glass are the reads its WriteRules made under a break-the-glass
	// grant (Sees), one per resource.
	glass []glassRead
}

// readUnderGlass notes e, a WriteRule's read under a break-the-glass
// grant, unless the write read the same resource so already.
func (t *guardTx) readUnderGlass(ctx context.Context, e *audit.Entry) {
	for _, g := range t.glass {
		if slices.Equal(g.entry.Resources, e.Resources) {
			return
		}
	}
	t.glass = append(t.glass, glassRead{ctx: ctx, entry: e})
}

func (t *guardTx) Put(ctx context.Context, r *Resource, index []IndexEntry) error {
	if err := t.check(ctx, r); err != nil {
		return err
	}
	return t.Tx.Put(ctx, r, index)
}

// PutPacked keeps the packed path of the Tx it wraps (putPacked falls back
// to Put when that Tx has none).
func (t *guardTx) PutPacked(ctx context.Context, r *Resource, packed []byte, rows any, index []IndexEntry) error {
	if err := t.check(ctx, r); err != nil {
		return err
	}
	return putPacked(ctx, t.Tx, r, packed, rows, index)
}

// check asks the guard whether the actor of ctx may put r over the
// current version of its resource. A first version replaces nothing (a
// Put of version 1 fails if the resource exists), so only later ones read
// the current version.
func (t *guardTx) check(ctx context.Context, r *Resource) error {
	a := custodian.ActorFromContext(ctx)
	if a == nil || a.Kind == "system" || !t.g.Governs(a, r.Type) {
		return nil
	}
	var old, res map[string]any
	if r.VersionID > 1 {
		cur, err := t.Tx.Current(ctx, r.Type, r.ID)
		switch {
		case custodian.ErrorCode(err) == custodian.ENOTFOUND:
		case err != nil:
			return err
		case !cur.Deleted:
			if old, err = Decode(cur.Body); err != nil {
				return err
			}
		}
	}
	if !r.Deleted {
		var err error
		if res, err = Decode(r.Body); err != nil {
			return err
		}
	}
	if err := t.g.AllowWrite(a, r.Type, old, res); err != nil {
		return refusedFor(err, r)
	}
	if rg, ok := t.g.(RuleGuard); ok {
		for _, rule := range rg.WriteRules(r.Type) {
			if err := rule.Check(ctx, t, old, res); err != nil {
				return refusedFor(err, r)
			}
		}
	}
	return nil
}

// refusedWrite is the error of a write the guard or a WriteRule refused,
// carrying the patient whose record the refused version would have been
// part of (its compartment), so the refusal's audit entry names that
// patient (fail): a privacy officer following a patient's trail then sees
// writes refused on their record, such as final coding Claims probing a
// hidden patient's sex one code at a time. It unwraps to the refusal,
// which is all the writer is told.
type refusedWrite struct {
	err     error
	patient string
}

func (w *refusedWrite) Error() string { return w.err.Error() }
func (w *refusedWrite) Unwrap() error { return w.err }

// refusedFor wraps err, refusing r, with r's patient (refusedWrite).
func refusedFor(err error, r *Resource) error {
	if r.Compartment == "" {
		return err
	}
	return &refusedWrite{err: err, patient: r.Compartment}
}

// refusedPatients adds to e the patients of the refused writes err
// carries (refusedWrite).
func refusedPatients(e *audit.Entry, err error) {
	var w *refusedWrite
	if errors.As(err, &w) && !slices.Contains(e.Patients, w.patient) {
		e.Patients = append(e.Patients, w.patient)
	}
}

// A WriteRule is a domain service's rule that every write of Type by a
// user or client must pass, whichever way it comes (create, update,
// patch, a Bundle's entry, a batch): what the service checks on its own
// path, so that writing the resource through the FHIR API does not skip
// it (coding.Queue.FinalCodingRule: a final coding Claim passes the claim
// edits). Check judges replacing old with new (old nil: a create; new
// nil: a delete) inside the write's transaction, reading the record as
// that transaction sees it through rd, and returns nil or the error that
// refuses the write (EUNPROCESSABLE with its issues, say); it must not
// write. The store does not ask it for the system actor.
type WriteRule struct {
	Type  string
	Check func(ctx context.Context, rd Reader, old, new map[string]any) error
}

// RuleGuard is a WriteGuard that holds writes to WriteRules besides the
// workflows (access.Guard.Rules); its Governs must be true for their
// types.
type RuleGuard interface {
	WriteRules(typ string) []WriteRule
}

// WorkflowGuard is a Guard that also names who takes the steps of the HIM
// workflows kept as FHIR resources (package access's workflow table).
// Services and workbench pages ask the store for it rather than keeping
// role lists of their own, so a site that changes the table changes the
// FHIR API, the services and the pages together.
type WorkflowGuard interface {
	// MayDecide returns nil if actor may take the steps of workflow, or an
	// EFORBIDDEN (EUNAUTHORIZED without an actor) error saying who may;
	// EINTERNAL for a workflow it does not know.
	MayDecide(actor *custodian.Actor, workflow string) error
	// Deciders returns the user roles that take the steps of workflow
	// (none: Custodian itself only); EINTERNAL for a workflow it does not
	// know.
	Deciders(workflow string) ([]string, error)
}

// MayDecide returns nil if the actor of ctx may take the steps of
// workflow on item ("Type/id", or "Type" for a new one), as the store's
// Guard says; a store whose Guard names no workflows lets every
// authenticated actor, as it lets them write anything. A refusal is
// recorded in the audit trail as a refused step (audit.ActionDecide)
// naming the workflow (the entry's query), the item and, when the item is
// a Patient, its patient.
func (s *Store) MayDecide(ctx context.Context, workflow, item string) error {
	a, err := s.actor(ctx)
	if err == nil && a.Kind != "system" {
		if wg, ok := s.Guard.(WorkflowGuard); ok {
			err = wg.MayDecide(a, workflow)
		}
	}
	if err == nil {
		return nil
	}
	return s.refuse(ctx, audit.ActionDecide, workflow, nonEmpty(item), err)
}

// Refused records in the audit trail that the actor of ctx was refused
// action (an audit action: read, search, update …) on resources, with
// err's code as the outcome, and returns err (or the audit failure). A
// service whose own rule refuses an access before it reaches the store —
// a role check of its own — records it with this, so every refused access
// is in the trail.
func (s *Store) Refused(ctx context.Context, action string, resources []string, err error) error {
	return s.refuse(ctx, action, "", resources, err)
}

// RefusedOperation records in the audit trail that the actor of ctx was
// refused operation op ("$accounting", "replay dead letters" …: the
// entry's query, audit.ActionOperation) on resources, as Refused does, and
// returns err (or the audit failure).
func (s *Store) RefusedOperation(ctx context.Context, op string, resources []string, err error) error {
	return s.refuse(ctx, audit.ActionOperation, op, resources, err)
}

// refuse records err refusing action (with query) on resources, naming
// the patients among them, and returns it.
func (s *Store) refuse(ctx context.Context, action, query string, resources []string, err error) error {
	e := s.entry(ctx, action)
	e.Query = query
	e.Resources = resources
	e.Patients = patientsOf(resources)
	return s.fail(ctx, e, err)
}

// patientsOf returns the ids of the Patients among refs ("Type/id").
func patientsOf(refs []string) []string {
	var out []string
	for _, r := range refs {
		if id, ok := strings.CutPrefix(r, "Patient/"); ok && ValidID(id) {
			out = append(out, id)
		}
	}
	return out
}

// Deciders returns the user roles that take the steps of workflow, as the
// store's Guard says; ok is false when the Guard names no workflows (then
// the store holds no write to any workflow).
func (s *Store) Deciders(workflow string) (roles []string, ok bool, err error) {
	wg, ok := s.Guard.(WorkflowGuard)
	if !ok {
		return nil, false, nil
	}
	roles, err = wg.Deciders(workflow)
	return roles, true, err
}

// batchRefusals gathers the resources of one PutBatch that were refused to
// its actor — by the role table or by a workflow or rule of the Guard —
// for the audit trail: refused creates and refused updates, each as one
// failure entry naming every resource, as a refused create or update is
// recorded on the other write paths. Errors that are not refusals (an
// invalid resource, a conflict) are not accesses and are left out; they
// are reported to the loader in the results.
type batchRefusals struct {
	create, update *audit.Entry
	seen           map[string]bool
}

// addRefusal notes in rf that typ/id (a create when create is set, named
// by typ alone) failed with err, if err is a refusal.
func (s *Store) addRefusal(ctx context.Context, rf *batchRefusals, typ, id string, create bool, err error) {
	switch custodian.ErrorCode(err) {
	case custodian.EFORBIDDEN, custodian.EUNAUTHORIZED:
	default:
		return
	}
	e, action, ref := &rf.update, audit.ActionUpdate, typ+"/"+id
	if create {
		e, action, ref = &rf.create, audit.ActionCreate, typ
	}
	if *e == nil {
		*e = s.entry(ctx, action)
		(*e).Outcome = custodian.ErrorCode(err)
	}
	if rf.seen == nil {
		rf.seen = map[string]bool{}
	}
	if key := action + " " + ref; !rf.seen[key] {
		rf.seen[key] = true
		(*e).Resources = append((*e).Resources, ref)
	}
	refusedPatients(*e, err)
}

// recordRefusals writes rf's entries to the audit trail.
func (s *Store) recordRefusals(ctx context.Context, rf *batchRefusals) error {
	for _, e := range []*audit.Entry{rf.create, rf.update} {
		if e == nil {
			continue
		}
		if err := s.record(ctx, e); err != nil {
			return err
		}
	}
	return nil
}
