package sqldb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/custodian-him/custodian/audit"
)

// Audit implements store.Tx: it appends e to the chained trail in this
// transaction, as a block of its own, setting e.Seq.
func (c *conn) Audit(_ context.Context, e *audit.Entry) error {
	return c.appendBlock([]*auditItem{{e: e, tail: audit.CanonicalTail(e)}})
}

// appendBlock appends items to the chain as one block row (see migration
// 0007) with its key rows, setting each entry's Seq.
func (c *conn) appendBlock(items []*auditItem) error {
	if len(items) == 0 {
		return nil
	}
	if err := c.chainEnd(); err != nil {
		return err
	}
	size := 0
	for _, it := range items {
		size += len(it.tail) + 24
	}
	body := make([]byte, 0, size)
	hashes := make([]byte, 0, sha256.Size*(len(items)-1))
	keys := make(map[string]struct{}, 2*len(items)+4)
	seq, prev := c.chainSeq, c.chainHash
	var sum [sha256.Size]byte
	h := sha256.New()
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
		e := it.e
		ts := e.Time.UnixMilli()
		tsMin, tsMax = min(tsMin, ts), max(tsMax, ts)
		addKeys(keys, e)
	}
	first := c.chainSeq + 1
	last := append([]byte(nil), prev...)
	if _, err := c.exec(`INSERT INTO audit_block (first_seq, last_seq, ts_min, ts_max, hash, hashes, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		first, seq, tsMin, tsMax, last, hashes, body); err != nil {
		return err
	}
	if err := c.insertKeys(first, keys); err != nil {
		return err
	}
	for i, it := range items {
		it.e.Seq = first + int64(i)
	}
	c.chainSeq, c.chainHash = seq, last
	return nil
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

func addKeys(keys map[string]struct{}, e *audit.Entry) {
	for _, p := range e.Patients {
		if p != "" {
			keys[keyPatient+p] = struct{}{}
		}
	}
	keys[keyActor+e.Actor] = struct{}{}
	keys[keyAction+e.Action] = struct{}{}
	if e.Outcome != "success" {
		keys[keyOutcome+e.Outcome] = struct{}{}
		keys[keyFailed] = struct{}{}
	}
	if e.BreakGlass {
		keys[keyBreakGlass] = struct{}{}
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
