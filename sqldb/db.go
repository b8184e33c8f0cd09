package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// maxGroup bounds how many callers' writes one group commit carries.
const maxGroup = 512

// DB is a Custodian database on one SQL engine. It implements store.Backend.
type DB struct {
	writeDB *sql.DB
	readDB  *sql.DB
	dialect *Dialect

	mu     sync.RWMutex
	params map[paramKey]int64 // search parameter → pid
	// systems caches committed token system numbers (token_system.go);
	// systemsLoaded is when they were last all read (unix nanoseconds).
	systems       map[string]int64
	systemsLoaded int64

	readStmts map[string]*sql.Stmt // prepared at open; see stmt.go
	wstmts    *stmtCache           // the writer's statements; nil without group commit
	rstmts    *stmtCache           // the readers' statements
	bg        sync.WaitGroup       // background preparation of readers' statements
	codec     *bodyCodec
	auditq    auditQueue    // audit entries of reads waiting for their block (audit_append.go)
	journal   *auditJournal // reads' audit entries on their way into the chain; nil without (audit_journal.go)

	closers []func() error // CloseWith
	// carry is a write taken from writes but left for the next group
	// (takeWaiting); the writer goroutine's alone.
	carry *writeReq

	writes  chan *writeReq
	done    chan struct{} // closed by Close: stop taking writes
	stopped chan struct{} // closed when the writer (and syncer) have ended
	wg      sync.WaitGroup
	// syncs carries committed durable groups from the writer to the
	// syncer, which flushes them to the disk and only then answers their
	// callers (pipelined commit); nil when the engine cannot (see
	// pipelined).
	syncs chan []*writeReq
	// gate shares the cores between the writer and the preparation of
	// transactions (store.CoreGate); nil unless the engine runs in this
	// process with a single writer (Dialect.InProcess).
	gate *store.CoreGate
	// gateToken tells whether the writer holds a token of gate; the
	// writer goroutine's alone.
	gateToken bool
}

type paramKey struct{ typ, code string }

type writeReq struct {
	fn   func(store.Tx) error
	done chan error
	// err is the write's outcome, kept while its group waits for the disk
	// (syncer).
	err error
	// light marks a write of audit records only, which may commit without
	// waiting for the disk (see Record).
	light bool
}

// New returns a DB over writeDB (used for every write; for group-commit
// engines it must allow one connection only) and readDB (a pool for
// reads; it may be the same as writeDB).
func New(writeDB, readDB *sql.DB, d *Dialect) *DB {
	db := &DB{writeDB: writeDB, readDB: readDB, dialect: d, params: map[paramKey]int64{}, systems: map[string]int64{}, done: make(chan struct{}), stopped: make(chan struct{}),
		codec: defaultCodec}
	if m, err := prepareReads(context.Background(), readDB, d); err == nil {
		db.readStmts = m
	}
	if !d.AutoPrepare {
		db.rstmts = newStmtCache(readDB, readerStmts)
	}
	if d.GroupCommit {
		if d.InProcess {
			db.gate = store.NewCoreGate(runtime.GOMAXPROCS(0))
		}
		if !d.AutoPrepare {
			db.wstmts = newStmtCache(writeDB, writerStmts)
		}
		db.writes = make(chan *writeReq, maxGroup)
		var synced chan struct{}
		if d.Relax != nil && d.Sync != nil {
			db.syncs = make(chan []*writeReq, maxGroup)
			synced = make(chan struct{})
			go db.syncer(synced)
		}
		db.wg.Add(1)
		go db.writer(synced)
	}
	db.openAuditJournal()
	return db
}

// Dialect returns the engine's dialect.
func (db *DB) Dialect() *Dialect { return db.dialect }

// SQL returns the pool used for reads, for packages that keep tables of
// their own next to the store.
func (db *DB) SQL() *sql.DB { return db.readDB }

// Raw returns the connection pool used for writes, bypassing the store and
// its audit trail. It is for tests that must reach under the store (to
// tamper with the trail, say), for administrative repair, and for derived
// state that is not the record: the measures' saved facts (measure/factdb)
// are written through it in short transactions between group commits.
func (db *DB) Raw() *sql.DB { return db.writeDB }

// CloseWith has Close call f (in the order added) once the writes have
// ended, before the connections close: for background work of an engine
// on the same database.
func (db *DB) CloseWith(f func() error) { db.closers = append(db.closers, f) }

// Close waits for queued writes and closes the connections.
func (db *DB) Close() error {
	jerr := db.closeAuditJournal()
	if db.writes != nil {
		close(db.done)
		db.wg.Wait()
	}
	if db.wstmts != nil {
		db.wstmts.close()
	}
	if db.rstmts != nil {
		db.rstmts.close()
	}
	db.bg.Wait()
	for _, st := range db.readStmts {
		st.Close()
	}
	for _, f := range db.closers {
		jerr = errors.Join(jerr, f())
	}
	err := errors.Join(jerr, db.writeDB.Close())
	if db.readDB != db.writeDB {
		err = errors.Join(err, db.readDB.Close())
	}
	return err
}

// RegisterParams makes sure every search parameter in keys has a number in
// search_params and loads them all. Call it before writing resources that
// index those parameters.
func (db *DB) RegisterParams(ctx context.Context, keys [][2]string) error {
	tx, err := db.writeDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	known := map[paramKey]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT type, code FROM search_params`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k paramKey
		if err := rows.Scan(&k.typ, &k.code); err != nil {
			rows.Close()
			return err
		}
		known[k] = true
	}
	rows.Close()
	for _, k := range keys {
		if known[paramKey{k[0], k[1]}] {
			continue
		}
		if _, err := tx.ExecContext(ctx, db.dialect.rebind(`INSERT INTO search_params (type, code) VALUES (?, ?)`), k[0], k[1]); err != nil {
			return fmt.Errorf("sqldb: register search parameter %s.%s: %w", k[0], k[1], err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return db.loadParams(ctx)
}

func (db *DB) loadParams(ctx context.Context) error {
	rows, err := db.readDB.QueryContext(ctx, `SELECT pid, type, code FROM search_params`)
	if err != nil {
		return err
	}
	defer rows.Close()
	m := map[paramKey]int64{}
	for rows.Next() {
		var k paramKey
		var pid int64
		if err := rows.Scan(&pid, &k.typ, &k.code); err != nil {
			return err
		}
		m[k] = pid
	}
	db.mu.Lock()
	db.params = m
	db.mu.Unlock()
	return rows.Err()
}

func (db *DB) pid(typ, code string) (int64, bool) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	pid, ok := db.params[paramKey{typ, code}]
	return pid, ok
}

// Read implements store.Backend.
func (db *DB) Read(ctx context.Context, fn func(store.Reader) error) error {
	tx, err := db.readDB.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback()
	return fn(&conn{db: db, tx: tx, ctx: ctx})
}

// Write implements store.Backend.
func (db *DB) Write(ctx context.Context, fn func(store.Tx) error) error {
	return db.write(ctx, fn, false)
}

// Record implements store.Backend: a write of audit records whose commit
// survives a crash of the process at once, and a power failure from the
// next durable commit on (SQLite synchronous=NORMAL for that commit,
// PostgreSQL synchronous_commit=off).
func (db *DB) Record(ctx context.Context, fn func(store.Tx) error) error {
	return db.write(ctx, fn, true)
}

// Sync implements store.Syncer: when it returns, every write committed
// before it was called is on disk, Record's too.
func (db *DB) Sync(ctx context.Context) error {
	switch {
	case db.dialect.Sync != nil:
		return translate(db.dialect.Sync(ctx))
	case db.dialect.Name == "postgres":
		// A transaction that writes to the log commits synchronously, and
		// its commit record is flushed with every record before it, the
		// asynchronous commits' among them. (A transaction that only takes
		// an id, SELECT txid_current(), is not waited for.)
		_, err := db.writeDB.ExecContext(ctx, "SELECT pg_logical_emit_message(true, 'custodian-sync', '')")
		return translate(err)
	}
	return nil
}

func (db *DB) write(ctx context.Context, fn func(store.Tx) error, light bool) error {
	if !db.dialect.GroupCommit {
		return db.writeAlone(ctx, fn, light)
	}
	closing := custodian.Errorf(custodian.EINTERNAL, "the database is closing")
	select {
	case <-db.done:
		return closing
	default:
	}
	req := &writeReq{fn: fn, done: make(chan error, 1), light: light}
	select {
	case db.writes <- req:
	case <-ctx.Done():
		return custodian.Wrap(custodian.ETIMEOUT, ctx.Err(), "the write was cancelled before it started")
	case <-db.done:
		return closing
	}
	// Once queued the write runs to its end; its outcome is reported even if
	// the caller has gone, so nothing is half done. A write queued just as
	// the database closed may find the writer gone: then it did not run.
	select {
	case err := <-req.done:
		return err
	case <-db.stopped:
		select {
		case err := <-req.done:
			return err
		default:
			return closing
		}
	}
}

// maxAttempts bounds how often a write that lost a deadlock or a
// serialisation race is run again.
const maxAttempts = 5

// writeAlone runs fn in a transaction of its own (engines with concurrent
// writers). A transaction that loses a deadlock or a serialisation race is
// rolled back by the engine; it is run again, a few times, before the
// caller sees a retryable error.
func (db *DB) writeAlone(ctx context.Context, fn func(store.Tx) error, light bool) error {
	var err error
	for attempt := range maxAttempts {
		if err = db.writeOnce(ctx, fn, light); err == nil || !lostRace(err) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * time.Duration(rand.IntN(5)+1) * time.Millisecond)
	}
	return err
}

// lostRace reports whether err is a deadlock or serialisation failure.
func lostRace(err error) bool {
	var st interface{ SQLState() string }
	if errors.As(err, &st) {
		return st.SQLState() == "40001" || st.SQLState() == "40P01"
	}
	return false
}

func (db *DB) writeOnce(ctx context.Context, fn func(store.Tx) error, light bool) error {
	tx, err := db.writeDB.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback()
	if light {
		if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return translate(err)
		}
	}
	c := &conn{db: db, tx: tx, ctx: ctx, stmts: map[string]*sql.Stmt{}}
	if err := fn(c); err != nil {
		return err
	}
	if err := c.flushIndex(); err != nil {
		return translate(err)
	}
	return translate(tx.Commit())
}

// CoreGate is the gate between the single writer and the preparation of
// writes (store.CoreGate), or nil unless the engine runs in this process
// with a single writer.
func (db *DB) CoreGate() *store.CoreGate { return db.gate }

// writer is the one goroutine that writes, for group-commit engines. It
// takes every write waiting, runs each inside a savepoint of one
// transaction (so one failing write undoes only itself), and commits once.
// synced, if not nil, is closed by the syncer once it has answered every
// group the writer handed it.
func (db *DB) writer(synced chan struct{}) {
	defer db.wg.Done()
	defer close(db.stopped)
	if db.syncs != nil {
		defer func() { close(db.syncs); <-synced }()
	}
	for {
		var first *writeReq
		if db.carry != nil {
			first, db.carry = db.carry, nil
		} else {
			select {
			case first = <-db.writes:
			case <-db.done:
			}
		}
		if first == nil {
			// Finish what is queued, then stop.
			for {
				r := db.carry
				db.carry = nil
				if r == nil {
					select {
					case r = <-db.writes:
					default:
						return
					}
				}
				db.commitGroup([]*writeReq{r})
				db.prepareWanted()
			}
		}
		group := []*writeReq{first}
	drain:
		for len(group) < maxGroup {
			select {
			case r := <-db.writes:
				group = append(group, r)
			default:
				break drain
			}
		}
		db.commitGroup(group)
		db.prepareWanted()
	}
}

// syncer answers the callers of durable groups once their commit is on the
// disk. The writer commits every group without waiting for the disk
// (Dialect.Relax) and hands the durable ones here; the syncer flushes all
// the groups handed over so far with one Dialect.Sync, which starts after
// their commits, and then answers them. Meanwhile the writer runs the next
// group instead of waiting for the flush. No caller hears of a durable
// write before it is on the disk; a reader may see it a moment earlier, as
// it would a write that was committed and then lost with the machine
// before its caller heard back. Whatever a later write builds on it is
// flushed with it or before it, since the log is written in order.
func (db *DB) syncer(synced chan struct{}) {
	defer close(synced)
	for group := range db.syncs {
		groups := [][]*writeReq{group}
	more:
		for {
			select {
			case g, ok := <-db.syncs:
				if !ok {
					break more
				}
				groups = append(groups, g)
			default:
				break more
			}
		}
		err := db.dialect.Sync(context.Background())
		if err != nil {
			err = custodian.Wrap(custodian.EINTERNAL, err, "the write was committed but could not be flushed to the disk")
		}
		for _, g := range groups {
			for _, r := range g {
				if r.err != nil {
					r.done <- r.err
				} else {
					r.done <- err
				}
			}
		}
	}
}

func (db *DB) commitGroup(group []*writeReq) {
	ctx := context.Background()
	db.gateToken = db.gate.Write()
	defer func() { db.gate.WriteDone(db.gateToken); db.gateToken = false }()
	light := true
	for _, r := range group {
		light = light && r.light
	}
	pipelined := db.syncs != nil
	if (light || pipelined) && db.dialect.Relax != nil {
		// Commit without waiting for the disk: a light group (audit
		// records of reads) is carried there by the next durable commit or
		// checkpoint; a durable group's callers hear back once the syncer
		// has flushed it.
		defer db.dialect.Relax(ctx, db.writeDB)()
	}
	// Most groups succeed whole, so run them without savepoints (each one
	// makes SQLite journal the pages it touches again), taking in the
	// writes that arrive meanwhile. If a write fails, its partial changes
	// cannot be undone alone: roll back and run the group (with what it
	// took in) again with one savepoint per write.
	errs, failed, err := db.runGroup(ctx, &group, false, light)
	if err == nil && failed {
		errs, _, err = db.runGroup(ctx, &group, true, light)
	}
	for attempt := 1; attempt < maxAttempts && err != nil && lostRace(err); attempt++ {
		// Another node's transaction won a deadlock: run the group again.
		time.Sleep(time.Duration(attempt) * time.Duration(rand.IntN(5)+1) * time.Millisecond)
		errs, _, err = db.runGroup(ctx, &group, true, light)
	}
	if err == nil && pipelined && !light {
		for i, r := range group {
			r.err = errs[i]
		}
		db.syncs <- group
		return
	}
	for i, r := range group {
		if err != nil {
			r.done <- translate(err)
		} else {
			r.done <- errs[i]
		}
	}
}

// runGroup runs the writes of group in one transaction and commits it. With
// savepoints each write that fails is undone alone; without, the first
// failure rolls everything back and runGroup reports failed.
//
// Without savepoints (a group's first run), the writes that arrived while
// the group ran join it before the commit (takeWaiting), up to maxGroup
// and for a few rounds: callers that wait for a commit send their next
// write as soon as it returns, so without this the writes of concurrent
// callers split into groups that alternate, each with a commit of its own,
// and a commit costs about as much as the pages it writes. The group is
// extended in place, so a rerun runs the same writes.
func (db *DB) runGroup(ctx context.Context, group *[]*writeReq, savepoints, light bool) (errs []error, failed bool, err error) {
	tx, err := db.writeDB.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, err
	}
	errs = make([]error, len(*group), maxGroup)
	c := &conn{db: db, tx: tx, ctx: ctx, stmts: map[string]*sql.Stmt{}, writer: true, holdAudit: true}
	began := time.Now()
	for i, rounds := 0, 0; ; i++ {
		if i == len(*group) {
			// A light group commits without waiting for the disk: it has
			// no fsync to share, and keeping it open for more writes only
			// makes their callers wait (an import's workers then idle
			// while the writer works: 11.4k → 7.3k resources/s).
			if savepoints || light {
				break
			}
			feeding := db.gate.Preparing() && time.Since(began) < feedTime
			if rounds >= joinRounds && !feeding {
				break
			}
			more := db.takeWaiting(light, maxGroup-len(*group))
			if len(more) == 0 && feeding {
				more = db.awaitWrite(began.Add(feedTime))
			}
			if len(more) == 0 {
				break
			}
			rounds++
			*group = append(*group, more...)
			errs = append(errs, make([]error, len(more))...)
		}
		r := (*group)[i]
		if !savepoints {
			if errs[i] = runWrite(r.fn, c); errs[i] != nil {
				tx.Rollback()
				return nil, true, nil
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			tx.Rollback()
			return nil, false, err
		}
		held := len(c.heldAudit)
		errs[i] = runWrite(r.fn, c)
		release := "RELEASE w"
		if errs[i] != nil {
			release = "ROLLBACK TO w; RELEASE w"
			c.heldAudit = c.heldAudit[:held] // its audit entries go with it
			c.chainKnown = false             // what it appended to the audit chain is undone
		}
		if _, err := tx.ExecContext(ctx, release); err != nil {
			tx.Rollback()
			return nil, false, err
		}
	}
	// The group's audit entries, one block, in the same transaction as
	// the writes they record.
	if err := c.appendBlock(c.heldAudit); err != nil {
		tx.Rollback()
		return nil, false, err
	}
	if err := tx.Commit(); err != nil {
		return nil, false, err
	}
	return errs, false, nil
}

// joinRounds bounds how often a running group takes in the writes that
// arrived meanwhile, so its first callers are not kept waiting long.
const joinRounds = 2

// feedTime is how long a group keeps taking in writes while transactions
// are being prepared for it (store.CoreGate.Preparing), past joinRounds:
// the writer runs each as it arrives instead of committing a group of one
// or two and starting another. A commit costs about as much as the pages
// it writes, many of them the same hot index pages in every group, so
// small groups cost CPU per resource; 30 ms is a few Bundles of 100.
const feedTime = 30 * time.Millisecond

// awaitWrite waits until deadline for a write to join a durable group.
// Meanwhile the writer's core goes to the preparation it waits for.
func (db *DB) awaitWrite(deadline time.Time) []*writeReq {
	db.gate.WriteDone(db.gateToken)
	defer func() { db.gateToken = db.gate.Write() }()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case r := <-db.writes:
		return []*writeReq{r}
	case <-t.C:
		return nil
	}
}

// takeWaiting returns up to n writes waiting, without waiting for any. A
// light group (one that commits without waiting for the disk) takes light
// writes only: the first other write is kept for the next group
// (db.carry). Only the writer goroutine calls it.
func (db *DB) takeWaiting(light bool, n int) []*writeReq {
	var more []*writeReq
	for len(more) < n && db.carry == nil {
		select {
		case r := <-db.writes:
			if light && !r.light {
				db.carry = r
				return more
			}
			more = append(more, r)
		default:
			return more
		}
	}
	return more
}

// runWrite runs fn and inserts the index rows it held back; if either
// fails, the rows are forgotten with the rest of the write.
func runWrite(fn func(store.Tx) error, c *conn) error {
	err := runSafely(fn, c)
	if err == nil {
		err = translate(c.flushIndex())
	}
	if err != nil {
		c.discardIndex()
	}
	return err
}

// runSafely runs fn, turning a panic into an error so one bad write cannot
// stop the writer.
func runSafely(fn func(store.Tx) error, tx store.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = custodian.Wrap(custodian.EINTERNAL, fmt.Errorf("panic: %v", p), "internal error while writing")
		}
	}()
	return fn(tx)
}

// translate turns driver errors into application errors where they mean
// something to a client, and leaves the rest internal.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return custodian.Wrap(custodian.ETIMEOUT, err, "the database operation ran out of time")
	}
	if retryable(err) {
		return custodian.Wrap(custodian.EUNAVAILABLE, err, "the database is unavailable for the moment; nothing was written, try again")
	}
	return err
}

// retryable reports whether err means the database connection was lost or
// the transaction lost a race with another: the transaction was rolled back
// whole, so the same request may simply be sent again.
func retryable(err error) bool {
	var ce *custodian.Error
	if errors.As(err, &ce) {
		return false // already given a meaning
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	// PostgreSQL SQLSTATEs: class 08 connection exceptions, 57P0x the server
	// shutting down or the session terminated, 40001 serialization failure,
	// 40P01 deadlock, 53300 too many connections.
	var st interface{ SQLState() string }
	if errors.As(err, &st) {
		code := st.SQLState()
		return strings.HasPrefix(code, "08") || strings.HasPrefix(code, "57P0") || code == "40001" || code == "40P01" || code == "53300"
	}
	return strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "connection reset")
}
