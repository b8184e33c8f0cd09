package sqldb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"hash"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/custodian-him/custodian/audit"
)

// Audit implements store.Tx: it appends e to the chained trail in this
// transaction, as a block of its own, setting e.Seq.
func (c *conn) Audit(_ context.Context, e *audit.Entry) error {
	if c.holdAudit {
		c.heldAudit = append(c.heldAudit, newAuditItem(e))
		return nil
	}
	return c.appendBlock([]*auditItem{newAuditItem(e)})
}

// appendBlock appends items to the chain as blocks (see migration 0007),
// maxAuditBatch entries at most each, with their key rows, setting the Seq
// of entries that have one.
func (c *conn) appendBlock(items []*auditItem) error {
	for len(items) > maxAuditBatch {
		if err := c.appendOneBlock(items[:maxAuditBatch]); err != nil {
			return err
		}
		items = items[maxAuditBatch:]
	}
	return c.appendOneBlock(items)
}

func (c *conn) appendOneBlock(items []*auditItem) error {
	if len(items) == 0 {
		return nil
	}
	if err := c.chainEnd(); err != nil {
		return err
	}
	// The block's buffers are used again by the next block: a busy server
	// appends a block of thousands of entries every journalEvery, and new
	// buffers each time were most of what appending allocated.
	sc := blockScratchPool.Get().(*blockScratch)
	defer sc.put()
	size := 0
	for _, it := range items {
		size += len(it.tail) + 24
	}
	body := slices.Grow(sc.body[:0], size)
	hashes := slices.Grow(sc.hashes[:0], sha256.Size*(len(items)-1))
	keys := sc.keys
	seq, prev := c.chainSeq, c.chainHash
	var sum [sha256.Size]byte
	h := sc.hash
	tsMin, tsMax := int64(math.MaxInt64), int64(math.MinInt64)
	for i, it := range items {
		seq++
		start := len(body)
		body = audit.AppendWithSeq(body, seq, it.tail)
		h.Reset()
		h.Write(prev)
		h.Write(body[start:])
		prev = h.Sum(sum[:0])
		body = append(body, '\n')
		if i < len(items)-1 {
			hashes = append(hashes, prev...)
		}
		tsMin, tsMax = min(tsMin, it.ts), max(tsMax, it.ts)
		if it.keys != nil { // taken from audit_pending
			for _, k := range it.keys {
				keys.add(k, "")
			}
		} else {
			it.k.each(keys.add)
		}
	}
	sc.body, sc.hashes = body, hashes
	if hashes == nil {
		hashes = []byte{} // a one-entry block: none, which is not NULL
	}
	first := c.chainSeq + 1
	last := append([]byte(nil), prev...)
	stored := body
	if len(items) >= blockPackMin {
		sc.packed = packInto(sc.packed[:0], body)
		stored = sc.packed
	}
	if _, err := c.exec(`INSERT INTO audit_block (first_seq, last_seq, ts_min, ts_max, hash, hashes, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		first, seq, tsMin, tsMax, last, hashes, stored); err != nil {
		return err
	}
	if err := c.insertKeys(first, keys.m); err != nil {
		return err
	}
	for i, it := range items {
		if it.e != nil {
			it.e.Seq = first + int64(i)
		}
	}
	c.chainSeq, c.chainHash = seq, last
	return nil
}

// blockScratch is the space appendOneBlock works in. The statements copy
// their arguments (both drivers do, before Exec returns), so the space is
// free again once the block is inserted.
type blockScratch struct {
	body, hashes, packed []byte
	keys                 *keySet
	hash                 hash.Hash
}

var blockScratchPool = sync.Pool{New: func() any {
	return &blockScratch{keys: newKeySet(maxAuditBatch), hash: sha256.New()}
}}

// put returns sc to the pool, unless a block of unusual size grew it
// (then it goes, rather than holding that much for good).
func (sc *blockScratch) put() {
	if cap(sc.body) > 4<<20 || cap(sc.packed) > 4<<20 {
		return
	}
	sc.keys.reset()
	blockScratchPool.Put(sc)
}

// chainEnd reads the end of the chain once per transaction (under the
// engine's lock, so appends of other processes cannot interleave); then
// it is carried along as the transaction appends.
func (c *conn) chainEnd() error {
	if c.chainKnown {
		return nil
	}
	if c.db.dialect.Lock != nil {
		if err := c.db.dialect.Lock(c.ctx, c.tx, "audit_log"); err != nil {
			return err
		}
	}
	err := c.queryRow(`SELECT last_seq, hash FROM audit_block ORDER BY first_seq DESC LIMIT 1`).Scan(&c.chainSeq, &c.chainHash)
	if errors.Is(err, sql.ErrNoRows) {
		// No block yet: the chain ends in the rows written before blocks.
		err = c.queryRow(`SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&c.chainSeq, &c.chainHash)
		if errors.Is(err, sql.ErrNoRows) {
			c.chainSeq, c.chainHash, err = 0, nil, nil
		}
	}
	if err != nil {
		return translate(err)
	}
	c.chainKnown = true
	return nil
}

// Key rows name what a block holds, for FindAudit (migration 0007).
const (
	keyPatient    = "p:"
	keyActor      = "a:"
	keyAction     = "x:"
	keyOutcome    = "o:"
	keyFailed     = "f"
	keyBreakGlass = "g"
)

// entryKeys is what an entry's key rows are made of, taken from the entry
// while its caller has it at hand: the journal keeps this, not the entry,
// until the entry reaches the chain.
type entryKeys struct {
	actor, action, outcome string
	patients               []string
	breakGlass             bool
}

func keysOf(e *audit.Entry) entryKeys {
	return entryKeys{actor: e.Actor, action: e.Action, outcome: e.Outcome, patients: e.Patients, breakGlass: e.BreakGlass}
}

// each calls add(prefix, value) for each key row the entry belongs under;
// the key is prefix+value.
func (k *entryKeys) each(add func(prefix, value string)) {
	for _, p := range k.patients {
		if p != "" {
			add(keyPatient, p)
		}
	}
	add(keyActor, k.actor)
	add(keyAction, k.action)
	if k.outcome != "success" {
		add(keyOutcome, k.outcome)
		add(keyFailed, "")
	}
	if k.breakGlass {
		add(keyBreakGlass, "")
	}
}

// forKeys calls add(prefix, value) for each key row e belongs under.
func forKeys(e *audit.Entry, add func(prefix, value string)) {
	k := keysOf(e)
	k.each(add)
}

// keySet gathers the distinct key rows of a block, making a string only
// for a key not seen before (a block of a thousand reads by one user has
// one actor key, not a thousand). The actor and action of an entry are
// most often those of the entry before it: those are recognised without
// looking in the map.
type keySet struct {
	m    map[string]struct{}
	buf  []byte
	last [2]string // the last actor and action added
	seen [2]bool
}

func newKeySet(entries int) *keySet {
	return &keySet{m: make(map[string]struct{}, min(2*entries, 256)+4)}
}

// reset empties k for the next block, keeping its space.
func (k *keySet) reset() {
	clear(k.m)
	k.seen = [2]bool{}
	k.last = [2]string{}
}

func (k *keySet) add(prefix, value string) {
	i := -1
	switch prefix {
	case keyActor:
		i = 0
	case keyAction:
		i = 1
	}
	if i >= 0 {
		if k.seen[i] && k.last[i] == value {
			return
		}
		k.last[i], k.seen[i] = value, true
	}
	k.buf = append(append(k.buf[:0], prefix...), value...)
	if _, ok := k.m[string(k.buf)]; !ok {
		k.m[string(k.buf)] = struct{}{}
	}
}

// keyChunks are the row counts of the multi-row key inserts: a block's
// keys go in chunks of these sizes, largest first, so few statement
// shapes exist.
var keyChunks = []int{64, 16, 4, 1}

var keyInserts = func() map[int]string {
	m := map[int]string{}
	for _, n := range keyChunks {
		m[n] = `INSERT INTO audit_key (key, block) VALUES ` + strings.Repeat(`(?, ?), `, n-1) + `(?, ?)`
	}
	return m
}()

func (c *conn) insertKeys(block int64, keys map[string]struct{}) error {
	list := make([]string, 0, len(keys))
	for k := range keys {
		list = append(list, k)
	}
	slices.Sort(list) // in index order: each insert lands next to the last

	args := make([]any, 0, 2*keyChunks[0])
	for _, n := range keyChunks {
		for len(list) >= n {
			args = args[:0]
			for _, k := range list[:n] {
				args = append(args, k, block)
			}
			if _, err := c.exec(keyInserts[n], args...); err != nil {
				return err
			}
			list = list[n:]
		}
	}
	return nil
}

// GrantBreakGlass implements store.Tx.
func (c *conn) GrantBreakGlass(_ context.Context, actor, patient, reason string, starts, ends time.Time) error {
	_, err := c.tx.ExecContext(c.ctx, c.q(`INSERT INTO break_glass (actor, patient, reason, starts, ends) VALUES (?, ?, ?, ?, ?)`),
		actor, patient, reason, starts.UnixMilli(), ends.UnixMilli())
	return translate(err)
}

// BreakGlass implements store.Reader: the patients whose sensitive records
// actor may see at now, with the reason given for each.
func (c *conn) BreakGlass(_ context.Context, actor string, now time.Time) (map[string]string, error) {
	rows, err := c.query(`SELECT patient, reason FROM break_glass WHERE actor = ? AND ends > ? AND starts <= ?`,
		actor, now.UnixMilli(), now.UnixMilli())
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var p, reason string
		if err := rows.Scan(&p, &reason); err != nil {
			return nil, translate(err)
		}
		out[p] = reason
	}
	return out, translate(rows.Err())
}
