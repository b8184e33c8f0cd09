package store

import (
	"context"
	"time"

	"github.com/custodian-him/custodian/audit"
)

// Backend keeps the rows of the store. Package sqldb implements it for each
// SQL engine. Backends do no FHIR logic: Store decides what to write.
type Backend interface {
	// Write runs fn in a write transaction: everything fn writes commits
	// together or not at all. If fn returns an error nothing of it is kept
	// and Write returns that error. Write may group the work of several
	// concurrent callers into one database commit.
	Write(ctx context.Context, fn func(Tx) error) error
	// Record is Write whose commit may skip waiting for the disk, so it
	// survives a crash of the process at once and a power failure from the
	// next durable commit (or Syncer.Sync) on: for audit records of reads
	// and refusals, and for bulk loads that can redo their last batches
	// (PutBatchUnsynced).
	Record(ctx context.Context, fn func(Tx) error) error
	// Read runs fn against a consistent snapshot.
	Read(ctx context.Context, fn func(Reader) error) error
}

// Reader reads resources. Methods return ENOTFOUND errors for what does not
// exist.
type Reader interface {
	// Current returns the newest version of Type/id, which may be a delete
	// (Deleted set). ENOTFOUND if the resource never existed.
	Current(ctx context.Context, typ, id string) (*Resource, error)
	// Version returns one version of Type/id. ENOTFOUND if there is none.
	Version(ctx context.Context, typ, id string, vid int64) (*Resource, error)
	// History lists versions newest first.
	History(ctx context.Context, f HistoryFilter) (*HistoryPage, error)
	// Search returns the current, non-deleted resources that match q.
	Search(ctx context.Context, q *Query) (*SearchPage, error)
	// BreakGlass returns the patients whose sensitive records actor may see
	// at now through break-the-glass grants, each with its stated reason.
	BreakGlass(ctx context.Context, actor string, now time.Time) (map[string]string, error)
}

// Tx is a write transaction.
type Tx interface {
	Reader
	// Put stores r as a new version of its resource, replacing the search
	// index entries of the resource with index. r.VersionID must be one more
	// than the current version (1 for a new resource); otherwise Put fails
	// with ECONFLICT, so concurrent writers cannot both win.
	Put(ctx context.Context, r *Resource, index []IndexEntry) error
	// Lock serialises every transaction that locks the same key until the
	// end of this one, across processes where the engine can. Conditional
	// operations lock their criteria so that two cannot both find nothing
	// and both create.
	Lock(ctx context.Context, key string) error
	// Audit appends e to the audit trail in this transaction, so the change
	// and its record commit together. It sets e.Seq.
	Audit(ctx context.Context, e *audit.Entry) error
	// GrantBreakGlass records a time-boxed break-the-glass grant.
	GrantBreakGlass(ctx context.Context, actor, patient, reason string, starts, ends time.Time) error
}

// BodyPacker is a Backend that keeps bodies in a stored form of its own
// (compressed, say) and can make that form outside a write. Callers that
// prepare resources in parallel before writing them (PutBatch, Create) pack
// there, so the work leaves the backend's single writer.
type BodyPacker interface {
	// PackBody returns body in the form the backend stores.
	PackBody(body []byte) []byte
}

// IndexPacker is a Backend that can turn a resource's index entries into
// its own rows outside a write (resolving parameter numbers, laying out the
// rows' values), for the same reason as BodyPacker.
type IndexPacker interface {
	// PackIndex returns the rows of index, entries of a resource of type
	// typ, in a form only the backend's PackedTx reads; nil when they can
	// only be made inside the write (which then reports any problem).
	PackIndex(typ string, index []IndexEntry) any
}

// PackedTx is a Tx that takes a body already packed by its backend's
// PackBody and index rows already made by its PackIndex.
type PackedTx interface {
	// PutPacked is Put with packed, the stored form of r.Body (nil: packed
	// here), and rows, the rows of index from PackIndex (nil: made here
	// from index).
	PutPacked(ctx context.Context, r *Resource, packed []byte, rows any, index []IndexEntry) error
}

// pack returns body in the backend's stored form, or nil when the backend
// packs nothing ahead of a write.
func (s *Store) pack(body []byte) []byte {
	if p, ok := s.backend.(BodyPacker); ok && body != nil {
		return p.PackBody(body)
	}
	return nil
}

// packIndex returns the backend's rows for index, or nil when the backend
// makes them in the write.
func (s *Store) packIndex(typ string, index []IndexEntry) any {
	if p, ok := s.backend.(IndexPacker); ok {
		return p.PackIndex(typ, index)
	}
	return nil
}

// putPacked is tx.Put with the stored form of r.Body and the index rows
// made beforehand (by pack and packIndex) when there are some and the Tx
// takes them.
func putPacked(ctx context.Context, tx Tx, r *Resource, packed []byte, rows any, index []IndexEntry) error {
	inner := tx
	wt, watched := tx.(*watchTx)
	if watched {
		inner = wt.Tx
	}
	pt, ok := inner.(PackedTx)
	if !ok || (packed == nil && rows == nil) {
		return tx.Put(ctx, r, index)
	}
	if err := pt.PutPacked(ctx, r, packed, rows, index); err != nil {
		return err
	}
	if watched {
		wt.put = append(wt.put, r)
	}
	return nil
}

// HistoryFilter chooses versions for History. Empty Type means every type;
// empty ID every resource of the type.
type HistoryFilter struct {
	Type  string
	ID    string
	Since int64 // unix milliseconds; 0 means no lower bound
	At    int64 // unix milliseconds; versions current at this instant only are not supported, so 0
	// Before is the paging cursor: only versions written before this
	// position (exclusive). 0 means from the newest.
	Before int64
	Count  int
}

// HistoryPage is one page of History.
type HistoryPage struct {
	Versions []*Resource
	// Next is the cursor for the following (older) page, 0 when there is none.
	Next int64
	// Total is the number of versions matching the filter, or -1 if unknown.
	Total int64
}

// SearchPage is one page of Search results.
type SearchPage struct {
	Resources []*Resource
	// Next is an opaque cursor for the next page, "" when there is none.
	Next string
	// Total is the number of matches, or -1 when not counted.
	Total int64
}
