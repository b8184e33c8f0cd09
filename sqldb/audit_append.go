package sqldb

import (
	"context"
	"errors"
	"sync"

	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/store"
)

// maxAuditBatch bounds how many entries one block holds: as many as a
// sealed block (sealMax), so a busy journal's blocks need no sealing and
// carry one set of key rows per 2,048 reads (an actor's, an action's, a
// patient's read many times in the 2 s a block gathers) rather than per
// 1,024. A search for a patient decompresses up to this many entries per
// block it finds (about 0.3 ms).
const maxAuditBatch = 2048

// auditQueue gathers the audit entries of concurrent reads into blocks:
// the first caller to find no block being committed becomes the leader
// and commits everything waiting as one block in one write; callers
// arriving meanwhile wait for the next block. So many reads share one
// row, one set of key rows and one commit, and every caller still returns
// only once its own entry has committed — no read is answered unaudited.
type auditQueue struct {
	mu      sync.Mutex
	pending []*auditItem
	busy    bool // a leader is committing

	// table is where blocks wait for the chain on PostgreSQL
	// (audit_pending.go); nil: blocks commit into the chain at once.
	table *pendingTable

	// sealer seals small blocks (audit_seal.go); sealMu keeps one seal at
	// a time.
	sealer *sealer
	sealMu sync.Mutex
}

// auditItem is one entry waiting to be appended, with what appending it
// needs computed beforehand (by the caller, in parallel with others).
type auditItem struct {
	// e is the entry, which gets its Seq when appended; nil for an entry
	// taken from audit_pending or the journal.
	e    *audit.Entry
	tail []byte // audit.CanonicalTail(e)
	ts   int64  // the entry's time, unix ms
	// k makes the entry's key rows; for an entry taken from audit_pending
	// keys holds them instead, made.
	k    entryKeys
	keys []string
	done chan error
}

func newAuditItem(e *audit.Entry) *auditItem {
	return &auditItem{e: e, tail: audit.CanonicalTail(e), ts: e.Time.UnixMilli(), k: keysOf(e)}
}

// errLead tells a waiting caller that it is to lead the next block.
var errLead = errors.New("sqldb: lead the next audit block")

// AppendAudit appends e to the audit trail, sharing the work with the
// entries of other callers appending at the same time, and returns once e
// is kept:
//   - with durable set, once it has committed in a write that waits for
//     the disk (as writes do), and it has its Seq;
//   - otherwise, on SQLite with its journal (audit_journal.go), once it is
//     written to the journal file, from which it is appended to the chain
//     a few milliseconds later (or when the database is next opened, after
//     a crash);
//   - otherwise, on PostgreSQL (audit_pending.go), once the row of
//     audit_pending holding it has committed, from which it is appended
//     to the chain a few milliseconds later, by this node or another;
//   - otherwise once it has committed in a Record commit (see Record for
//     what survives what), with its Seq.
//
// A cancelled ctx does not stop the entry from being kept.
func (db *DB) AppendAudit(ctx context.Context, e *audit.Entry, durable bool) error {
	if durable {
		ctx = context.WithoutCancel(ctx)
		return db.Write(ctx, func(tx store.Tx) error { return tx.Audit(ctx, e) })
	}
	if j := db.journal; j != nil && j.write(e) == nil {
		return nil
	}
	it := newAuditItem(e)
	// No journal, or it failed (the failure is kept and logged once): the
	// entry commits through the writer, in a block with those of other
	// callers waiting.
	it.done = make(chan error, 1)
	q := &db.auditq
	q.mu.Lock()
	q.pending = append(q.pending, it)
	if q.busy {
		q.mu.Unlock()
		if err := <-it.done; err != errLead {
			return err
		}
	} else {
		q.busy = true
		q.mu.Unlock()
	}
	return db.leadAudit(ctx, it)
}

// leadAudit commits what is waiting as one block, then hands the lead to the
// oldest caller that arrived meanwhile, if any. The leader's own entry is
// always the first waiting (a caller leads only when it arrived to an
// empty queue, or was the oldest waiting when handed the lead), so it is
// in the batch.
func (db *DB) leadAudit(ctx context.Context, own *auditItem) error {
	q := &db.auditq
	q.mu.Lock()
	batch := q.pending
	if len(batch) > maxAuditBatch {
		batch = batch[:maxAuditBatch:maxAuditBatch]
		q.pending = q.pending[maxAuditBatch:]
	} else {
		q.pending = nil
	}
	q.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	err := errTableClosed
	if q.table != nil {
		err = q.table.insert(ctx, batch)
	}
	if err == errTableClosed {
		err = db.Record(ctx, func(tx store.Tx) error {
			c, ok := tx.(*conn)
			if !ok {
				return errors.New("sqldb: audit block outside an sqldb transaction")
			}
			return c.appendBlock(batch)
		})
	}
	for _, it := range batch {
		if it != own {
			it.done <- err
		}
	}
	q.mu.Lock()
	if len(q.pending) > 0 {
		q.pending[0].done <- errLead // still pending: the new leader takes it
	} else {
		q.busy = false
	}
	q.mu.Unlock()
	return err
}

// AppendAuditBatch appends entries, in order, as one block in one durable
// write, setting their Seq: for work that produces many entries at once.
func (db *DB) AppendAuditBatch(ctx context.Context, entries []*audit.Entry) error {
	items := make([]*auditItem, len(entries))
	for i, e := range entries {
		items[i] = newAuditItem(e)
	}
	return db.Write(ctx, func(tx store.Tx) error {
		c, ok := tx.(*conn)
		if !ok {
			return errors.New("sqldb: audit block outside an sqldb transaction")
		}
		return c.appendBlock(items)
	})
}
