package registry

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/store"
)

// Case statuses.
const (
	Candidate = "candidate"
	Accepted  = "accepted"
	Rejected  = "rejected"
)

// Store is what the registry needs of the record store: its decisions are
// Tasks in it.
type Store interface {
	ParseQueryString(typ, criteria string) (*store.Query, error)
	Search(ctx context.Context, q *store.Query) (*store.SearchPage, error)
	Read(ctx context.Context, typ, id string) (*store.Resource, error)
	Update(ctx context.Context, typ, id string, body []byte, opt store.WriteOptions) (*store.Outcome, error)
	PutBatch(ctx context.Context, resources []map[string]any) ([]store.BatchResult, error)
	// MayDecide and Deciders answer from the store's Guard who takes the
	// steps of a workflow (store.WorkflowGuard).
	MayDecide(ctx context.Context, workflow, item string) error
	Deciders(workflow string) ([]string, bool, error)
}

// Case is a patient found for a registry, with the registrar's decision.
// Its state lives in a FHIR Task (see TaskID); the service mirrors it.
type Case struct {
	Registry, Patient string
	Status            string
	Found             string // Task.authoredOn
	Decided           string // Task.lastModified of the decision
	DecidedBy         string // the actor who decided
	Reason            string
	// Fields are the registrar-completed fields of the abstraction form.
	Fields map[string]string
	// FollowUps are the recorded follow-up contacts (YYYY-MM-DD).
	FollowUps []string
	version   int64
}

// Service finds registry cases in the record as data arrives and over
// history, keeps the registrars' decisions as Tasks in the store, and
// lists, follows up and exports the cases.
type Service struct {
	Record      *measure.Record
	Store       Store
	Definitions []*Definition
	// Now is the clock (time.Now if nil).
	Now func() time.Time

	mu     sync.Mutex
	loaded bool
	cases  map[string]map[string]*Case // registry -> patient -> case
	dirty  map[string]bool             // patients written since the last Sync
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Definition returns the registry with id. ENOTFOUND if there is none.
func (s *Service) Definition(id string) (*Definition, error) {
	for _, d := range s.Definitions {
		if d.ID == id {
			return d, nil
		}
	}
	return nil, custodian.Errorf(custodian.ENOTFOUND, "there is no registry %q", id)
}

// TaskID is the id of the Task that holds patient's case in registry:
// one per registry and patient, so finding a case twice changes nothing.
func TaskID(registry, patient string) string {
	id := "reg-" + registry + "-" + patient
	if len(id) > 64 || strings.ContainsFunc(patient, func(r rune) bool {
		return !(r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		h := sha256.Sum256([]byte(patient))
		id = "reg-" + registry + "-" + hex.EncodeToString(h[:8])
	}
	return id
}

// Load reads the registries' Tasks (the cases found and decided before)
// by searching the store for them (Task?code=…|registry-case), as ctx's
// actor. Register Watcher first so that nothing is missed.
func (s *Service) Load(ctx context.Context) error {
	q, err := s.Store.ParseQueryString("Task", "code="+url.QueryEscape(taskCodeSystem+"|registry-case")+"&_count=1000")
	if err != nil {
		return err
	}
	for {
		page, err := s.Store.Search(ctx, q)
		if err != nil {
			return err
		}
		for _, r := range page.Resources {
			s.mirror(r.VersionID, r.Body)
		}
		if page.Next == "" {
			s.mu.Lock()
			s.loaded = true
			s.mu.Unlock()
			return nil
		}
		q.Cursor = page.Next
	}
}

// Watcher keeps the service current: Tasks of registries update the
// cases at once, and every other write marks its patient for the next
// Sync, which finds new candidates. It does no I/O and takes no lock an
// evaluation could hold.
func (s *Service) Watcher() store.Watcher {
	return func(_ context.Context, versions []*store.Resource) {
		for _, v := range versions {
			switch v.Type {
			case "Task":
				if !v.Deleted {
					s.mirror(v.VersionID, v.Body)
				}
			case "Condition", "Procedure", "Observation", "Encounter":
				if v.Deleted || v.Compartment == "" {
					continue
				}
				s.mu.Lock()
				if s.dirty == nil {
					s.dirty = map[string]bool{}
				}
				s.dirty[v.Compartment] = true
				s.mu.Unlock()
			}
		}
	}
}

// Sync finds the candidates among the patients written since the last
// Sync and records them (as Tasks). It returns the new candidates.
func (s *Service) Sync(ctx context.Context) ([]*Case, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	dirty := s.dirty
	s.dirty = nil
	s.mu.Unlock()
	if len(dirty) == 0 {
		return nil, nil
	}
	var found []*Case
	err := s.Record.View(func(v *measure.View) error {
		for pid := range dirty {
			if p := v.Patient(pid); p != nil {
				found = append(found, s.newCandidates(p)...)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.save(ctx, found)
}

// Run calls Sync every interval until ctx ends, so that cases are found
// within an interval of their data arriving. Errors go to onError.
func (s *Service) Run(ctx context.Context, interval time.Duration, onError func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Sync(ctx); err != nil && onError != nil {
				onError(err)
			}
		}
	}
}

// FindAll runs case finding over the whole record for registry (every
// registry if ""), records the new candidates and returns them.
func (s *Service) FindAll(ctx context.Context, registry string) ([]*Case, error) {
	if registry != "" {
		if _, err := s.Definition(registry); err != nil {
			return nil, err
		}
	}
	if err := s.ready(); err != nil {
		return nil, err
	}
	if s.Record.Loading() {
		return nil, custodian.Errorf(custodian.EUNAVAILABLE, "the record is still being read; case finding over history can run once it is")
	}
	var found []*Case
	err := s.Record.View(func(v *measure.View) error {
		v.Patients(func(p *measure.Patient) bool {
			for _, c := range s.newCandidates(p) {
				if registry == "" || c.Registry == registry {
					found = append(found, c)
				}
			}
			return ctx.Err() == nil
		})
		return ctx.Err()
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(found, func(a, b *Case) int {
		return cmp.Or(cmp.Compare(a.Registry, b.Registry), cmp.Compare(a.Patient, b.Patient))
	})
	return s.save(ctx, found)
}

// ready refuses case finding before Load: without the cases already
// found and decided, a candidate's Task could overwrite a decision.
func (s *Service) ready() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded {
		return custodian.Errorf(custodian.EUNAVAILABLE, "the registries' cases have not been read yet")
	}
	return nil
}

// newCandidates returns p's cases in registries that do not have p yet.
func (s *Service) newCandidates(p *measure.Patient) []*Case {
	var out []*Case
	for _, d := range s.Definitions {
		if s.lookup(d.ID, p.ID) != nil {
			continue
		}
		if ev := d.Match(p); len(ev) > 0 {
			out = append(out, &Case{Registry: d.ID, Patient: p.ID, Status: Candidate})
		}
	}
	return out
}

func (s *Service) lookup(registry, patient string) *Case {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cases[registry][patient]
}

// save writes new candidates' Tasks in batches. A Task that exists by
// now (written by another process since Load) is taken as it is, never
// overwritten; found keeps only the candidates written.
func (s *Service) save(ctx context.Context, found []*Case) ([]*Case, error) {
	now := s.now().UTC().Format(time.RFC3339)
	var written []*Case
	for i := 0; i < len(found); i += 500 {
		var batch []map[string]any
		var cases []*Case
		for _, c := range found[i:min(i+500, len(found))] {
			d, _ := s.Definition(c.Registry)
			r, err := s.Store.Read(ctx, "Task", TaskID(c.Registry, c.Patient))
			switch code := custodian.ErrorCode(err); {
			case err == nil:
				s.mirror(r.VersionID, r.Body)
				continue
			case code != custodian.ENOTFOUND && code != custodian.EGONE:
				return written, err
			}
			c.Found = now
			batch = append(batch, c.task(d, now))
			cases = append(cases, c)
		}
		if len(batch) == 0 {
			continue
		}
		results, err := s.Store.PutBatch(ctx, batch)
		if err != nil {
			return written, err
		}
		for j, r := range results {
			if r.Err != nil {
				return written, r.Err
			}
			written = append(written, cases[j])
		}
	}
	return written, nil
}

// Cases lists registry's cases with status ("" for all), by patient.
func (s *Service) Cases(registry, status string) ([]*Case, error) {
	if _, err := s.Definition(registry); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Case
	for _, c := range s.cases[registry] {
		if status == "" || c.Status == status {
			cp := *c
			out = append(out, &cp)
		}
	}
	slices.SortFunc(out, func(a, b *Case) int { return cmp.Compare(a.Patient, b.Patient) })
	return out, nil
}

// Counts returns registry's case count by status.
func (s *Service) Counts(registry string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{Candidate: 0, Accepted: 0, Rejected: 0}
	for _, c := range s.cases[registry] {
		out[c.Status]++
	}
	return out
}

// DefaultDeciders are the roles that decide registry cases under the
// default workflow table (access.DefaultWorkflows): the registrar and the
// HIM director. A store's Guard may name others; DecideRoles says which.
var DefaultDeciders = access.DefaultDeciders(access.WorkflowRegistryCase)

// DecideRoles returns the user roles that decide cases and record
// follow-ups: the deciders of the registry-case workflow of the store's
// Guard, or DefaultDeciders when the Guard names no workflows (then the
// store holds no one to them).
func (s *Service) DecideRoles() []string {
	if s.Store == nil {
		return slices.Clone(DefaultDeciders)
	}
	roles, ok, err := s.Store.Deciders(access.WorkflowRegistryCase)
	if !ok || err != nil {
		return slices.Clone(DefaultDeciders)
	}
	return roles
}

// MayDecide returns nil if the actor of ctx may decide patient's case in
// registry or record its follow-ups, and otherwise EFORBIDDEN
// (EUNAUTHORIZED without an actor), asking the store, whose Guard's
// registry-case workflow is the one table of who decides
// (access.Guard.Workflows). The refusal is in the audit trail naming the
// case's Task (only "Task" when registry is not one of the service's or
// patient is empty). Decide and RecordFollowUp ask it first, and a page
// asks it before its own checks, so a refused decision is audited
// whichever check refuses it; the store checks the role table and the
// workflow again when the Task is written.
func (s *Service) MayDecide(ctx context.Context, registry, patient string) error {
	item := "Task"
	if _, err := s.Definition(registry); err == nil && patient != "" {
		item += "/" + TaskID(registry, patient)
	}
	return s.Store.MayDecide(ctx, access.WorkflowRegistryCase, item)
}

// Decide records a registrar's decision on a case: accept (with the
// registrar's fields of the form, which may be completed later by
// deciding again) or reject (with a reason). ENOTFOUND if there is no such
// case; EINVALID for a field the form does not have to the registrar, or
// a rejection without a reason; EPRECONDITION if the case changed
// meanwhile; EFORBIDDEN for a user who is not one of the Deciders.
func (s *Service) Decide(ctx context.Context, registry, patient string, accept bool, reason string, fields map[string]string) (*Case, error) {
	if err := s.MayDecide(ctx, registry, patient); err != nil {
		return nil, err
	}
	d, err := s.Definition(registry)
	if err != nil {
		return nil, err
	}
	for k := range fields {
		i := slices.IndexFunc(d.Form, func(f Field) bool { return f.ID == k })
		if i < 0 || !d.Form[i].Registrar {
			return nil, custodian.Errorf(custodian.EINVALID, "registry %s has no registrar field %q", registry, k)
		}
	}
	if !accept && strings.TrimSpace(reason) == "" {
		return nil, custodian.Errorf(custodian.EINVALID, "a rejection needs a reason")
	}
	return s.change(ctx, d, patient, func(c *Case) error {
		if accept {
			c.Status = Accepted
			if c.Fields == nil {
				c.Fields = map[string]string{}
			}
			for k, v := range fields {
				c.Fields[k] = v
			}
		} else {
			c.Status = Rejected
		}
		c.Reason = reason
		return nil
	})
}

// RecordFollowUp records a follow-up contact with an accepted case on day
// (YYYY-MM-DD). EUNPROCESSABLE if the case is not accepted; EINVALID for
// a bad date; EFORBIDDEN for a user who is not one of the Deciders.
func (s *Service) RecordFollowUp(ctx context.Context, registry, patient, day string) (*Case, error) {
	if err := s.MayDecide(ctx, registry, patient); err != nil {
		return nil, err
	}
	d, err := s.Definition(registry)
	if err != nil {
		return nil, err
	}
	if dd := measure.ParseDay(day); !dd.Known() || len(day) != 10 {
		return nil, custodian.Errorf(custodian.EINVALID, "the follow-up date %q is not YYYY-MM-DD", day)
	}
	return s.change(ctx, d, patient, func(c *Case) error {
		if c.Status != Accepted {
			return custodian.Errorf(custodian.EUNPROCESSABLE, "only an accepted case is followed up (this one is %s)", c.Status)
		}
		c.FollowUps = append(c.FollowUps, day)
		slices.Sort(c.FollowUps)
		return nil
	})
}

// change applies fn to the case as stored and writes it back with
// If-Match, so that two registrars cannot overwrite each other unseen.
func (s *Service) change(ctx context.Context, d *Definition, patient string, fn func(c *Case) error) (*Case, error) {
	r, err := s.Store.Read(ctx, "Task", TaskID(d.ID, patient))
	if custodian.ErrorCode(err) == custodian.ENOTFOUND || custodian.ErrorCode(err) == custodian.EGONE {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "Patient/%s is not a case of registry %s", patient, d.ID)
	} else if err != nil {
		return nil, err
	}
	c, err := parseTask(r.Body)
	if err != nil {
		return nil, err
	}
	if err := fn(c); err != nil {
		return nil, err
	}
	now := s.now().UTC().Format(time.RFC3339)
	c.Decided = now
	if a := custodian.ActorFromContext(ctx); a != nil {
		c.DecidedBy = a.ID
	}
	body, err := json.Marshal(c.task(d, now))
	if err != nil {
		return nil, err
	}
	out, err := s.Store.Update(ctx, "Task", TaskID(d.ID, patient), body, store.WriteOptions{IfMatch: r.VersionID})
	if err != nil {
		return nil, err
	}
	c.version = out.Resource.VersionID
	s.put(c)
	return c, nil
}

// mirror takes a registry Task's version into the cases.
func (s *Service) mirror(version int64, body []byte) {
	c, err := parseTask(body)
	if err != nil || c == nil {
		return
	}
	c.version = version
	s.put(c)
}

func (s *Service) put(c *Case) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cases == nil {
		s.cases = map[string]map[string]*Case{}
	}
	m := s.cases[c.Registry]
	if m == nil {
		m = map[string]*Case{}
		s.cases[c.Registry] = m
	}
	if old := m[c.Patient]; old != nil && old.version > c.version {
		return
	}
	m[c.Patient] = c
}
