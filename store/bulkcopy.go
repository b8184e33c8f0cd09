package store

import (
	"context"
	"errors"
	"slices"

	"github.com/custodian-him/custodian/audit"
)

// BulkCopier is a Backend with a bulk path for new resources, faster than
// one Put each: on PostgreSQL, COPY. PutBatch uses it for the resources of
// a batch that do not exist yet, and the ordinary path for the rest.
type BulkCopier interface {
	// CopyNew stores each item as version 1 of a new resource, all in one
	// transaction of its own. Items whose type and id exist in the store
	// already, or repeat an earlier item's, are not stored: their
	// positions are returned in skipped, in order. fn runs inside the
	// transaction once the rows are in, with the positions of the items
	// stored, and may write there (the audit entry); if it fails, nothing
	// is kept and CopyNew returns its error.
	//
	// With unsynced the commit need not wait for the disk, as a
	// PutBatchUnsynced write's (Syncer.Sync makes it durable).
	//
	// It returns an error matching errors.ErrUnsupported, having done
	// nothing, when the engine has no bulk path. Any other error means
	// nothing was stored (ETIMEOUT and EUNAVAILABLE: the database is at
	// fault, not the items; anything else: the ordinary path may isolate
	// the item at fault).
	CopyNew(ctx context.Context, items []CopyItem, unsynced bool, fn func(tx Tx, stored []int) error) (skipped []int, err error)
}

// CopyItem is one new resource for BulkCopier.CopyNew: its first
// version, stamped, with its body in the backend's stored form (Packed,
// from PackBody; nil to have CopyNew pack it), its index entries, and
// their rows in the backend's form (Rows, from PackIndex; nil to have
// CopyNew make them from Index).
type CopyItem struct {
	Resource *Resource
	Packed   []byte
	Rows     any
	Index    []IndexEntry
}

// minCopy is the smallest batch sent to a bulk path, which takes a
// transaction and a connection of its own; smaller ones (the ends of small
// files) share the ordinary path's group commit.
const minCopy = 8

// copyItems stores the items of a PutBatch whose resources are new through
// the backend's bulk path, when it has one, filling their results, and
// returns the items left for the ordinary path: those whose resource
// exists already (an update, or no change), or all of them when the bulk
// path is missing or failed because of the data. The error is for failures
// that are no resource's fault.
func (s *Store) copyItems(ctx context.Context, items []*batchItem, results []BatchResult, unsynced bool) ([]*batchItem, error) {
	bc, ok := s.backend.(BulkCopier)
	if !ok || len(items) < minCopy || s.guardsWrites(ctx) {
		return items, nil
	}
	copies := make([]CopyItem, len(items))
	for k, it := range items {
		copies[k] = CopyItem{Resource: it.first, Packed: it.packed, Rows: it.rows, Index: it.index}
	}
	e := s.entry(ctx, audit.ActionUpdate)
	var written []*Resource
	skipped, err := bc.CopyNew(ctx, copies, unsynced, func(tx Tx, stored []int) error {
		e.Resources, e.Patients, written = e.Resources[:0], e.Patients[:0], written[:0]
		for _, k := range stored {
			r := items[k].first
			written = append(written, r)
			e.Resources = append(e.Resources, r.Ref()+"/_history/1")
			if r.Compartment != "" && !slices.Contains(e.Patients, r.Compartment) {
				e.Patients = append(e.Patients, r.Compartment)
			}
		}
		if len(written) == 0 {
			return nil
		}
		return tx.Audit(ctx, e)
	})
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		return items, nil
	case err != nil && notTheData(ctx, err):
		return nil, err
	case err != nil:
		// The data is at fault (or another write took an id meanwhile):
		// nothing was stored; the ordinary path finds which item it is.
		return items, nil
	}
	s.notify(ctx, &watchTx{put: written})
	rest := make([]*batchItem, 0, len(skipped))
	next := 0
	for k, it := range items {
		if next < len(skipped) && skipped[next] == k {
			rest = append(rest, it)
			next++
			continue
		}
		results[it.i] = BatchResult{Outcome: &Outcome{Resource: it.first, Created: true}}
	}
	return rest, nil
}
