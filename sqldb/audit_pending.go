package sqldb

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/custodian-him/custodian/store"
)

// On PostgreSQL the entries of reads wait for the chain in a table,
// audit_pending (migration 0010), which plays the part SQLite's journal
// file plays. Reads answered at the same moment share one row: the first
// to find no insert under way inserts every entry waiting as one row, in
// a statement of its own on a connection kept for it with
// synchronous_commit=off — one round trip, no lock, no chain — and each
// read is answered once the row holding its entry has committed. A
// goroutine on every node then takes the rows of every node into the
// chain, under the chain's advisory lock, deleting them in the same
// transaction (so each entry is appended exactly once, on one chain for
// all nodes), within pendingEvery of the read; at once when FindAudit or
// Verify asks, every few seconds when the node is idle (rows a node that
// died left behind), and when the database is opened and closed.
//
// What survives is what the SQLite journal keeps: a crash of the
// Custodian process, or of a node for good, loses no answered read's
// entry (it has committed; any node takes it in); a crash of the
// PostgreSQL server may lose the commits of the last moments before it
// (synchronous_commit=off: up to three times wal_writer_delay, 600 ms by
// default), the entries of reads answered then among them, as a power
// failure loses the last journalSync of the SQLite journal's.
// Store.DurableReadAudit makes a read wait for a durable commit instead.

const (
	// pendingFormat is the first byte of an audit_pending row.
	pendingFormat = 1
	// pendingRowsPerMove bounds the rows one move takes into the chain.
	pendingRowsPerMove = 256
	// pendingEvery is how long a row waits, at most, before its node
	// takes it into the chain (when nobody asks sooner).
	pendingEvery = 200 * time.Millisecond
	// pendingSweep is how often an idle node looks for rows to take in.
	pendingSweep = 5 * time.Second
)

// pendingTable is a node's side of audit_pending.
type pendingTable struct {
	db *DB

	mu     sync.Mutex
	conn   *sql.Conn // the inserting connection
	closed bool

	wake    chan struct{} // a row was inserted
	stop    chan struct{}
	stopped chan struct{}
}

// openPending starts the PostgreSQL read-audit path, if the schema has
// its table, taking in first the rows an earlier process left.
func (db *DB) openPending() {
	ctx := context.Background()
	var n int
	if err := db.readDB.QueryRowContext(ctx, `SELECT count(*) FROM audit_pending WHERE id < 0`).Scan(&n); err != nil {
		return // a schema before migration 0010: reads' entries commit through the writer
	}
	p := &pendingTable{db: db, wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	if err := db.movePending(ctx); err != nil {
		slog.Error("sqldb: audit entries waiting in audit_pending could not be appended to the chain", "err", err)
	}
	db.auditq.table = p
	go p.run()
}

// encodePending appends the entries of batch to a row body: per entry its
// time (unix ms), canonical tail and key rows, so that taking it into the
// chain parses nothing.
func encodePending(batch []*auditItem) []byte {
	size := 1
	for _, it := range batch {
		size += len(it.tail) + 64
	}
	b := make([]byte, 1, size)
	b[0] = pendingFormat
	var keys []string
	for _, it := range batch {
		b = binary.AppendVarint(b, it.ts)
		b = binary.AppendUvarint(b, uint64(len(it.tail)))
		b = append(b, it.tail...)
		keys = keys[:0]
		forKeys(it.e, func(prefix, value string) { keys = append(keys, prefix, value) })
		b = binary.AppendUvarint(b, uint64(len(keys)/2))
		for i := 0; i < len(keys); i += 2 {
			b = binary.AppendUvarint(b, uint64(len(keys[i])+len(keys[i+1])))
			b = append(append(b, keys[i]...), keys[i+1]...)
		}
	}
	return b
}

var errPendingRow = errors.New("sqldb: an audit_pending row that does not decode")

// decodePending returns the entries of a row body; the items share b.
func decodePending(b []byte) ([]*auditItem, error) {
	if len(b) == 0 || b[0] != pendingFormat {
		return nil, errPendingRow
	}
	b = b[1:]
	bytesOf := func() ([]byte, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, false
		}
		v := b[k : k+int(n)]
		b = b[k+int(n):]
		return v, true
	}
	var items []*auditItem
	for len(b) > 0 {
		ts, k := binary.Varint(b)
		if k <= 0 {
			return nil, errPendingRow
		}
		b = b[k:]
		tail, ok := bytesOf()
		if !ok || len(tail) == 0 {
			return nil, errPendingRow
		}
		nkeys, k := binary.Uvarint(b)
		if k <= 0 || nkeys > uint64(len(b)) {
			return nil, errPendingRow
		}
		b = b[k:]
		keys := make([]string, 0, nkeys)
		for range nkeys {
			key, ok := bytesOf()
			if !ok {
				return nil, errPendingRow
			}
			keys = append(keys, string(key))
		}
		items = append(items, &auditItem{tail: tail, ts: ts, keys: keys})
	}
	return items, nil
}

// errTableClosed tells a leader to commit its block through the writer:
// the database is closing.
var errTableClosed = errors.New("sqldb: audit_pending is closed")

// insert stores batch as one row and returns once it has committed.
func (p *pendingTable) insert(ctx context.Context, batch []*auditItem) error {
	body := encodePending(batch)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errTableClosed
	}
	var err error
	for attempt := range 2 {
		if p.conn == nil {
			if p.conn, err = p.open(ctx); err != nil {
				return translate(err)
			}
		}
		if _, err = p.conn.ExecContext(ctx, `INSERT INTO audit_pending (body) VALUES ($1)`, body); err == nil {
			break
		}
		// A connection the server dropped (a restart): once more on a new
		// one. The insert did not commit (a statement that fails is undone).
		p.discard()
		if attempt == 1 || ctx.Err() != nil {
			return translate(err)
		}
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return nil
}

// open takes a connection out of the read pool for inserting, with
// synchronous_commit off for its session.
func (p *pendingTable) open(ctx context.Context) (*sql.Conn, error) {
	c, err := p.db.readDB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := c.ExecContext(ctx, `SET synchronous_commit = off`); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// discard closes the inserting connection without handing it back to the
// pool (its session does not wait for the disk, which no other user of the
// pool expects). The caller holds mu.
func (p *pendingTable) discard() {
	if p.conn == nil {
		return
	}
	p.conn.Raw(func(any) error { return driver.ErrBadConn })
	p.conn.Close()
	p.conn = nil
}

// run takes rows into the chain pendingEvery after this node inserted
// one, and every pendingSweep if any are waiting, until stopped.
func (p *pendingTable) run() {
	defer close(p.stopped)
	sweep := time.NewTicker(pendingSweep)
	defer sweep.Stop()
	ctx := context.Background()
	for {
		select {
		case <-p.wake:
			select {
			case <-time.After(pendingEvery):
			case <-p.stop:
				return
			}
		case <-sweep.C:
			var waiting bool
			if err := p.db.readDB.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM audit_pending)`).Scan(&waiting); err != nil || !waiting {
				continue
			}
		case <-p.stop:
			return
		}
		if err := p.db.movePending(ctx); err != nil {
			slog.Error("sqldb: audit entries could not be appended from audit_pending; retrying", "err", err)
			select {
			case p.wake <- struct{}{}:
			default:
			}
		}
	}
}

// close takes no more rows (leaders commit their blocks through the
// writer from then on, until it closes too), waits for an insert under
// way, stops the goroutine and takes in what is waiting.
func (p *pendingTable) close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.discard()
	p.mu.Unlock()
	close(p.stop)
	<-p.stopped
	return p.db.movePending(ctx)
}

// movePending appends every row of audit_pending committed before the call
// to the chain and deletes it, pendingRowsPerMove rows per transaction.
func (db *DB) movePending(ctx context.Context) error {
	for {
		n, err := db.movePendingOnce(ctx)
		if err != nil || n < pendingRowsPerMove {
			return err
		}
	}
}

// movePendingOnce takes the oldest rows waiting into the chain, in row
// order, in one transaction that holds the chain's lock (taken first, so
// the nodes' movers take turns) and deletes them. It returns the number of
// rows taken.
func (db *DB) movePendingOnce(ctx context.Context) (int, error) {
	var rows int
	err := db.Record(ctx, func(tx store.Tx) error {
		c, ok := tx.(*conn)
		if !ok {
			return errors.New("sqldb: audit block outside an sqldb transaction")
		}
		rows = 0
		if err := c.chainEnd(); err != nil {
			return err
		}
		rs, err := c.query(`DELETE FROM audit_pending WHERE id IN (SELECT id FROM audit_pending ORDER BY id LIMIT ?) RETURNING id, body`, pendingRowsPerMove)
		if err != nil {
			return translate(err)
		}
		type row struct {
			id   int64
			body []byte
		}
		var got []row
		for rs.Next() {
			var r row
			if err := rs.Scan(&r.id, &r.body); err != nil {
				rs.Close()
				return translate(err)
			}
			got = append(got, r)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return translate(err)
		}
		rows = len(got)
		slices.SortFunc(got, func(a, b row) int { return cmp.Compare(a.id, b.id) })
		var items []*auditItem
		for _, r := range got {
			its, err := decodePending(r.body)
			if err != nil {
				// Not written by Custodian's encoder, so it cannot be
				// chained; dropped (and logged) rather than left to stop
				// every entry after it, as the journal skips bytes that do
				// not make a record.
				slog.Error("sqldb: an audit_pending row could not be read and was dropped", "id", r.id, "bytes", len(r.body))
				continue
			}
			items = append(items, its...)
		}
		return c.appendBlock(items)
	})
	return rows, err
}

// syncPending appends the rows waiting in audit_pending, of every node.
func (db *DB) syncPending(ctx context.Context) error {
	if db.auditq.table == nil {
		return nil
	}
	if err := db.movePending(ctx); err != nil {
		return fmt.Errorf("sqldb: append the audit entries waiting: %w", err)
	}
	return nil
}
