package sqldb

import (
	"context"

	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/store"
)

// SetJournalSegmentSize makes new audit journal files n bytes long, for
// tests of a journal that moves to its next file; it returns what restores
// the size.
func SetJournalSegmentSize(n int64) (restore func()) {
	old := segmentSize
	segmentSize = n
	return func() { segmentSize = old }
}

// JournalFiles returns how many files db's audit journal has begun, and
// whether it still takes entries (0, false without a journal).
func JournalFiles(db *DB) (int64, bool) {
	j := db.journal
	if j == nil {
		return 0, false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.cur.seq, j.err == nil
}

// EncodePending returns the audit_pending row a node writes for entries.
func EncodePending(entries []*audit.Entry) []byte {
	items := make([]*auditItem, len(entries))
	for i, e := range entries {
		items[i] = newAuditItem(e)
	}
	return encodePending(items)
}

// DecodePending returns the entries an audit_pending row holds.
func DecodePending(body []byte) ([]*audit.Entry, error) {
	items, err := decodePending(body)
	if err != nil {
		return nil, err
	}
	out := make([]*audit.Entry, len(items))
	for i, it := range items {
		if out[i], err = audit.Parse(audit.AppendWithSeq(nil, 0, it.tail)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// AppendAuditBlocks appends entries to db's trail as one block each, all
// in one transaction, as writers working one at a time leave them.
func AppendAuditBlocks(db *DB, entries []*audit.Entry) error {
	return db.Record(context.Background(), func(tx store.Tx) error {
		c := tx.(*conn)
		for _, e := range entries {
			if err := c.appendBlock([]*auditItem{newAuditItem(e)}); err != nil {
				return err
			}
		}
		return nil
	})
}

// JournalSynced returns how many entries db's audit journal has taken and
// how many of them it has made durable with a sync of its files.
func JournalSynced(db *DB) (written, synced int64) {
	j := db.journal
	if j == nil {
		return 0, 0
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.written, j.synced
}
