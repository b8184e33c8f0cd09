package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/custodian-him/custodian/audit"
)

// Audit implements store.Tx: it appends e to the chained trail in this
// transaction, setting e.Seq.
func (c *conn) Audit(_ context.Context, e *audit.Entry) error {
	if c.db.dialect.Lock != nil {
		// Appends must not interleave between the read of the last hash and
		// the insert, across processes.
		if err := c.db.dialect.Lock(c.ctx, c.tx, "audit_log"); err != nil {
			return err
		}
	}
	// The end of the chain: read once per transaction, then carried along
	// as this transaction appends (a group commit appends many).
	if !c.chainKnown {
		err := c.queryRow(`SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&c.chainSeq, &c.chainHash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return translate(err)
		}
		c.chainKnown = true
	}
	e.Seq = c.chainSeq + 1
	body := e.Canonical()
	hash := audit.ChainHash(c.chainHash, body)
	bg := 0
	if e.BreakGlass {
		bg = 1
	}
	if _, err := c.exec(`INSERT INTO audit_log (seq, ts, action, actor, break_glass, body, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.Time.UnixMilli(), e.Action, e.Actor, bg, body, hash); err != nil {
		return err
	}
	c.chainSeq, c.chainHash = e.Seq, hash
	for _, p := range uniq(e.Patients) {
		if _, err := c.exec(`INSERT INTO audit_patient (patient, seq) VALUES (?, ?)`, p, e.Seq); err != nil {
			return err
		}
	}
	return nil
}

func uniq(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0:0]
	for _, v := range s {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// MaxAuditSeq implements audit.Scanner.
func (db *DB) MaxAuditSeq(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	err := db.readDB.QueryRowContext(ctx, `SELECT max(seq) FROM audit_log`).Scan(&n)
	return n.Int64, translate(err)
}

// ScanAudit implements audit.Scanner: rows with seq in [from, to), to 0
// meaning to the end.
func (db *DB) ScanAudit(ctx context.Context, from, to int64, fn func(audit.Row) error) error {
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
		// RawBytes would avoid copies but must not outlive Next; fn copies
		// what it keeps.
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

// FindAudit returns the entries matching f, newest first.
func (db *DB) FindAudit(ctx context.Context, f audit.Filter) ([]*audit.Entry, error) {
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
	if f.Before > 0 {
		where = append(where, "a.seq < ?")
		args = append(args, f.Before)
	}
	q := "SELECT a.body FROM " + from
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += " ORDER BY a.seq DESC LIMIT ?"
	args = append(args, limit)
	rows, err := db.readDB.QueryContext(ctx, db.dialect.rebind(q), args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []*audit.Entry
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, translate(err)
		}
		e, err := audit.Parse(body)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, translate(rows.Err())
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
