package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"
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
	// Index rows written but not inserted yet, by kind (writeIndex).
	pending  map[store.ParamKind]*pendingRows
	npending int

	// The end of the audit chain as this transaction sees it (audit.go).
	chainKnown bool
	// holdAudit is set for a group's transaction: Audit keeps the entries
	// in heldAudit, and the group appends them as one block just before it
	// commits (one chain row and lock per group, not per write).
	holdAudit bool
	heldAudit []*auditItem
	chainSeq  int64
	chainHash []byte
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
func (c *conn) Put(ctx context.Context, r *store.Resource, index []store.IndexEntry) error {
	return c.PutPacked(ctx, r, nil, nil, index)
}

// PackBody implements store.BodyPacker: the body as the versions table
// keeps it.
func (db *DB) PackBody(body []byte) []byte { return db.codec.pack(body) }

// PutPacked implements store.PackedTx: Put with the body already packed
// by PackBody (packed nil: packed here) and the index rows made by
// PackIndex (rows nil: made here from index).
func (c *conn) PutPacked(_ context.Context, r *store.Resource, packed []byte, rows any, index []store.IndexEntry) error {
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
		var err error
		if rid, err = c.insertResource(r.Type, r.ID, ts, deleted, r.Compartment, sensitive); err != nil {
			return err
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
		if packed == nil {
			packed = c.db.codec.pack(r.Body)
		}
		body = packed
	}
	if _, err := c.exec(`INSERT INTO versions (rid, version, type, ts, method, author, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		rid, r.VersionID, r.Type, ts, string(r.Method), r.Author, body); err != nil {
		return err
	}
	if ir, ok := rows.(*indexRows); ok && ir != nil && ir.typ == r.Type {
		return c.addIndexRows(rid, ir)
	}
	return c.writeIndex(r.Type, rid, index)
}

const insertResource = `INSERT INTO resources (type, id, version, ts, deleted, compartment, sensitive) VALUES (?, ?, 1, ?, ?, ?, ?)
	ON CONFLICT (type, id) DO NOTHING`

// insertResource adds the resources row of a new resource and returns its
// rid; ECONFLICT if the resource exists.
func (c *conn) insertResource(typ, id string, ts int64, deleted int, compartment string, sensitive int) (int64, error) {
	exists := func() error {
		return custodian.Errorf(custodian.ECONFLICT, "%s/%s was created by another write at the same time", typ, id)
	}
	if !c.db.dialect.LastInsertID {
		var rid int64
		err := c.queryRow(insertResource+` RETURNING rid`, typ, id, ts, deleted, compartment, sensitive).Scan(&rid)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, exists()
		}
		return rid, translate(err)
	}
	res, err := c.exec(insertResource, typ, id, ts, deleted, compartment, sensitive)
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, translate(err)
	} else if n == 0 {
		return 0, exists()
	}
	rid, err := res.LastInsertId()
	return rid, translate(err)
}

var indexTables = []string{"idx_tok", "idx_reference", "idx_date", "idx_string", "idx_uri", "idx_number", "idx_quantity", "idx_composite"}

func (c *conn) clearIndex(rid int64) error {
	if err := c.flushIndex(); err != nil {
		return err
	}
	for _, t := range indexTables {
		if _, err := c.exec(`DELETE FROM `+t+` WHERE rid = ?`, rid); err != nil {
			return err
		}
	}
	return nil
}

// indexTable is one index table's INSERT and the width of its rows.
type indexTable struct {
	head string // INSERT INTO t (cols) VALUES
	cols int
}

var indexInserts = map[store.ParamKind]indexTable{
	store.KindToken:     {`INSERT INTO idx_tok (rid, pid, sid, code) VALUES `, 4},
	store.KindReference: {`INSERT INTO idx_reference (rid, pid, ref_type, ref_id) VALUES `, 4},
	store.KindDate:      {`INSERT INTO idx_date (rid, pid, low, high) VALUES `, 4},
	store.KindString:    {`INSERT INTO idx_string (rid, pid, value, exact) VALUES `, 4},
	store.KindURI:       {`INSERT INTO idx_uri (rid, pid, value) VALUES `, 3},
	store.KindNumber:    {`INSERT INTO idx_number (rid, pid, low, high) VALUES `, 4},
	store.KindQuantity:  {`INSERT INTO idx_quantity (rid, pid, system, code, unit, low, high, ccode, clow, chigh) VALUES `, 10},
	store.KindComposite: {`INSERT INTO idx_composite (rid, pid, system1, code1, system2, code2, low2, high2) VALUES `, 8},
}

// pendingRows are index rows of one table waiting to be inserted.
type pendingRows struct {
	rows int
	args []any
}

// writeIndex adds the index rows of resource rid. They wait in the
// transaction until the write ends or a statement reads the index tables
// (flushIndex), so that a write of many resources inserts them in a few
// large statements: fewer statements to run, and on a client/server engine
// fewer round trips.
func (c *conn) writeIndex(typ string, rid int64, index []store.IndexEntry) error {
	ir, err := c.db.indexRows(typ, index, c.numberSystems)
	if err != nil {
		return err
	}
	return c.addIndexRows(rid, ir)
}

// indexRows are the index rows of one resource, made before its write
// (PackIndex) or in it (writeIndex): per table, the rows' values, each row
// starting with the resource's rid, which is known only once the resources
// row is in and is filled in then (addIndexRows).
type indexRows struct {
	typ   string
	kinds []kindRows
}

type kindRows struct {
	kind store.ParamKind
	rows int
	args []any // rows × the table's columns; each row's first is the rid
}

// kindOrder is the order in which indexRows lists the tables.
var kindOrder = []store.ParamKind{store.KindToken, store.KindReference, store.KindDate, store.KindString,
	store.KindURI, store.KindNumber, store.KindQuantity, store.KindComposite}

// PackIndex implements store.IndexPacker: the rows of index with their
// parameter and token system numbers resolved and their values laid out,
// so that the single writer only fills in the rid and inserts them. It
// returns nil if a parameter is not registered or a token system not
// numbered yet, leaving the write to report or number it.
func (db *DB) PackIndex(typ string, index []store.IndexEntry) any {
	ir, err := db.indexRows(typ, index, db.packSystems)
	if err != nil {
		return nil
	}
	return ir
}

// indexRows makes the rows of index, entries of a resource of type typ.
// Token systems missing from the cache are numbered by number.
func (db *DB) indexRows(typ string, index []store.IndexEntry, number func([]string) (map[string]int64, error)) (*indexRows, error) {
	index = dropRepeated(typ, index)
	ir, missing, err := db.layRows(typ, index, nil)
	if err == nil && len(missing) > 0 {
		var extra map[string]int64
		if extra, err = number(missing); err != nil {
			return nil, err
		}
		ir, missing, err = db.layRows(typ, index, extra)
		if err == nil && len(missing) > 0 {
			err = errSystemLost(missing[0])
		}
	}
	if err != nil {
		return nil, err
	}
	if !db.insertOnConflict() {
		for i := range ir.kinds {
			dropDuplicateRows(&ir.kinds[i])
		}
	}
	return ir, nil
}

// insertOnConflict reports whether index rows are inserted with ON
// CONFLICT DO NOTHING, so that a value a resource has twice is stored once.
// On SQLite, whose index tables are keyed by every column, a resource's
// rows are made unique beforehand (dropDuplicateRows) and inserted plainly:
// the conflict clause made each row's insert about 12% dearer in the single
// writer. PostgreSQL's idx_tok has no key, and its conflict clause is kept.
func (db *DB) insertOnConflict() bool { return db.dialect.Name != "sqlite" }

// dropDuplicateRows removes from kr the rows equal in every column to an
// earlier one (a code a resource has twice, say). Values are compared as
// Go values, which are equal exactly when SQLite's keys are: the columns
// hold int64, float64 and string values, each column always one of them,
// and TEXT compares bytewise. A resource has a few rows of a kind, so
// rows are compared pairwise; many go through a map.
func dropDuplicateRows(kr *kindRows) {
	cols := indexInserts[kr.kind].cols
	if kr.rows < 2 || cols > maxIndexCols {
		return
	}
	var seen map[[maxIndexCols]any]bool
	if kr.rows > 16 {
		seen = make(map[[maxIndexCols]any]bool, kr.rows)
	}
	kept := 0
	for r := 0; r < kr.rows; r++ {
		row := kr.args[r*cols : (r+1)*cols]
		dup := false
		if seen != nil {
			var k [maxIndexCols]any
			copy(k[:], row)
			dup = seen[k]
			seen[k] = true
		} else {
			for q := 0; q < kept && !dup; q++ {
				dup = slices.Equal(kr.args[q*cols:(q+1)*cols], row)
			}
		}
		if !dup {
			copy(kr.args[kept*cols:], row)
			kept++
		}
	}
	kr.args = kr.args[:kept*cols]
	kr.rows = kept
}

// maxIndexCols is the widest index table's number of columns.
const maxIndexCols = 10

// layRows lays out the rows of index, taking token system numbers from the
// cache or extra. It returns the systems found in neither (the rows are
// then incomplete).
func (db *DB) layRows(typ string, index []store.IndexEntry, extra map[string]int64) (*indexRows, []string, error) {
	ir := &indexRows{typ: typ}
	if len(index) == 0 {
		return ir, nil, nil
	}
	var counts [numIndexTables]int
	for _, e := range index {
		if k, ok := kindSlot[e.Kind]; ok {
			counts[k]++
		}
	}
	var byKind [numIndexTables]*kindRows
	for k, n := range counts {
		if n > 0 {
			kind := kindOrder[k]
			ir.kinds = append(ir.kinds, kindRows{kind: kind, args: make([]any, 0, n*indexInserts[kind].cols)})
		}
	}
	for i := range ir.kinds {
		byKind[kindSlot[ir.kinds[i].kind]] = &ir.kinds[i]
	}
	var missing []string
	db.mu.RLock()
	defer db.mu.RUnlock()
	for _, e := range index {
		k, ok := kindSlot[e.Kind]
		if !ok {
			continue // kinds without a table yet
		}
		pid, ok := db.params[paramKey{typ, e.Param}]
		if !ok {
			return nil, nil, custodian.Errorf(custodian.EINTERNAL, "search parameter %s.%s is not registered", typ, e.Param)
		}
		kr := byKind[k]
		kr.rows++
		switch e.Kind {
		case store.KindToken:
			sid, ok := db.cachedSystem(e.System)
			if !ok {
				if sid, ok = extra[e.System]; !ok {
					missing = append(missing, e.System)
				}
			}
			kr.args = append(kr.args, nil, pid, sid, e.Code)
		case store.KindReference:
			kr.args = append(kr.args, nil, pid, e.RefType, e.RefID)
		case store.KindDate:
			kr.args = append(kr.args, nil, pid, e.Low, e.High)
		case store.KindString:
			kr.args = append(kr.args, nil, pid, e.Text, e.Code)
		case store.KindURI:
			kr.args = append(kr.args, nil, pid, e.Text)
		case store.KindNumber:
			kr.args = append(kr.args, nil, pid, e.NumLow, e.NumHigh)
		case store.KindQuantity:
			kr.args = append(kr.args, nil, pid, e.System, e.Code, e.Text, e.NumLow, e.NumHigh, e.CanonCode, e.CanonLow, e.CanonHigh)
		case store.KindComposite:
			kr.args = append(kr.args, nil, pid, e.System, e.Code, e.System2, e.Code2, e.NumLow, e.NumHigh)
		}
	}
	return ir, missing, nil
}

// numIndexTables is the number of index tables (kindOrder).
const numIndexTables = 8

// kindSlot numbers the kinds that have a table, in kindOrder.
var kindSlot = map[store.ParamKind]int{
	store.KindToken: 0, store.KindReference: 1, store.KindDate: 2, store.KindString: 3,
	store.KindURI: 4, store.KindNumber: 5, store.KindQuantity: 6, store.KindComposite: 7,
}

// addIndexRows adds ir as the rows of resource rid to the rows waiting in
// the transaction. ir itself is left as it was (a write may run again).
func (c *conn) addIndexRows(rid int64, ir *indexRows) error {
	if len(ir.kinds) == 0 {
		return nil
	}
	if c.pending == nil {
		c.pending = map[store.ParamKind]*pendingRows{}
	}
	r := any(rid) // boxed once for every row
	for _, kr := range ir.kinds {
		in := c.pending[kr.kind]
		if in == nil {
			in = &pendingRows{}
			c.pending[kr.kind] = in
		}
		cols := indexInserts[kr.kind].cols
		start := len(in.args)
		in.args = append(in.args, kr.args...)
		for k := 0; k < kr.rows; k++ {
			in.args[start+k*cols] = r
		}
		in.rows += kr.rows
		c.npending += kr.rows
	}
	if c.npending >= maxPendingRows {
		return c.flushIndex()
	}
	return nil
}

// flushIndex inserts the index rows waiting in the transaction. The rows
// go in chunks of a few fixed sizes, so that the statements are few
// distinct SQL texts, each prepared once (stmt.go).
func (c *conn) flushIndex() error {
	if c.npending == 0 {
		return nil
	}
	pending := c.pending
	c.pending, c.npending = nil, 0
	for kind, in := range pending {
		t := indexInserts[kind]
		for start := 0; start < in.rows; {
			n := chunkRows(in.rows - start)
			args := in.args[start*t.cols : (start+n)*t.cols]
			if _, err := c.exec(insertText(t, n, c.db.insertOnConflict()), args...); err != nil {
				return err
			}
			start += n
		}
	}
	return nil
}

// discardIndex forgets the index rows waiting in the transaction (their
// write failed and is undone).
func (c *conn) discardIndex() { c.pending, c.npending = nil, 0 }

// chunkRows is the size of the next INSERT for n waiting rows: the largest
// power of two up to maxRowsPerInsert that is at most n.
func chunkRows(n int) int {
	size := maxRowsPerInsert
	for size > n {
		size /= 2
	}
	return size
}

// insertTexts are the INSERT statements of each table and chunk size.
var insertTexts sync.Map // of insertKey → string

type insertKey struct {
	head       string
	rows       int
	onConflict bool
}

func insertText(t indexTable, rows int, onConflict bool) string {
	k := insertKey{t.head, rows, onConflict}
	if q, ok := insertTexts.Load(k); ok {
		return q.(string)
	}
	var b strings.Builder
	b.WriteString(t.head)
	row := "(" + strings.Repeat("?, ", t.cols-1) + "?)"
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	if onConflict {
		// The tables are keyed by every column: a value a resource has
		// twice is stored once (see insertOnConflict).
		b.WriteString(" ON CONFLICT DO NOTHING")
	}
	insertTexts.Store(k, b.String())
	return b.String()
}

// maxPendingRows bounds the index rows a transaction holds back.
const maxPendingRows = 20000

// maxRowsPerInsert keeps multi-row INSERTs below every engine's limit on
// bound parameters (10 columns × 64 rows), and is a power of two.
const maxRowsPerInsert = 64
