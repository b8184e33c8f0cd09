package sqldb

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"strings"

	"github.com/custodian-him/custodian/audit"
)

// FindAudit returns the entries matching f, newest first: from the blocks
// (through the key rows of the most selective condition, or all blocks
// newest first), then, if the limit is not reached, from the rows written
// before blocks.
func (db *DB) FindAudit(ctx context.Context, f audit.Filter) ([]*audit.Entry, error) {
	if err := db.syncAudit(ctx); err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	before := f.Before
	if before <= 0 {
		before = math.MaxInt64
	}
	out, err := db.findBlocks(ctx, f, before, limit)
	if err != nil || len(out) >= limit {
		return out, err
	}
	var firstBlock sql.NullInt64
	if err := db.readDB.QueryRowContext(ctx, `SELECT min(first_seq) FROM audit_block`).Scan(&firstBlock); err != nil {
		return nil, translate(err)
	}
	if firstBlock.Valid {
		before = min(before, firstBlock.Int64)
	}
	old, err := db.findLegacy(ctx, f, before, limit-len(out))
	return append(out, old...), err
}

// drivingKey picks the key row that narrows f's blocks most, "" for none.
func drivingKey(f audit.Filter) string {
	switch {
	case f.Patient != "":
		return keyPatient + f.Patient
	case f.Actor != "":
		return keyActor + f.Actor
	case f.BreakGlass:
		return keyBreakGlass
	case f.Outcome != "" && f.Outcome != "success":
		return keyOutcome + f.Outcome
	case f.Failed:
		return keyFailed
	case f.Action != "":
		return keyAction + f.Action
	}
	return ""
}

func (db *DB) findBlocks(ctx context.Context, f audit.Filter, before int64, limit int) ([]*audit.Entry, error) {
	low := int64(0)
	if !f.Since.IsZero() {
		// Blocks before the first one with an entry at or after Since hold
		// nothing to find.
		var n sql.NullInt64
		err := db.readDB.QueryRowContext(ctx, db.dialect.rebind(`SELECT min(first_seq) FROM audit_block WHERE ts_max >= ?`), f.Since.UnixMilli()).Scan(&n)
		if err != nil {
			return nil, translate(err)
		}
		if !n.Valid {
			return nil, nil
		}
		low = n.Int64
	}
	m := newMatcher(f)
	var out []*audit.Entry
	for cursor := before; len(out) < limit; {
		bodies, next, err := db.blockPage(ctx, f, cursor, low)
		if err != nil {
			return nil, err
		}
		for _, body := range bodies {
			// Newest first: the block's lines from the end.
			body = bytes.TrimSuffix(body, []byte{'\n'})
			for len(body) > 0 && len(out) < limit {
				var line []byte
				if i := bytes.LastIndexByte(body, '\n'); i >= 0 {
					line, body = body[i+1:], body[:i]
				} else {
					line, body = body, nil
				}
				// Below the cursor only: a block sealed since the last
				// page may begin below it and hold entries already seen.
				e, err := m.match(line, cursor)
				if err != nil {
					return nil, err
				}
				if e != nil {
					out = append(out, e)
				}
			}
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	return out, nil
}

// blockHolding is the first position of the block that now holds the
// entry at a position (the parameter): low is the first position of a
// block when FindAudit begins, and a seal (audit_seal.go) may since have
// merged that block into one that begins earlier.
const blockHolding = `coalesce((SELECT max(first_seq) FROM audit_block WHERE first_seq <= ?), 0)`

// blocksPerPage is how many blocks FindAudit reads per query: a query
// without a limit would make PostgreSQL send every matching block.
const blocksPerPage = 16

// blockPage reads the bodies of up to blocksPerPage blocks that may hold
// entries matching f, below cursor and from low, newest first, and the
// cursor of the next page (0 at the end).
func (db *DB) blockPage(ctx context.Context, f audit.Filter, cursor, low int64) ([][]byte, int64, error) {
	var q string
	var args []any
	if key := drivingKey(f); key != "" {
		q = `SELECT b.first_seq, b.body FROM audit_key k JOIN audit_block b ON b.first_seq = k.block
			WHERE k.key = ? AND k.block < ? AND k.block >= ` + blockHolding
		args = []any{key, cursor, low}
	} else {
		q = `SELECT b.first_seq, b.body FROM audit_block b WHERE b.first_seq < ? AND b.first_seq >= ` + blockHolding
		args = []any{cursor, low}
	}
	if !f.Until.IsZero() {
		q += ` AND b.ts_min < ?`
		args = append(args, f.Until.UnixMilli())
	}
	q += ` ORDER BY b.first_seq DESC LIMIT ?`
	args = append(args, blocksPerPage)
	rows, err := db.readDB.QueryContext(ctx, db.dialect.rebind(q), args...)
	if err != nil {
		return nil, 0, translate(err)
	}
	defer rows.Close()
	var bodies [][]byte
	var first int64
	for rows.Next() {
		var stored []byte
		if err := rows.Scan(&first, &stored); err != nil {
			return nil, 0, translate(err)
		}
		body, err := unpackBlock(stored, nil)
		if err != nil {
			return nil, 0, err
		}
		bodies = append(bodies, body)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, translate(err)
	}
	if len(bodies) < blocksPerPage {
		first = 0
	}
	return bodies, first, nil
}

// matcher tests an entry's canonical bytes against a filter, reading the
// whole entry only when cheap byte tests pass.
type matcher struct {
	f       audit.Filter
	needs   [][]byte // byte strings a matching entry must contain
	success bool     // f.Failed: a matching entry's outcome is not "success"
}

func newMatcher(f audit.Filter) *matcher {
	m := &matcher{f: f}
	quoted := func(s string) []byte {
		b, _ := json.Marshal(s) // a string always marshals
		return b
	}
	if f.Patient != "" {
		m.needs = append(m.needs, quoted(f.Patient))
	}
	if f.Actor != "" {
		m.needs = append(m.needs, append([]byte(`"actor":`), quoted(f.Actor)...))
	}
	if f.Action != "" {
		m.needs = append(m.needs, append([]byte(`"action":`), quoted(f.Action)...))
	}
	if f.Outcome != "" {
		m.needs = append(m.needs, append([]byte(`"outcome":`), quoted(f.Outcome)...))
	}
	m.success = f.Failed
	return m
}

// successful is how the canonical bytes of an entry that succeeded record
// it (a string value cannot hold these bytes: its quotes are escaped).
var successful = []byte(`"outcome":"success"`)

func (m *matcher) match(line []byte, before int64) (*audit.Entry, error) {
	if seq, ok := lineSeq(line); ok && seq >= before {
		return nil, nil
	}
	for _, n := range m.needs {
		if !bytes.Contains(line, n) {
			return nil, nil
		}
	}
	if m.success && bytes.Contains(line, successful) {
		return nil, nil
	}
	e, err := audit.Parse(line)
	if err != nil {
		return nil, err
	}
	if e.Seq >= before || !m.f.Match(e) {
		return nil, nil
	}
	return e, nil
}

// findLegacy searches the entries written before blocks (audit_log and
// audit_patient, one row each).
func (db *DB) findLegacy(ctx context.Context, f audit.Filter, before int64, limit int) ([]*audit.Entry, error) {
	var where []string
	var args []any
	from := "audit_log a"
	if f.Patient != "" {
		from = "audit_patient p JOIN audit_log a ON a.seq = p.seq"
		where = append(where, "p.patient = ?")
		args = append(args, f.Patient)
	}
	if f.Actor != "" {
		where = append(where, "a.actor = ?")
		args = append(args, f.Actor)
	}
	if f.Action != "" {
		where = append(where, "a.action = ?")
		args = append(args, f.Action)
	}
	if !f.Since.IsZero() {
		where = append(where, "a.ts >= ?")
		args = append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where = append(where, "a.ts < ?")
		args = append(args, f.Until.UnixMilli())
	}
	if f.BreakGlass {
		where = append(where, "a.break_glass = 1")
	}
	where = append(where, "a.seq < ?")
	q := "SELECT a.seq, a.body FROM " + from + " WHERE " + strings.Join(where, " AND ") + " ORDER BY a.seq DESC LIMIT ?"
	q = db.dialect.rebind(q)
	// Conditions that are not columns (outcome, "failed") are tested on
	// the bytes first: parsing every row of a period is what made the
	// privacy officer's dashboard slow in a store with many such rows.
	m := newMatcher(f)
	var out []*audit.Entry
	for cursor := before; len(out) < limit; {
		rows, err := db.readDB.QueryContext(ctx, q, append(args, cursor, legacyPage)...)
		if err != nil {
			return nil, translate(err)
		}
		n := 0
		for rows.Next() {
			var body []byte
			if err := rows.Scan(&cursor, &body); err != nil {
				rows.Close()
				return nil, translate(err)
			}
			n++
			if len(out) >= limit {
				continue
			}
			e, err := m.match(body, before)
			if err != nil {
				rows.Close()
				return nil, err
			}
			if e != nil {
				out = append(out, e)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, translate(err)
		}
		if n < legacyPage {
			break
		}
	}
	return out, nil
}

// legacyPage is how many rows before blocks FindAudit reads per query.
const legacyPage = 256
