package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// conn is a transaction seen as a store.Tx.
type conn struct {
	db    *DB
	tx    *sql.Tx
	ctx   context.Context      // the transaction's own context; statements use it
	stmts map[string]*sql.Stmt // statements prepared in a write transaction; nil for reads
	// writer marks the transaction of the writer goroutine, whose
	// statements outlive it (stmt.go).
	writer bool

	// The end of the audit chain as this transaction sees it (audit.go).
	chainKnown bool
	chainSeq   int64
	chainHash  []byte
}

func (c *conn) q(query string) string { return c.db.dialect.rebind(query) }

const versionColumns = `r.type, r.id, v.version, v.ts, v.method, v.author, v.body, r.compartment`

const (
	currentQuery = `SELECT ` + versionColumns + ` FROM resources r JOIN versions v ON v.rid = r.rid AND v.version = r.version
		WHERE r.type = ? AND r.id = ?`
	versionQuery = `SELECT ` + versionColumns + ` FROM resources r JOIN versions v ON v.rid = r.rid AND v.version = ?
		WHERE r.type = ? AND r.id = ?`
)

func scanVersion(sc interface{ Scan(...any) error }, extra ...any) (*store.Resource, error) {
	var r store.Resource
	var ts int64
	var method string
	dest := append([]any{&r.Type, &r.ID, &r.VersionID, &ts, &method, &r.Author, &r.Body, &r.Compartment}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	r.LastUpdated = time.UnixMilli(ts).UTC()
	r.Method = store.Method(method)
	r.Deleted = r.Body == nil
	if !r.Deleted {
		var err error
		if r.Body, err = defaultCodec.unpack(r.Body); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

// Current implements store.Reader.
func (c *conn) Current(_ context.Context, typ, id string) (*store.Resource, error) {
	row := c.queryRow(currentQuery, typ, id)
	r, err := scanVersion(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "%s/%s does not exist", typ, id)
	}
	return r, translate(err)
}

// Version implements store.Reader.
func (c *conn) Version(_ context.Context, typ, id string, vid int64) (*store.Resource, error) {
	row := c.queryRow(versionQuery, vid, typ, id)
	r, err := scanVersion(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "%s/%s has no version %d", typ, id, vid)
	}
	return r, translate(err)
}

// Lock implements store.Tx.
func (c *conn) Lock(_ context.Context, key string) error {
	if c.db.dialect.Lock == nil {
		return nil
	}
	return translate(c.db.dialect.Lock(c.ctx, c.tx, key))
}

// Put implements store.Tx.
func (c *conn) Put(_ context.Context, r *store.Resource, index []store.IndexEntry) error {
	deleted := 0
	if r.Deleted {
		deleted = 1
	}
	sensitive := 0
	if r.Sensitive {
		sensitive = 1
	}
	ts := r.LastUpdated.UnixMilli()
	var rid int64
	if r.VersionID == 1 {
		err := c.queryRow(`INSERT INTO resources (type, id, version, ts, deleted, compartment, sensitive) VALUES (?, ?, 1, ?, ?, ?, ?)
			ON CONFLICT (type, id) DO NOTHING RETURNING rid`, r.Type, r.ID, ts, deleted, r.Compartment, sensitive).Scan(&rid)
		if errors.Is(err, sql.ErrNoRows) {
			return custodian.Errorf(custodian.ECONFLICT, "%s/%s was created by another write at the same time", r.Type, r.ID)
		} else if err != nil {
			return translate(err)
		}
	} else {
		err := c.queryRow(`UPDATE resources SET version = ?, ts = ?, deleted = ?, compartment = ?, sensitive = ?
			WHERE type = ? AND id = ? AND version = ? RETURNING rid`, r.VersionID, ts, deleted, r.Compartment, sensitive, r.Type, r.ID, r.VersionID-1).Scan(&rid)
		if errors.Is(err, sql.ErrNoRows) {
			return custodian.Errorf(custodian.ECONFLICT, "%s/%s was changed by another write at the same time", r.Type, r.ID)
		} else if err != nil {
			return translate(err)
		}
		if err := c.clearIndex(rid); err != nil {
			return err
		}
	}
	var body any
	if !r.Deleted {
		body = c.db.codec.pack(r.Body)
	}
	if _, err := c.exec(`INSERT INTO versions (rid, version, type, ts, method, author, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		rid, r.VersionID, r.Type, ts, string(r.Method), r.Author, body); err != nil {
		return err
	}
	return c.writeIndex(r.Type, rid, index)
}

var indexTables = []string{"idx_token", "idx_reference", "idx_date", "idx_string", "idx_uri", "idx_number", "idx_quantity", "idx_composite"}

func (c *conn) clearIndex(rid int64) error {
	for _, t := range indexTables {
		if _, err := c.exec(`DELETE FROM `+t+` WHERE rid = ?`, rid); err != nil {
			return err
		}
	}
	return nil
}

// indexInsert batches the rows of one index table into multi-row INSERTs.
type indexInsert struct {
	head string // INSERT INTO t (cols) VALUES
	cols int
	rows int
	args []any
}

func (c *conn) writeIndex(typ string, rid int64, index []store.IndexEntry) error {
	index = dropRepeated(typ, index)
	if len(index) == 0 {
		return nil
	}
	ins := map[store.ParamKind]*indexInsert{
		store.KindToken:     {head: `INSERT INTO idx_token (rid, pid, system, code) VALUES `, cols: 4},
		store.KindReference: {head: `INSERT INTO idx_reference (rid, pid, ref_type, ref_id) VALUES `, cols: 4},
		store.KindDate:      {head: `INSERT INTO idx_date (rid, pid, low, high) VALUES `, cols: 4},
		store.KindString:    {head: `INSERT INTO idx_string (rid, pid, value, exact) VALUES `, cols: 4},
		store.KindURI:       {head: `INSERT INTO idx_uri (rid, pid, value) VALUES `, cols: 3},
		store.KindNumber:    {head: `INSERT INTO idx_number (rid, pid, low, high) VALUES `, cols: 4},
		store.KindQuantity:  {head: `INSERT INTO idx_quantity (rid, pid, system, code, unit, low, high, ccode, clow, chigh) VALUES `, cols: 10},
		store.KindComposite: {head: `INSERT INTO idx_composite (rid, pid, system1, code1, system2, code2, low2, high2) VALUES `, cols: 8},
	}
	for _, e := range index {
		pid, ok := c.db.pid(typ, e.Param)
		if !ok {
			return custodian.Errorf(custodian.EINTERNAL, "search parameter %s.%s is not registered", typ, e.Param)
		}
		in := ins[e.Kind]
		if in == nil {
			continue // kinds without a table yet
		}
		in.rows++
		switch e.Kind {
		case store.KindToken:
			in.args = append(in.args, rid, pid, e.System, e.Code)
		case store.KindReference:
			in.args = append(in.args, rid, pid, e.RefType, e.RefID)
		case store.KindDate:
			in.args = append(in.args, rid, pid, e.Low, e.High)
		case store.KindString:
			in.args = append(in.args, rid, pid, e.Text, e.Code)
		case store.KindURI:
			in.args = append(in.args, rid, pid, e.Text)
		case store.KindNumber:
			in.args = append(in.args, rid, pid, e.NumLow, e.NumHigh)
		case store.KindQuantity:
			in.args = append(in.args, rid, pid, e.System, e.Code, e.Text, e.NumLow, e.NumHigh, e.CanonCode, e.CanonLow, e.CanonHigh)
		case store.KindComposite:
			in.args = append(in.args, rid, pid, e.System, e.Code, e.System2, e.Code2, e.NumLow, e.NumHigh)
		}
	}
	for _, in := range ins {
		for start := 0; start < in.rows; start += maxRowsPerInsert {
			n := min(maxRowsPerInsert, in.rows-start)
			var b strings.Builder
			b.WriteString(in.head)
			row := "(" + strings.Repeat("?, ", in.cols-1) + "?)"
			for i := 0; i < n; i++ {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(row)
			}
			// The tables are keyed by every column: a value a resource
			// has twice is stored once.
			b.WriteString(" ON CONFLICT DO NOTHING")
			args := in.args[start*in.cols : (start+n)*in.cols]
			if _, err := c.exec(b.String(), args...); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxRowsPerInsert keeps multi-row INSERTs below every engine's limit on
// bound parameters.
const maxRowsPerInsert = 250
