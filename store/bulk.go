package store

import (
	"context"
	"slices"
	"strconv"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
)

// BatchResult is what PutBatch did with one resource: an Outcome, or the
// error that rejected it.
type BatchResult struct {
	Outcome *Outcome
	Err     error
}

// PutBatch stores many resources at once, for bulk loading. A resource with
// an id is written as an update to that id (creating it if it does not
// exist, and adding no version when its content is unchanged), so loading
// the same data twice changes nothing; one without an id is created with a
// new id.
//
// The CPU work (authorisation, validation, indexing) happens in the
// caller's goroutine, so callers loading in parallel use every core; then
// all the accepted resources are written in one backend write, which commits
// once with one audit entry. A resource that is refused is reported in its
// BatchResult and never stops the others. If the batch write itself fails,
// the resources are written one by one so the one at fault is isolated.
// The error return is for failures that are not any one resource's fault
// (the database, cancellation); results are then incomplete, and some of
// the resources may be stored (loading them again is harmless).
//
// References are stored as written: PutBatch resolves neither fullUrls nor
// conditional references (that is what Transaction is for).
func (s *Store) PutBatch(ctx context.Context, resources []map[string]any) ([]BatchResult, error) {
	return s.putBatch(ctx, resources, false)
}

// PutBatchUnsynced is PutBatch for bulk loads that can redo their last
// batches: its commit does not wait for the disk. What it writes survives
// a crash of the process at once, and a power failure once Sync (or any
// later durable write) has returned; a loader records how far it got only
// after a Sync.
func (s *Store) PutBatchUnsynced(ctx context.Context, resources []map[string]any) ([]BatchResult, error) {
	return s.putBatch(ctx, resources, true)
}

// Syncer is a Backend whose writes may commit without waiting for the disk
// (Record); Sync makes every write committed so far durable.
type Syncer interface {
	Sync(ctx context.Context) error
}

// Sync makes every write committed so far durable, PutBatchUnsynced's
// among them. Backends whose every commit is durable need nothing.
func (s *Store) Sync(ctx context.Context) error {
	if sy, ok := s.backend.(Syncer); ok {
		return sy.Sync(ctx)
	}
	return nil
}

func (s *Store) putBatch(ctx context.Context, resources []map[string]any, unsynced bool) ([]BatchResult, error) {
	results := make([]BatchResult, len(resources))
	items := make([]*batchItem, 0, len(resources))
	allowed := map[string]error{}
	var refused batchRefusals // audited like refused writes elsewhere (protect.go)
	for i, res := range resources {
		_, hasID := res["id"]
		it, err := s.prepareItem(ctx, res, allowed)
		if err != nil {
			results[i].Err = err
			typ, _ := res["resourceType"].(string)
			id, _ := res["id"].(string)
			s.addRefusal(ctx, &refused, typ, id, !hasID, err)
			continue
		}
		it.i = i
		items = append(items, it)
	}
	var err error
	if len(items) > 0 {
		err = s.writeItems(ctx, items, results, unsynced)
		for _, it := range items {
			s.addRefusal(ctx, &refused, it.typ, it.id, it.create, results[it.i].Err)
			if aerr := s.recordGlassReads(ctx, results[it.i].Err); aerr != nil && err == nil {
				err = aerr
			}
		}
	}
	if aerr := s.recordRefusals(ctx, &refused); aerr != nil && err == nil {
		err = aerr
	}
	return results, err
}

// writeItems writes items in one backend write or, if that fails because of
// one of them, one by one so the one at fault is isolated. It returns an
// error only for failures that are no resource's fault.
func (s *Store) writeItems(ctx context.Context, items []*batchItem, results []BatchResult, unsynced bool) error {
	// New resources go through the backend's bulk path if it has one
	// (bulkcopy.go); the rest, or all when it has none, are written here.
	items, err := s.copyItems(ctx, items, results, unsynced)
	if err != nil || len(items) == 0 {
		return err
	}
	err = s.writeBatch(ctx, items, results, unsynced)
	if err == nil {
		return nil
	}
	if notTheData(ctx, err) {
		return err
	}
	if len(items) == 1 {
		results[items[0].i] = BatchResult{Err: err}
		return nil
	}
	// The resource trees were stamped by the failed attempt, which is
	// harmless (stamp overwrites).
	written := 0
	for _, it := range items {
		if err := s.writeBatch(ctx, []*batchItem{it}, results, unsynced); err != nil {
			if notTheData(ctx, err) {
				return err
			}
			results[it.i] = BatchResult{Err: err}
			continue
		}
		written++
	}
	if written == 0 {
		if custodian.ErrorCode(err) == custodian.EINTERNAL {
			// Nothing at all could be written: the database is at fault,
			// not the resources.
			for _, it := range items {
				results[it.i] = BatchResult{}
			}
			return err
		}
	}
	return nil
}

// notTheData reports whether err is a failure of the moment (cancellation,
// a timeout, the database unavailable) rather than of the resources.
func notTheData(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	switch custodian.ErrorCode(err) {
	case custodian.ETIMEOUT, custodian.EUNAVAILABLE:
		return true
	}
	return false
}

// batchItem is one accepted resource of PutBatch, ready to write.
type batchItem struct {
	i     int
	typ   string
	id    string
	res   map[string]any
	index []IndexEntry
	// create is set when the resource came without an id.
	create bool
	// first is the resource as its first version, stamped, encoded and
	// packed (the backend's stored form, or nil) outside the write: most
	// resources of a load are new.
	first  *Resource
	packed []byte
	rows   any // the backend's rows for index (packIndex), or nil
}

// prepareItem authorises, validates and indexes res outside the write.
// allowed caches the authorisation of each type and interaction.
func (s *Store) prepareItem(ctx context.Context, res map[string]any, allowed map[string]error) (*batchItem, error) {
	typ, _ := res["resourceType"].(string)
	if typ == "" {
		return nil, custodian.Errorf(custodian.EINVALID, "the resource has no resourceType")
	}
	if !s.validator.IsResourceType(typ) {
		return nil, custodian.Errorf(custodian.EINVALID, "%q is not a FHIR R4 resource type", typ)
	}
	it := &batchItem{typ: typ, res: res}
	interaction := "update"
	if _, ok := res["id"]; !ok {
		interaction, it.create = "create", true
	}
	key := typ + " " + interaction
	err, seen := allowed[key]
	if !seen {
		_, err = s.allow(ctx, typ, interaction)
		allowed[key] = err
	}
	if err != nil {
		return nil, err
	}
	if err := s.check(typ, res); err != nil {
		return nil, err
	}
	if it.create {
		it.id = s.NewID()
		res["id"] = it.id
	} else {
		it.id, _ = res["id"].(string)
	}
	if it.index, err = s.index(typ, res); err != nil {
		return nil, err
	}
	ts := s.now()
	stamp(res, it.id, 1, ts)
	body, err := Encode(res)
	if err != nil {
		return nil, err
	}
	m := MethodUpdate
	if it.create {
		m = MethodCreate
	}
	it.first = &Resource{Type: typ, ID: it.id, VersionID: 1, LastUpdated: ts, Method: m, Author: s.actorID(ctx), Body: body,
		Compartment: compartment(typ, res, it.index), Sensitive: isSensitive(res)}
	it.packed = s.pack(body)
	it.rows = s.packIndex(typ, it.index)
	return it, nil
}

// writeBatch writes items in one backend write with one audit entry, and
// fills their results. It fails as a whole or not at all. An unsynced write
// goes through the backend's Record, whose commit does not wait for the
// disk. The backend may run fn more than once (again after a rollback), so
// fn starts afresh each time.
func (s *Store) writeBatch(ctx context.Context, items []*batchItem, results []BatchResult, unsynced bool) error {
	outs := make([]*Outcome, len(items))
	e := s.entry(ctx, audit.ActionUpdate)
	write, wt := s.watching(func(tx Tx) error {
		e.Resources, e.Patients = e.Resources[:0], e.Patients[:0]
		for k, it := range items {
			var out *Outcome
			var err error
			out, err = s.putItem(ctx, tx, it)
			if err != nil {
				return err
			}
			outs[k] = out
			if out.Unchanged || out.Resource == nil {
				continue
			}
			r := out.Resource
			e.Resources = append(e.Resources, r.Ref()+"/_history/"+strconv.FormatInt(r.VersionID, 10))
			if r.Compartment != "" && !slices.Contains(e.Patients, r.Compartment) {
				e.Patients = append(e.Patients, r.Compartment)
			}
		}
		if len(e.Resources) == 0 {
			return nil // nothing changed, nothing to record
		}
		return tx.Audit(ctx, e)
	})
	run := s.backend.Write
	if unsynced {
		run = s.backend.Record
	}
	if err := run(ctx, write); err != nil {
		return err
	}
	s.notify(ctx, wt)
	for k, it := range items {
		results[it.i] = BatchResult{Outcome: outs[k]}
	}
	return nil
}

// putItem writes it as its first version when the resource is new, and as
// an update (adding no version if the content is the same) otherwise. It
// tries the first version straight away, without reading first: a Put of
// version 1 fails with ECONFLICT, writing nothing, when the resource
// exists.
func (s *Store) putItem(ctx context.Context, tx Tx, it *batchItem) (*Outcome, error) {
	err := putPacked(ctx, tx, it.first, it.packed, it.rows, it.index)
	if err == nil {
		return &Outcome{Resource: it.first, Created: true}, nil
	} else if custodian.ErrorCode(err) != custodian.ECONFLICT {
		return nil, err
	}
	if it.create {
		// A fresh random id that exists already: make a new one.
		return s.create(ctx, tx, it.typ, it.res, "", "", nil)
	}
	return s.update(ctx, tx, it.typ, it.id, it.res, 0, MethodUpdate, it.index)
}

// Missing returns the references among refs ("Type/id") whose target does
// not exist or is deleted, in the order given. It reads without auditing:
// it reveals existence only, and only to the command line's system actor.
func (s *Store) Missing(ctx context.Context, refs []string) ([]string, error) {
	if a := custodian.ActorFromContext(ctx); a == nil || a.Kind != "system" {
		return nil, custodian.Errorf(custodian.EFORBIDDEN, "checking references in bulk is for the system actor only")
	}
	var missing []string
	const chunk = 2000 // keep each read transaction short
	for start := 0; start < len(refs); start += chunk {
		part := refs[start:min(start+chunk, len(refs))]
		err := s.backend.Read(ctx, func(rd Reader) error {
			for _, ref := range part {
				typ, id, ok := cutRef(ref)
				if !ok {
					missing = append(missing, ref)
					continue
				}
				r, err := rd.Current(ctx, typ, id)
				if custodian.ErrorCode(err) == custodian.ENOTFOUND || (err == nil && r.Deleted) {
					missing = append(missing, ref)
				} else if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return missing, nil
}

func cutRef(ref string) (typ, id string, ok bool) {
	for i := 0; i < len(ref); i++ {
		if ref[i] == '/' {
			return ref[:i], ref[i+1:], i > 0 && ValidID(ref[i+1:])
		}
	}
	return "", "", false
}
