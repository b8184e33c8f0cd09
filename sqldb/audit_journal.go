package sqldb

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/store"
)

// The audit journal (SQLite only) keeps the entries of reads on their way
// into the chain. A read's entry is written to an append-only file next to
// the database (one pwrite shared by the reads arriving together) and the
// read is answered; a goroutine appends what the journal holds to the
// chain every few milliseconds, in blocks, in one durable write, and
// records in the same transaction how far the file has been taken in
// (table audit_journal). A reader thus never waits for a database commit,
// which on the one SQLite writer cost most of a read's time.
//
// What survives:
//   - a crash of the process (kill -9) after a read was answered: its
//     entry is in the file (in the kernel's cache if not yet on disk); the
//     next process to open the database appends every entry of a journal
//     whose owner is gone that the chain does not have yet, then deletes
//     the file. Owners hold an exclusive lock on their file, so a live
//     server's journal is never taken;
//   - a power failure: every entry already appended to the chain (each
//     append is a durable commit, a few milliseconds after the read), and
//     whatever of the file the kernel had written; the entries of the
//     reads answered in the last few milliseconds may be lost, as with an
//     unsynchronised commit.

const (
	journalMagic  = "CUSTODIAN AUDIT JOURNAL1" // 24 bytes, then an 8-byte generation
	journalHeader = len(journalMagic) + 8
	// journalRotate is the size past which a fully appended journal starts
	// again from its header.
	journalRotate = 64 << 20
	// journalEvery is how long entries wait in the journal, at most, when
	// nobody asks for them (FindAudit, Verify and Close do).
	journalEvery = 5 * time.Millisecond
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// auditJournal is one process's journal file.
type auditJournal struct {
	db   *DB
	name string // the file's base name, its key in audit_journal
	f    *os.File

	mu       sync.Mutex
	gen      int64        // the file's generation (its header)
	size     int64        // bytes in the file
	queue    []*auditItem // written and not yet in the chain
	written  int64        // entries written, ever
	appended int64        // entries appended to the chain, ever
	err      error        // a failed write: the journal is no longer used
	failed   error        // the last append to the chain failed (it is retried)
	closed   bool
	moved    *sync.Cond // signalled when appended grows

	wake    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
}

// openAuditJournal takes in the journals left by processes that ended
// without closing the database, then starts this process's journal. It
// does nothing for engines other than SQLite, for a database without a
// file, or where files cannot be locked; a journal that cannot start
// leaves reads' entries to commit through the writer, as before.
func (db *DB) openAuditJournal() {
	if db.dialect.Name != "sqlite" || !canLockFiles {
		return
	}
	ctx := context.Background()
	var path string
	err := db.writeDB.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path)
	if err != nil || path == "" {
		return
	}
	var n int
	if err := db.writeDB.QueryRowContext(ctx, `SELECT count(*) FROM audit_journal`).Scan(&n); err != nil {
		return // a schema without journals (an old database under test)
	}
	dir := filepath.Dir(path)
	if err := db.recoverJournals(ctx, dir); err != nil {
		slog.Error("sqldb: audit journals left by an ended process could not be appended to the chain", "err", err)
	}
	j, err := newAuditJournal(db, dir)
	if err != nil {
		slog.Error("sqldb: no audit journal; reads' audit entries commit through the writer", "err", err)
		return
	}
	db.journal = j
	go j.run()
}

func newAuditJournal(db *DB, dir string) (*auditJournal, error) {
	var id [8]byte
	rand.Read(id[:])
	name := fmt.Sprintf("audit-journal-%x.log", id)
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	j := &auditJournal{db: db, name: name, f: f, wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	j.moved = sync.NewCond(&j.mu)
	if err := j.restart(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return j, nil
}

// restart empties the file and writes a header with a new generation.
// The caller holds mu (or owns j alone).
func (j *auditJournal) restart() error {
	var gen [8]byte
	rand.Read(gen[:])
	if err := j.f.Truncate(0); err != nil {
		return err
	}
	hdr := append([]byte(journalMagic), gen[:]...)
	if _, err := j.f.WriteAt(hdr, 0); err != nil {
		return err
	}
	j.gen, j.size = int64(binary.BigEndian.Uint64(gen[:])), int64(len(hdr))
	return nil
}

// frame appends the record of one entry: its length, its CRC-32C, its
// canonical tail.
func frame(dst, tail []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(tail)))
	dst = binary.BigEndian.AppendUint32(dst, crc32.Checksum(tail, crcTable))
	return append(dst, tail...)
}

// append writes batch to the file in one write. An error is kept: from
// then on the journal is not used (what it holds is still appended).
func (j *auditJournal) append(batch []*auditItem) error {
	size := 0
	for _, it := range batch {
		size += 8 + len(it.tail)
	}
	buf := make([]byte, 0, size)
	for _, it := range batch {
		buf = frame(buf, it.tail)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	if _, err := j.f.WriteAt(buf, j.size); err != nil {
		// A partial record at the end is ignored when the file is read
		// back (its length or checksum does not hold).
		j.err = err
		slog.Error("sqldb: the audit journal cannot be written; reads' audit entries commit through the writer", "err", err)
		return err
	}
	j.size += int64(len(buf))
	j.queue = append(j.queue, batch...)
	j.written += int64(len(batch))
	select {
	case j.wake <- struct{}{}:
	default:
	}
	return nil
}

// run appends what the journal holds to the chain, at most every
// journalEvery unless asked, until stopped.
func (j *auditJournal) run() {
	defer close(j.stopped)
	for {
		select {
		case <-j.wake:
		case <-j.stop:
			j.drain()
			return
		}
		if err := j.appendToChain(); err != nil {
			slog.Error("sqldb: audit entries could not be appended from the journal; retrying", "err", err)
		}
		select {
		case <-time.After(journalEvery):
		case <-j.stop:
			j.drain()
			return
		}
	}
}

// drain appends everything left, retrying a few times.
func (j *auditJournal) drain() {
	for range 5 {
		if err := j.appendToChain(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// appendToChain appends the queued entries to the chain in one durable
// write that also records how far the file is taken in.
func (j *auditJournal) appendToChain() error {
	j.mu.Lock()
	batch, gen, end := j.queue, j.gen, j.size
	j.queue = nil
	j.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := j.db.Write(context.Background(), func(tx store.Tx) error {
		c := tx.(*conn)
		if err := c.appendBlock(batch); err != nil {
			return err
		}
		return c.journalAt(j.name, gen, end)
	})
	j.mu.Lock()
	defer j.mu.Unlock()
	defer j.moved.Broadcast()
	j.failed = err
	if err != nil {
		j.queue = append(batch, j.queue...)
		return err
	}
	j.appended += int64(len(batch))
	if len(j.queue) == 0 && j.size > journalRotate && j.err == nil {
		if err := j.restart(); err != nil {
			j.err = err
		}
	}
	return nil
}

// journalAt records in the transaction that journal name, generation gen,
// is in the chain up to byte end.
func (c *conn) journalAt(name string, gen, end int64) error {
	_, err := c.exec(`INSERT INTO audit_journal (name, generation, ingested) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET generation = excluded.generation, ingested = excluded.ingested`, name, gen, end)
	return err
}

// sync returns once every entry written to the journal before the call is
// in the chain.
func (j *auditJournal) sync(ctx context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	target := j.written
	for j.appended < target && !j.closed {
		select {
		case j.wake <- struct{}{}:
		default:
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		j.moved.Wait()
		if j.failed != nil {
			return j.failed
		}
	}
	return nil
}

// close appends what is left and removes the file.
func (j *auditJournal) close() error {
	close(j.stop)
	<-j.stopped
	j.mu.Lock()
	left := len(j.queue)
	j.closed = true
	j.moved.Broadcast()
	j.mu.Unlock()
	if left > 0 {
		// Kept for the next process to take in.
		return errors.Join(fmt.Errorf("sqldb: %d audit entries left in the journal %s", left, j.name), j.f.Close())
	}
	_, err := j.db.writeDB.Exec(`DELETE FROM audit_journal WHERE name = ?`, j.name)
	os.Remove(j.f.Name())
	return errors.Join(err, j.f.Close())
}

// syncAudit makes the entries of reads answered so far part of the chain.
func (db *DB) syncAudit(ctx context.Context) error {
	if db.journal == nil {
		return nil
	}
	return db.journal.sync(ctx)
}

// closeAuditJournal stops the journal, appending what it holds.
func (db *DB) closeAuditJournal() error {
	if db.journal == nil {
		return nil
	}
	return db.journal.close()
}

// recoverJournals appends to the chain the entries of every journal in dir
// whose owner has ended, then deletes the journal.
func (db *DB) recoverJournals(ctx context.Context, dir string) error {
	names, err := filepath.Glob(filepath.Join(dir, "audit-journal-*.log"))
	if err != nil {
		return err
	}
	var errs []error
	for _, path := range names {
		if err := db.recoverJournal(ctx, path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", filepath.Base(path), err))
		}
	}
	return errors.Join(errs...)
}

func (db *DB) recoverJournal(ctx context.Context, path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if lockFile(f) != nil {
		return nil // its owner is alive
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	name := filepath.Base(path)
	var gen, done int64
	err = db.writeDB.QueryRowContext(ctx, `SELECT generation, ingested FROM audit_journal WHERE name = ?`, name).Scan(&gen, &done)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	items, err := journalItems(data, gen, done)
	if err != nil {
		return err
	}
	err = db.Write(ctx, func(tx store.Tx) error {
		c := tx.(*conn)
		if err := c.appendBlock(items); err != nil {
			return err
		}
		_, err := c.exec(`DELETE FROM audit_journal WHERE name = ?`, name)
		return err
	})
	if err != nil {
		return err
	}
	return os.Remove(path)
}

// journalItems reads the entries of a journal file that are not yet in
// the chain: all of them if the chain has taken in another generation of
// the file, else those from byte done on. Reading stops at the first
// record whose length or checksum does not hold (a write cut short).
func journalItems(data []byte, gen, done int64) ([]*auditItem, error) {
	if len(data) < journalHeader || !bytes.HasPrefix(data, []byte(journalMagic)) {
		return nil, nil // cut short before its header was written
	}
	off := int64(journalHeader)
	if int64(binary.BigEndian.Uint64(data[len(journalMagic):journalHeader])) == gen && done > off {
		off = done
	}
	var items []*auditItem
	for off+8 <= int64(len(data)) {
		n := int64(binary.BigEndian.Uint32(data[off:]))
		sum := binary.BigEndian.Uint32(data[off+4:])
		if off+8+n > int64(len(data)) {
			break
		}
		tail := data[off+8 : off+8+n]
		if crc32.Checksum(tail, crcTable) != sum {
			break
		}
		e, err := audit.Parse(audit.AppendWithSeq(nil, 0, tail))
		if err != nil {
			return nil, fmt.Errorf("entry at byte %d: %w", off, err)
		}
		items = append(items, &auditItem{tail: tail, ts: e.Time.UnixMilli(), keys: entryKeys(e)})
		off += 8 + n
	}
	return items, nil
}
