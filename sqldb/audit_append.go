package sqldb

import (
	"context"
	"errors"
	"sync"

	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/store"
)

// maxAuditBatch bounds how many entries one block holds.
const maxAuditBatch = 1024

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
}

// auditItem is one entry waiting to be appended.
type auditItem struct {
	e    *audit.Entry
	tail []byte // audit.CanonicalTail(e), computed by the caller
	done chan error
}

// errLead tells a waiting caller that it is to lead the next block.
var errLead = errors.New("sqldb: lead the next audit block")

// AppendAudit appends e to the audit trail and returns once it has
// committed, sharing the commit (and the block) with the entries of other
// callers appending at the same time. With durable set the commit waits
// for the disk (as a write does); otherwise it is a Record commit (see
// Record for what survives what). It sets e.Seq.
func (db *DB) AppendAudit(ctx context.Context, e *audit.Entry, durable bool) error {
	if durable {
		return db.Write(ctx, func(tx store.Tx) error { return tx.Audit(ctx, e) })
	}
	it := &auditItem{e: e, tail: audit.CanonicalTail(e), done: make(chan error, 1)}
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

// leadAudit commits what is waiting as one block, then hands the lead to
// the oldest caller that arrived meanwhile, if any. The leader's own entry
// is always the first waiting (a caller leads only when it arrived to an
// empty queue, or was the oldest waiting when handed the lead), so it is
// in the block.
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
	err := db.Record(context.WithoutCancel(ctx), func(tx store.Tx) error {
		c, ok := tx.(*conn)
		if !ok {
			return errors.New("sqldb: audit block outside an sqldb transaction")
		}
		return c.appendBlock(batch)
	})
	var ownErr error
	for _, it := range batch {
		if it == own {
			ownErr = err
			continue
		}
		it.done <- err
	}
	q.mu.Lock()
	if len(q.pending) > 0 {
		q.pending[0].done <- errLead // still pending: the new leader takes it
	} else {
		q.busy = false
	}
	q.mu.Unlock()
	return ownErr
}

// AppendAuditBatch appends entries, in order, as one block in one durable
// write, setting their Seq: for work that produces many entries at once.
func (db *DB) AppendAuditBatch(ctx context.Context, entries []*audit.Entry) error {
	items := make([]*auditItem, len(entries))
	for i, e := range entries {
		items[i] = &auditItem{e: e, tail: audit.CanonicalTail(e)}
	}
	return db.Write(ctx, func(tx store.Tx) error {
		c, ok := tx.(*conn)
		if !ok {
			return errors.New("sqldb: audit block outside an sqldb transaction")
		}
		return c.appendBlock(items)
	})
}
