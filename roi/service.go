package roi

import (
	"context"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/blob"
	"github.com/custodian-him/custodian/store"
)

// Store is the record store as roi uses it; *store.Store implements it.
type Store interface {
	Create(ctx context.Context, typ string, body []byte, opt store.WriteOptions) (*store.Outcome, error)
	Update(ctx context.Context, typ, id string, body []byte, opt store.WriteOptions) (*store.Outcome, error)
	Read(ctx context.Context, typ, id string) (*store.Resource, error)
	VRead(ctx context.Context, typ, id string, vid int64) (*store.Resource, error)
	Search(ctx context.Context, q *store.Query) (*store.SearchPage, error)
	ParseQueryString(typ, criteria string) (*store.Query, error)
	FindAudit(ctx context.Context, f audit.Filter) ([]*audit.Entry, error)
	Allowed(ctx context.Context, typ, interaction string) error
	// MayDecide and Deciders answer from the store's Guard who takes the
	// steps of a workflow (store.WorkflowGuard).
	MayDecide(ctx context.Context, workflow, item string) error
	Deciders(workflow string) ([]string, bool, error)
	// RefusedOperation records a refusal of the service's own in the
	// audit trail.
	RefusedOperation(ctx context.Context, op string, resources []string, err error) error
}

// Blobs keeps attachment content; *blob.Dir implements it.
type Blobs interface {
	Put(ctx context.Context, r io.Reader, limit int64) (blob.Info, error)
	Open(sha256 string) (*blob.Reader, error)
}

// Service runs release of information over the store. Every method acts
// as the actor in its context, whom the store holds to the role table
// (the roi-specialist role may read clinical records and write Task and
// Consent); the packet itself is gathered and written by a system actor
// held to the request's grant (see the package documentation).
type Service struct {
	Store Store
	Blobs Blobs
	// Categories are the site's sensitive categories (DefaultCategories
	// when nil).
	Categories []Category
	// Organization is the releasing organisation's name, for the cover
	// letter.
	Organization string
	// Disclosures says which disclosures besides releases the accounting
	// lists.
	Disclosures AccountingConfig
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// DefaultReleasers are the roles that release records under the default
// workflow table (access.DefaultWorkflows): a disclosure is the release-
// of-information desk's act, the ROI specialist's and the HIM director's.
// A store's Guard may name others; Releasers says which.
var DefaultReleasers = access.DefaultDeciders(access.WorkflowRelease)

// Releasers returns the user roles that work release requests and release
// records: the deciders of the release-of-information workflow of the
// store's Guard (access.Guard.Workflows, the one table of who takes each
// step), or DefaultReleasers when the Guard names no workflows (then the
// store holds no one to them). The workbench's release pages offer
// themselves to these roles.
func (s *Service) Releasers() []string {
	if s.Store == nil {
		return slices.Clone(DefaultReleasers)
	}
	roles, ok, err := s.Store.Deciders(access.WorkflowRelease)
	if !ok || err != nil {
		return slices.Clone(DefaultReleasers)
	}
	return roles
}

// AccountingRoles returns the user roles that read the accounting of
// disclosures: the Releasers, and the privacy officer, who answers for it
// (45 CFR 164.530(a)). The FHIR operation, the command line and the
// workbench page all hold readers to them.
func (s *Service) AccountingRoles() []string {
	roles := s.Releasers()
	if !slices.Contains(roles, access.RolePrivacyOfficer) {
		roles = append(roles, access.RolePrivacyOfficer)
	}
	return roles
}

// mayAccount refuses an actor who may not read patient's accounting of
// disclosures (EFORBIDDEN; EUNAUTHORIZED without an actor) and records
// the refusal in the audit trail. The system actor may; an API client
// without user roles is held to its scopes alone (access.MayDecide).
func (s *Service) mayAccount(ctx context.Context, patient string) error {
	err := access.MayDecide(custodian.ActorFromContext(ctx), s.AccountingRoles(),
		"Only the release-of-information desk and the privacy officer read the accounting of disclosures.")
	if err == nil {
		return nil
	}
	ref := "Patient"
	if store.ValidID(patient) {
		ref += "/" + patient
	}
	return s.Store.RefusedOperation(ctx, "$accounting", []string{ref}, err)
}

// MayAccount returns nil if the actor of ctx may read the accounting of
// disclosures of patient, and otherwise EFORBIDDEN (EUNAUTHORIZED without
// an actor) with the refusal recorded in the audit trail, as Accounting
// does. A page asks it before its own role check, so a refused accounting
// is audited whichever check refuses it.
func (s *Service) MayAccount(ctx context.Context, patient string) error {
	return s.mayAccount(ctx, patient)
}

// mayRelease refuses an actor who may not release the records of request
// id (EFORBIDDEN; EUNAUTHORIZED without an actor), asking the store, whose
// Guard's release-of-information workflow says who may; the refusal is in
// the audit trail.
func (s *Service) mayRelease(ctx context.Context, id string) error {
	return s.Store.MayDecide(ctx, access.WorkflowRelease, "Task/"+id)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Submit records a new request: it checks the request, sets its number,
// due date and status (requested) and stores it as a Task.
func (s *Service) Submit(ctx context.Context, r *Request) (*Request, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	for _, c := range r.Categories {
		if s.category(c) == nil {
			return nil, custodian.Errorf(custodian.EINVALID, "%q is not a sensitive category this site knows", c)
		}
	}
	if _, err := s.Store.Read(ctx, "Patient", r.Patient); err != nil {
		return nil, err
	}
	if r.Basis == BasisAuthorization {
		if _, err := s.Store.Read(ctx, "Consent", r.Authorization); err != nil {
			return nil, err
		}
	}
	r.ID = ""
	r.Number = "ROI-" + r.Received.Format("20060102") + "-" + strings.ToUpper(store.NewUUID()[:6])
	return s.write(ctx, r, 0)
}

// write stores r (created when it has no id), with If-Match ifMatch.
func (s *Service) write(ctx context.Context, r *Request, ifMatch int64) (*Request, error) {
	body, err := store.Encode(r.task())
	if err != nil {
		return nil, err
	}
	var out *store.Outcome
	if r.ID == "" {
		out, err = s.Store.Create(ctx, "Task", body, store.WriteOptions{})
	} else {
		out, err = s.Store.Update(ctx, "Task", r.ID, body, store.WriteOptions{IfMatch: ifMatch})
	}
	if err != nil {
		return nil, err
	}
	return requestOf(out.Resource)
}

// Get returns request id (ENOTFOUND when it is not a release request).
func (s *Service) Get(ctx context.Context, id string) (*Request, error) {
	res, err := s.Store.Read(ctx, "Task", id)
	if err != nil {
		return nil, err
	}
	if !bytesContains(res.Body, TaskCode) {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "Task/%s is not a release-of-information request", id)
	}
	return requestOf(res)
}

func bytesContains(b []byte, s string) bool { return strings.Contains(string(b), s) }

// Filter selects requests for List.
type Filter struct {
	// Status selects one status; Open selects requested and in-review.
	Status Status
	Open   bool
	// Patient selects one patient's requests.
	Patient string
}

// List returns the requests f selects, oldest due date first (the queue).
func (s *Service) List(ctx context.Context, f Filter) ([]*Request, error) {
	crit := "code=" + TaskSystem + "|" + TaskCode + "&_count=500"
	if f.Patient != "" {
		crit += "&subject=Patient/" + f.Patient
	}
	if f.Status != "" {
		crit += "&business-status=" + StatusSystem + "|" + string(f.Status)
	}
	rs, err := s.searchAll(ctx, "Task", crit)
	if err != nil {
		return nil, err
	}
	var out []*Request
	for _, res := range rs {
		r, err := requestOf(res)
		if err != nil {
			return nil, err
		}
		if f.Open && !r.Status.Open() {
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *Request) int {
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return strings.Compare(a.Number, b.Number)
	})
	return out, nil
}

// searchAll runs a search and follows its pages.
func (s *Service) searchAll(ctx context.Context, typ, criteria string) ([]*store.Resource, error) {
	q, err := s.Store.ParseQueryString(typ, criteria)
	if err != nil {
		return nil, err
	}
	var out []*store.Resource
	for {
		p, err := s.Store.Search(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Resources...)
		if p.Next == "" {
			return out, nil
		}
		q.Cursor = p.Next
	}
}

// change applies fn to open request id and stores it.
func (s *Service) change(ctx context.Context, id string, fn func(r *Request) error) (*Request, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !r.Status.Open() {
		return nil, custodian.Errorf(custodian.ECONFLICT, "request %s is already %s", r.Number, r.Status)
	}
	if err := fn(r); err != nil {
		return nil, err
	}
	return s.write(ctx, r, r.Version)
}

// Selection is the specialist's choice of records (minimum necessary).
type Selection struct {
	From, To   time.Time
	Types      []string
	Categories []string
}

// Review moves request id to in-review, with the specialist's selection
// when sel is not nil (it replaces what the requester asked for).
func (s *Service) Review(ctx context.Context, id string, sel *Selection) (*Request, error) {
	return s.change(ctx, id, func(r *Request) error {
		r.Status = InReview
		if sel == nil {
			return nil
		}
		c := *r
		c.From, c.To, c.Types, c.Categories = sel.From, sel.To, slices.Clone(sel.Types), slices.Clone(sel.Categories)
		received, basis := c.Received, c.Basis
		if err := c.check(); err != nil {
			return err
		}
		for _, cat := range c.Categories {
			if s.category(cat) == nil {
				return custodian.Errorf(custodian.EINVALID, "%q is not a sensitive category this site knows", cat)
			}
		}
		r.From, r.To, r.Types, r.Categories = c.From, c.To, c.Types, c.Categories
		r.Received, r.Basis = received, basis
		return nil
	})
}

// Check says whether request id could be released now: nil, or the
// error Release would fail with (EFORBIDDEN with the reason: a selection
// beyond the authorization, a category the legal basis does not reach, an
// authorization expired or revoked). A review may set a selection the
// authorization does not cover yet (a new one may be on its way); Check
// tells the specialist before the release does.
func (s *Service) Check(ctx context.Context, id string) error {
	r, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if !r.Status.Open() {
		return custodian.Errorf(custodian.ECONFLICT, "request %s is already %s", r.Number, r.Status)
	}
	_, err = s.basisCheck(ctx, r)
	return err
}

// Extend takes the one 30-day extension of request id, for reason (which
// the requester must be told in writing).
func (s *Service) Extend(ctx context.Context, id, reason string) (*Request, error) {
	return s.change(ctx, id, func(r *Request) error {
		if r.ExtensionReason != "" {
			return custodian.Errorf(custodian.ECONFLICT, "request %s was already extended once (%s); the rule allows one extension", r.Number, r.ExtensionReason)
		}
		if strings.TrimSpace(reason) == "" {
			return custodian.Errorf(custodian.EINVALID, "an extension needs the reason given to the requester")
		}
		if s.now().After(r.Due) {
			return custodian.Errorf(custodian.EPRECONDITION, "request %s was due on %s; an extension must be taken before the due date", r.Number, day(r.Due))
		}
		r.ExtensionReason = reason
		r.Due = DueDate(r.Received, true)
		return nil
	})
}

// Deny closes request id as denied, for reason.
func (s *Service) Deny(ctx context.Context, id, reason string) (*Request, error) {
	return s.close(ctx, id, Denied, reason)
}

// Cancel closes request id as cancelled, for reason.
func (s *Service) Cancel(ctx context.Context, id, reason string) (*Request, error) {
	return s.close(ctx, id, Cancelled, reason)
}

func (s *Service) close(ctx context.Context, id string, st Status, reason string) (*Request, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, custodian.Errorf(custodian.EINVALID, "say why the request is %s", st)
	}
	return s.change(ctx, id, func(r *Request) error {
		r.Status, r.StatusReason = st, reason
		return nil
	})
}

// Authorize stores a patient's authorization as a Consent.
func (s *Service) Authorize(ctx context.Context, a *Authorization) (*Authorization, error) {
	if err := a.check(s); err != nil {
		return nil, err
	}
	if _, err := s.Store.Read(ctx, "Patient", a.Patient); err != nil {
		return nil, err
	}
	a.ID = ""
	body, err := store.Encode(a.consent(s))
	if err != nil {
		return nil, err
	}
	out, err := s.Store.Create(ctx, "Consent", body, store.WriteOptions{})
	if err != nil {
		return nil, err
	}
	return authorizationOf(s, out.Resource)
}

// Authorization returns the authorization Consent/id.
func (s *Service) Authorization(ctx context.Context, id string) (*Authorization, error) {
	res, err := s.Store.Read(ctx, "Consent", id)
	if err != nil {
		return nil, err
	}
	return authorizationOf(s, res)
}

// Revoke records the patient's revocation of authorization id (Consent
// status inactive); releases under it are blocked from then on.
func (s *Service) Revoke(ctx context.Context, id string) (*Authorization, error) {
	res, err := s.Store.Read(ctx, "Consent", id)
	if err != nil {
		return nil, err
	}
	c, err := store.Decode(res.Body)
	if err != nil {
		return nil, err
	}
	if str(c, "status") == "inactive" {
		return nil, custodian.Errorf(custodian.ECONFLICT, "the authorization Consent/%s is already revoked", id)
	}
	c["status"] = "inactive"
	body, err := store.Encode(c)
	if err != nil {
		return nil, err
	}
	out, err := s.Store.Update(ctx, "Consent", id, body, store.WriteOptions{IfMatch: res.VersionID})
	if err != nil {
		return nil, err
	}
	return authorizationOf(s, out.Resource)
}
