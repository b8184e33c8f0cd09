package sqldb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"

	"github.com/custodian-him/custodian/audit"
)

// MaxAuditSeq implements audit.Scanner.
// Entries still in this process's journal are appended to the chain
// first, so a Verify that follows sees every read answered before it.
func (db *DB) MaxAuditSeq(ctx context.Context) (int64, error) {
	if err := db.syncAudit(ctx); err != nil {
		return 0, err
	}
	var n int64
	err := db.readDB.QueryRowContext(ctx, `SELECT last_seq FROM audit_block ORDER BY first_seq DESC LIMIT 1`).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		var legacy sql.NullInt64
		err = db.readDB.QueryRowContext(ctx, `SELECT max(seq) FROM audit_log`).Scan(&legacy)
		n = legacy.Int64
	}
	return n, translate(err)
}

// ScanAudit implements audit.Scanner: entries with seq in [from, to), to
// 0 meaning to the end — first those written before blocks (audit_log),
// then the blocks'. An entry's position is the one its bytes record
// (they begin with it), so an entry removed from or added to a block
// shows as a gap or a repeat in the positions; its stored hash is the
// block's hashes in line order, the last one in the hash column.
func (db *DB) ScanAudit(ctx context.Context, from, to int64, fn func(audit.Row) error) error {
	if err := db.scanLegacy(ctx, from, to, fn); err != nil {
		return err
	}
	q := `SELECT first_seq, hash, hashes, body FROM audit_block
		WHERE first_seq >= coalesce((SELECT max(first_seq) FROM audit_block WHERE first_seq <= ?), 0)`
	args := []any{from}
	if to > 0 {
		q += ` AND first_seq < ?`
		args = append(args, to)
	}
	rows, err := db.readDB.QueryContext(ctx, db.dialect.rebind(q+` ORDER BY first_seq`), args...)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	var buf []byte
	for rows.Next() {
		// RawBytes would save copies but must not outlive Next; the rows
		// handed to fn do not outlive it either.
		var first int64
		var last, hashes, stored sql.RawBytes
		if err := rows.Scan(&first, &last, &hashes, &stored); err != nil {
			return translate(err)
		}
		body, err := unpackBlock(stored, buf)
		if err != nil {
			// A damaged frame: its first entry is handed over as the
			// stored bytes, which do not hash to its hash.
			if first >= from && (to <= 0 || first < to) {
				if err := fn(audit.Row{Seq: first, Body: stored, Hash: last}); err != nil {
					return err
				}
			}
			continue
		}
		if bytes.HasPrefix(stored, zstdMagic) {
			buf = body // its space serves the next frame
		}
		if err := scanBlock(first, last, hashes, body, from, to, fn); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}

// scanBlock calls fn with the entries of one block in [from, to).
func scanBlock(first int64, last, hashes, body []byte, from, to int64, fn func(audit.Row) error) error {
	if len(hashes) == 0 && bytes.IndexByte(body, '\n') >= len(body)-1 {
		// One entry (a write's block): no lines to count.
		line := bytes.TrimSuffix(body, []byte{'\n'})
		seq, ok := lineSeq(line)
		if !ok {
			seq = first
		}
		if seq < from || (to > 0 && seq >= to) {
			return nil
		}
		return fn(audit.Row{Seq: seq, Body: line, Hash: last})
	}
	n := bytes.Count(body, []byte{'\n'})
	if len(body) > 0 && body[len(body)-1] != '\n' {
		n++ // a last line without its newline is still an entry
	}
	for i := 0; len(body) > 0; i++ {
		line, rest, _ := bytes.Cut(body, []byte{'\n'})
		body = rest
		seq, ok := lineSeq(line)
		if !ok {
			seq = first + int64(i) // Verify finds the bytes do not match it
		}
		if seq < from || (to > 0 && seq >= to) {
			continue
		}
		r := audit.Row{Seq: seq, Body: line}
		switch {
		case i == n-1:
			r.Hash = last
		case (i+1)*sha256.Size <= len(hashes):
			r.Hash = hashes[i*sha256.Size : (i+1)*sha256.Size]
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// lineSeq reads the position an entry's canonical bytes begin with.
func lineSeq(line []byte) (int64, bool) {
	rest, ok := bytes.CutPrefix(line, []byte(`{"seq":`))
	if !ok {
		return 0, false
	}
	var n int64
	for i, c := range rest {
		switch {
		case c == ',' && i > 0:
			return n, true
		case c < '0' || c > '9' || i >= 18 || (i == 1 && rest[0] == '0'):
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return 0, false
}

// scanLegacy reads the entries written before blocks, one row each.
func (db *DB) scanLegacy(ctx context.Context, from, to int64, fn func(audit.Row) error) error {
	q, args := `SELECT seq, body, hash FROM audit_log WHERE seq >= ? ORDER BY seq`, []any{from}
	if to > 0 {
		q, args = `SELECT seq, body, hash FROM audit_log WHERE seq >= ? AND seq < ? ORDER BY seq`, []any{from, to}
	}
	rows, err := db.readDB.QueryContext(ctx, db.dialect.rebind(q), args...)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	var r audit.Row
	for rows.Next() {
		var body, hash sql.RawBytes
		if err := rows.Scan(&r.Seq, &body, &hash); err != nil {
			return translate(err)
		}
		r.Body, r.Hash = body, hash
		if err := fn(r); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}
