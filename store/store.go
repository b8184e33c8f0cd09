package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
)

// Validator checks resources against the FHIR definitions.
type Validator interface {
	IsResourceType(name string) bool
	Validate(resource map[string]any) []custodian.Issue
}

// Indexer extracts search index entries from a resource, and names the
// search parameters it knows.
type Indexer interface {
	Index(typ string, resource map[string]any) ([]IndexEntry, error)
	// Param returns the kind of the search parameter code on typ.
	Param(typ, code string) (ParamKind, bool)
}

// Store is the versioned FHIR resource store.
type Store struct {
	backend   Backend
	validator Validator
	indexer   Indexer
	// Guard authorises interactions and the sight of sensitive records;
	// without one every authenticated actor may do and see everything.
	Guard Guard
	// AuditLog, when set, lets FindAudit search the trail.
	AuditLog AuditLog
	// DurableReadAudit makes the audit records of reads wait for the disk
	// like writes do, at a cost in read latency (see Backend.Record).
	DurableReadAudit bool
	// NoAudit turns off the separate audit records of reads and refusals.
	// It exists only to measure what auditing costs; never set it in service.
	NoAudit bool
	// Now is the clock; tests set it.
	Now func() time.Time
	// NewID makes server-assigned resource ids (NewTimeUUID unless set).
	NewID func() string
	// Watchers are told of every committed write's new versions (see
	// Watcher). Set them before the store is used.
	Watchers []Watcher
	// Codes, when set, answers token :below and :above searches.
	Codes CodeHierarchy

	// gate shares the cores between the backend's writer and the
	// preparation of transactions; nil when the backend has none.
	gate *CoreGate
}

// New returns a Store over b that validates with v and indexes with ix.
func New(b Backend, v Validator, ix Indexer) *Store {
	s := &Store{backend: b, validator: v, indexer: ix, Now: time.Now, NewID: NewTimeUUID}
	if g, ok := b.(gatedBackend); ok {
		s.gate = g.CoreGate()
	}
	return s
}

// NewUUID returns a random (version 4) UUID.
func NewUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(&b)
}

// NewTimeUUID returns a version 7 UUID, the form of server-assigned
// resource ids: the time in milliseconds, then 74 random bits. Ids made
// one after another sort together, so a new resource's entry in the
// database's (type, id) index goes at the end of its type's run, on a page
// the writes before it changed too, instead of on a page of its own
// anywhere in the index. With random ids that index alone made about one
// more page per resource for every commit to write (measured: the writer's
// CPU per resource of transaction Bundles fell by about a fifth). The id
// tells when the resource was created, to the millisecond, as its first
// version's meta.lastUpdated does.
func NewTimeUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	ms := uint64(time.Now().UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(&b)
}

// formatUUID writes b in the 8-4-4-4-12 hexadecimal form.
func formatUUID(b *[16]byte) string {
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// Outcome is the result of a write.
type Outcome struct {
	Resource *Resource
	// Created is true when the write made a new resource (201).
	Created bool
	// Unchanged is true when an update carried the same content as the
	// current version, so no version was added.
	Unchanged bool
}

// WriteOptions are the preconditions of a write.
type WriteOptions struct {
	// IfMatch, when not 0, is the version the client expects to replace
	// (from an If-Match header); a different current version fails with
	// EPRECONDITION.
	IfMatch int64
	// IfNoneExist, for a create, is a search query (as in the If-None-Exist
	// header): if it matches one resource that one is returned instead.
	IfNoneExist string
}

func (s *Store) actorID(ctx context.Context) string {
	if a := custodian.ActorFromContext(ctx); a != nil {
		return a.ID
	}
	return ""
}

// now returns the store's clock truncated to what meta.lastUpdated shows.
func (s *Store) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// Create stores body as a new resource of type typ with a server-assigned id.
// The body's own id, if any, is ignored, as FHIR requires.
func (s *Store) Create(ctx context.Context, typ string, body []byte, opt WriteOptions) (*Outcome, error) {
	e := s.entry(ctx, audit.ActionCreate)
	res, err := s.prepare(ctx, e, typ, "create", body)
	if err != nil {
		return nil, err
	}
	id := s.NewID()
	res["id"] = id
	index, err := s.index(typ, res)
	if err != nil {
		return nil, err
	}
	var first *firstVersion
	if opt.IfNoneExist == "" {
		// Nothing in the store decides what is written: make it ready here,
		// outside the single writer.
		if first, err = s.prepareFirst(ctx, typ, id, MethodCreate, res, index); err != nil {
			return nil, err
		}
	}
	var out *Outcome
	err = s.commit(ctx, e, func(tx Tx) error {
		var err error
		if first != nil {
			out, err = first.put(ctx, tx)
		} else {
			out, err = s.create(ctx, tx, typ, res, opt.IfNoneExist, id, index)
		}
		touched(e, out)
		return err
	})
	return out, err
}

// firstVersion is a new resource's first version made ready before the
// write: stamped, encoded, indexed and packed in the caller's goroutine, so
// the single writer only stores it. Its lastUpdated is the time it was
// made ready, a moment before the commit (as with any write, the commit
// follows the stamp).
type firstVersion struct {
	r      *Resource
	packed []byte // the backend's stored form of r.Body, or nil
	rows   any    // the backend's rows for index, or nil
	index  []IndexEntry
}

// prepareFirst makes res ready as version 1 of typ/id.
func (s *Store) prepareFirst(ctx context.Context, typ, id string, m Method, res map[string]any, index []IndexEntry) (*firstVersion, error) {
	ts := s.now()
	stamp(res, id, 1, ts)
	body, err := Encode(res)
	if err != nil {
		return nil, err
	}
	r := &Resource{Type: typ, ID: id, VersionID: 1, LastUpdated: ts, Method: m, Author: s.actorID(ctx), Body: body,
		Compartment: compartment(typ, res, index), Sensitive: isSensitive(res)}
	return &firstVersion{r: r, packed: s.pack(body), rows: s.packIndex(typ, index), index: index}, nil
}

// put stores f in tx; ECONFLICT if the resource exists already.
func (f *firstVersion) put(ctx context.Context, tx Tx) (*Outcome, error) {
	if err := putPacked(ctx, tx, f.r, f.packed, f.rows, f.index); err != nil {
		return nil, err
	}
	return &Outcome{Resource: f.r, Created: true}, nil
}

// create writes res (already parsed and validated) as a new resource in tx.
// id, if not empty, is the id to use.
// index, if not nil, are res's index entries computed beforehand.
func (s *Store) create(ctx context.Context, tx Tx, typ string, res map[string]any, ifNoneExist, id string, index []IndexEntry) (*Outcome, error) {
	if ifNoneExist != "" {
		found, err := s.conditionalMatch(ctx, tx, typ, ifNoneExist)
		if err != nil {
			return nil, err
		}
		switch len(found) {
		case 0:
		case 1:
			return &Outcome{Resource: found[0]}, nil
		default:
			return nil, custodian.Errorf(custodian.EPRECONDITION, "If-None-Exist criteria match %d resources; they must match at most one", len(found))
		}
	}
	if id == "" {
		id = s.NewID()
	}
	r, err := s.put(ctx, tx, typ, id, 1, MethodCreate, res, index)
	if err != nil {
		return nil, err
	}
	return &Outcome{Resource: r, Created: true}, nil
}

// conditionalMatch locks the criteria and returns the current resources
// that match them (at most two: more than one is already an error).
func (s *Store) conditionalMatch(ctx context.Context, tx Tx, typ, criteria string) ([]*Resource, error) {
	return s.match(ctx, tx, typ, criteria, true)
}

// match finds the resources of typ matching criteria (two at most). With
// lock set it first locks the criteria, for operations that create or
// change what they find; resolving a conditional reference only reads and
// takes no lock (two transactions resolving the same references in
// different orders would otherwise deadlock on PostgreSQL).
func (s *Store) match(ctx context.Context, tx Tx, typ, criteria string, lock bool) ([]*Resource, error) {
	q, err := s.ParseQueryString(typ, criteria)
	if err != nil {
		return nil, err
	}
	if len(q.Clauses) == 0 {
		return nil, custodian.Errorf(custodian.EINVALID, "conditional criteria %q have no search parameters Custodian knows", criteria)
	}
	if lock {
		if err := tx.Lock(ctx, "cond:"+typ+"?"+criteria); err != nil {
			return nil, err
		}
	}
	q.Count = 2
	page, err := tx.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	return page.Resources, nil
}

// put stamps res with id and version and writes it. index, if not nil, are
// the index entries of res computed beforehand (outside the transaction).
func (s *Store) put(ctx context.Context, tx Tx, typ, id string, vid int64, m Method, res map[string]any, index []IndexEntry) (*Resource, error) {
	ts := s.now()
	stamp(res, id, vid, ts)
	if index == nil {
		var err error
		if index, err = s.index(typ, res); err != nil {
			return nil, err
		}
	}
	body, err := Encode(res)
	if err != nil {
		return nil, err
	}
	r := &Resource{Type: typ, ID: id, VersionID: vid, LastUpdated: ts, Method: m, Author: s.actorID(ctx), Body: body,
		Compartment: compartment(typ, res, index), Sensitive: isSensitive(res)}
	if err := tx.Put(ctx, r, index); err != nil {
		return nil, err
	}
	return r, nil
}

// index extracts the search index entries of res. It never returns nil for
// a resource without entries, so callers can tell "computed" from "not yet".
func (s *Store) index(typ string, res map[string]any) ([]IndexEntry, error) {
	if s.indexer == nil {
		return []IndexEntry{}, nil
	}
	index, err := s.indexer.Index(typ, res)
	if err != nil {
		return nil, fmt.Errorf("store: index %s: %w", typ, err)
	}
	if index == nil {
		index = []IndexEntry{}
	}
	return index, nil
}

// Read returns the current version of typ/id: ENOTFOUND if it never
// existed (or the actor may not see it), EGONE if it is deleted.
func (s *Store) Read(ctx context.Context, typ, id string) (*Resource, error) {
	return s.readOne(ctx, audit.ActionRead, typ, id, 0)
}

// VRead returns version vid of typ/id; EGONE if that version is a delete.
func (s *Store) VRead(ctx context.Context, typ, id string, vid int64) (*Resource, error) {
	return s.readOne(ctx, audit.ActionVRead, typ, id, vid)
}

func (s *Store) readOne(ctx context.Context, action, typ, id string, vid int64) (*Resource, error) {
	e := s.entry(ctx, action)
	e.Resources = []string{typ + "/" + id}
	a, err := s.allow(ctx, typ, "read")
	if err == nil {
		err = s.checkTypeID(typ, id)
	}
	if err != nil {
		return nil, s.fail(ctx, e, err)
	}
	var r *Resource
	err = s.backend.Read(ctx, func(rd Reader) error {
		var err error
		if vid == 0 {
			r, err = rd.Current(ctx, typ, id)
		} else {
			r, err = rd.Version(ctx, typ, id, vid)
		}
		if err != nil {
			return err
		}
		vis, err := s.visibilityOf(ctx, rd, a)
		if err != nil {
			return err
		}
		e.Patients = nonEmpty(r.Compartment)
		ok, glass, reason := vis.sees(r)
		if !ok {
			e.Outcome = "hidden-sensitive"
			r = nil
			return custodian.Errorf(custodian.ENOTFOUND, "%s/%s does not exist", typ, id)
		}
		e.BreakGlass, e.Reason = glass, reason
		return nil
	})
	if err != nil {
		return nil, s.fail(ctx, e, err)
	}
	if vid != 0 {
		e.Resources = []string{r.Ref() + "/_history/" + strconv.FormatInt(vid, 10)}
	}
	if err := s.record(ctx, e); err != nil {
		return nil, err
	}
	if r.Deleted {
		if vid != 0 {
			return r, custodian.Errorf(custodian.EGONE, "version %d of %s/%s is a delete", vid, typ, id)
		}
		return r, custodian.Errorf(custodian.EGONE, "%s/%s was deleted", typ, id)
	}
	return r, nil
}

// Update stores body as the next version of typ/id, creating the resource
// with that id if it does not exist (update as create).
func (s *Store) Update(ctx context.Context, typ, id string, body []byte, opt WriteOptions) (*Outcome, error) {
	e := s.entry(ctx, audit.ActionUpdate)
	e.Resources = []string{typ + "/" + id}
	if err := s.checkTypeID(typ, id); err != nil {
		return nil, s.fail(ctx, e, err)
	}
	res, err := s.prepare(ctx, e, typ, "update", body)
	if err != nil {
		return nil, err
	}
	if err := checkBodyID(res, id); err != nil {
		return nil, s.fail(ctx, e, err)
	}
	index, err := s.index(typ, res)
	if err != nil {
		return nil, err
	}
	var out *Outcome
	err = s.commit(ctx, e, func(tx Tx) error {
		var err error
		out, err = s.update(ctx, tx, typ, id, res, opt.IfMatch, MethodUpdate, index)
		touched(e, out)
		return err
	})
	return out, err
}

func checkBodyID(res map[string]any, id string) error {
	bid, _ := res["id"].(string)
	if bid == "" {
		return custodian.Errorf(custodian.EINVALID, "the resource has no id; an update must carry the id of the URL (%s)", id)
	}
	if bid != id {
		return custodian.Errorf(custodian.EINVALID, "the resource id %q does not match the id in the URL %q", bid, id)
	}
	return nil
}

func (s *Store) update(ctx context.Context, tx Tx, typ, id string, res map[string]any, ifMatch int64, m Method, index []IndexEntry) (*Outcome, error) {
	cur, err := tx.Current(ctx, typ, id)
	switch {
	case custodian.ErrorCode(err) == custodian.ENOTFOUND:
		if ifMatch != 0 {
			return nil, custodian.Errorf(custodian.EPRECONDITION, "%s/%s does not exist, so version %d cannot match", typ, id, ifMatch)
		}
		r, err := s.put(ctx, tx, typ, id, 1, MethodUpdate, res, index)
		if err != nil {
			return nil, err
		}
		return &Outcome{Resource: r, Created: true}, nil
	case err != nil:
		return nil, err
	}
	if ifMatch != 0 && ifMatch != cur.VersionID {
		return nil, custodian.Errorf(custodian.EPRECONDITION, "%s/%s is at version %d, not %d", typ, id, cur.VersionID, ifMatch)
	}
	if !cur.Deleted && sameContent(cur.Body, res) {
		return &Outcome{Resource: cur, Unchanged: true}, nil
	}
	r, err := s.put(ctx, tx, typ, id, cur.VersionID+1, m, res, index)
	if err != nil {
		return nil, err
	}
	return &Outcome{Resource: r, Created: cur.Deleted}, nil
}

// sameContent reports whether stored body and the new resource differ only
// in meta.versionId and meta.lastUpdated.
func sameContent(stored []byte, res map[string]any) bool {
	old, err := Decode(stored)
	if err != nil {
		return false
	}
	meta, _ := res["meta"].(map[string]any)
	stamp(old, "", 0, time.Time{})
	clean := copyWithoutStamp(res, meta)
	a, err1 := Encode(old)
	b, err2 := Encode(clean)
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}

// ConditionalUpdate updates the one resource of typ matching criteria, or
// creates one if none does. More than one match fails with EPRECONDITION.
func (s *Store) ConditionalUpdate(ctx context.Context, typ, criteria string, body []byte, opt WriteOptions) (*Outcome, error) {
	e := s.entry(ctx, audit.ActionUpdate)
	e.Query = typ + "?" + criteria
	res, err := s.prepare(ctx, e, typ, "update", body)
	if err != nil {
		return nil, err
	}
	var out *Outcome
	err = s.commit(ctx, e, func(tx Tx) error {
		var err error
		out, err = s.conditionalUpdate(ctx, tx, typ, criteria, res, opt.IfMatch)
		touched(e, out)
		return err
	})
	return out, err
}

func (s *Store) conditionalUpdate(ctx context.Context, tx Tx, typ, criteria string, res map[string]any, ifMatch int64) (*Outcome, error) {
	found, err := s.conditionalMatch(ctx, tx, typ, criteria)
	if err != nil {
		return nil, err
	}
	bid, _ := res["id"].(string)
	switch len(found) {
	case 0:
		if ifMatch != 0 {
			return nil, custodian.Errorf(custodian.EPRECONDITION, "no %s matches the criteria, so version %d cannot match", typ, ifMatch)
		}
		return s.create(ctx, tx, typ, res, "", bid, nil)
	case 1:
		id := found[0].ID
		if bid != "" && bid != id {
			return nil, custodian.Errorf(custodian.EINVALID, "the resource id %q is not the id of the matching %s (%q)", bid, typ, id)
		}
		return s.update(ctx, tx, typ, id, res, ifMatch, MethodUpdate, nil)
	default:
		return nil, custodian.Errorf(custodian.EPRECONDITION, "the criteria match %d resources; a conditional update needs at most one", len(found))
	}
}

// Delete deletes typ/id by writing a delete version. Deleting what does not
// exist or is already deleted changes nothing and is not an error.
func (s *Store) Delete(ctx context.Context, typ, id string, opt WriteOptions) (*Outcome, error) {
	e := s.entry(ctx, audit.ActionDelete)
	e.Resources = []string{typ + "/" + id}
	if _, err := s.allow(ctx, typ, "delete"); err != nil {
		return nil, s.fail(ctx, e, err)
	}
	if err := s.checkTypeID(typ, id); err != nil {
		return nil, s.fail(ctx, e, err)
	}
	var out *Outcome
	err := s.commit(ctx, e, func(tx Tx) error {
		var err error
		out, err = s.delete(ctx, tx, typ, id, opt.IfMatch)
		touched(e, out)
		return err
	})
	return out, err
}

func (s *Store) delete(ctx context.Context, tx Tx, typ, id string, ifMatch int64) (*Outcome, error) {
	cur, err := tx.Current(ctx, typ, id)
	if custodian.ErrorCode(err) == custodian.ENOTFOUND {
		if ifMatch != 0 {
			return nil, custodian.Errorf(custodian.EPRECONDITION, "%s/%s does not exist, so version %d cannot match", typ, id, ifMatch)
		}
		return &Outcome{Unchanged: true}, nil
	} else if err != nil {
		return nil, err
	}
	if ifMatch != 0 && ifMatch != cur.VersionID {
		return nil, custodian.Errorf(custodian.EPRECONDITION, "%s/%s is at version %d, not %d", typ, id, cur.VersionID, ifMatch)
	}
	if cur.Deleted {
		return &Outcome{Resource: cur, Unchanged: true}, nil
	}
	r := &Resource{Type: typ, ID: id, VersionID: cur.VersionID + 1, LastUpdated: s.now(), Deleted: true, Method: MethodDelete,
		Author: s.actorID(ctx), Compartment: cur.Compartment}
	if err := tx.Put(ctx, r, nil); err != nil {
		return nil, err
	}
	return &Outcome{Resource: r}, nil
}

// ConditionalDelete deletes the one resource of typ that matches criteria.
// No match changes nothing; more than one fails with EPRECONDITION.
func (s *Store) ConditionalDelete(ctx context.Context, typ, criteria string) (*Outcome, error) {
	e := s.entry(ctx, audit.ActionDelete)
	e.Query = typ + "?" + criteria
	if _, err := s.allow(ctx, typ, "delete"); err != nil {
		return nil, s.fail(ctx, e, err)
	}
	var out *Outcome
	err := s.commit(ctx, e, func(tx Tx) error {
		var err error
		out, err = s.conditionalDelete(ctx, tx, typ, criteria)
		touched(e, out)
		return err
	})
	return out, err
}

func (s *Store) conditionalDelete(ctx context.Context, tx Tx, typ, criteria string) (*Outcome, error) {
	found, err := s.conditionalMatch(ctx, tx, typ, criteria)
	if err != nil {
		return nil, err
	}
	switch len(found) {
	case 0:
		return &Outcome{Unchanged: true}, nil
	case 1:
		return s.delete(ctx, tx, typ, found[0].ID, 0)
	default:
		return nil, custodian.Errorf(custodian.EPRECONDITION, "the criteria match %d resources; a conditional delete removes at most one", len(found))
	}
}

// History lists versions newest first. Versions the actor may not see are
// left out.
func (s *Store) History(ctx context.Context, f HistoryFilter) (*HistoryPage, error) {
	e := s.entry(ctx, audit.ActionHistory)
	if f.Type != "" {
		e.Resources = []string{strings.TrimSuffix(f.Type+"/"+f.ID, "/")}
	}
	a, err := s.allow(ctx, f.Type, "read")
	if err == nil && f.Type != "" && !s.validator.IsResourceType(f.Type) {
		err = custodian.Errorf(custodian.ENOTFOUND, "%q is not a FHIR R4 resource type", f.Type)
	}
	if err != nil {
		return nil, s.fail(ctx, e, err)
	}
	var p *HistoryPage
	err = s.backend.Read(ctx, func(rd Reader) error {
		var err error
		if p, err = rd.History(ctx, f); err != nil {
			return err
		}
		vis, err := s.visibilityOf(ctx, rd, a)
		if err != nil {
			return err
		}
		p.Versions = s.filterVisible(vis, p.Versions, e)
		return nil
	})
	if err != nil {
		return nil, s.fail(ctx, e, err)
	}
	return p, s.record(ctx, e)
}

// Search runs q. Sensitive resources the actor may not see are not found.
// It is SearchWithIncludes without the included resources.
func (s *Store) Search(ctx context.Context, q *Query) (*SearchPage, error) {
	res, err := s.SearchWithIncludes(ctx, q)
	if err != nil {
		return nil, err
	}
	return res.SearchPage, nil
}

// filterVisible keeps the resources vis allows (a second line of defence
// behind the query's own filter) and notes them in the audit entry.
func (s *Store) filterVisible(vis *visibility, rs []*Resource, e *audit.Entry) []*Resource {
	out := rs[:0]
	for _, r := range rs {
		ok, glass, reason := vis.sees(r)
		if !ok {
			continue
		}
		if glass {
			e.BreakGlass, e.Reason = true, reason
		}
		e.Resources = append(e.Resources, r.Ref())
		if r.Compartment != "" && !slices.Contains(e.Patients, r.Compartment) {
			e.Patients = append(e.Patients, r.Compartment)
		}
		out = append(out, r)
	}
	return out
}

// checkTypeID rejects unknown types (ENOTFOUND) and ids that break the FHIR
// id rules (EINVALID).
func (s *Store) checkTypeID(typ, id string) error {
	if !s.validator.IsResourceType(typ) {
		return custodian.Errorf(custodian.ENOTFOUND, "%q is not a FHIR R4 resource type", typ)
	}
	if !ValidID(id) {
		return custodian.Errorf(custodian.EINVALID, "%q is not a valid resource id (1 to 64 of A-Z a-z 0-9 - .)", id)
	}
	return nil
}

// ValidID reports whether id follows the FHIR id rules: 1 to 64 characters,
// each a letter, a digit, '-' or '.'.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
