package sqldb

import (
	"bytes"
	"cmp"
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
	"slices"
	"sync"
	"time"

	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/store"
)

// The audit journal (SQLite only) keeps the entries of reads on their way
// into the chain. A read's entry is written to a journal file next to the
// database — copied into the file's pages mapped in memory where the
// system allows (no system call), else written with pwrite — at an offset
// reserved for it, so no read waits for another, and the read is
// answered. A goroutine makes what was written durable (fsync of the
// files) every journalSync while entries arrive, and appends what the
// journal holds to the chain every journalEvery (at once when FindAudit
// or Verify asks), in blocks, in one durable write, and records in the
// same transaction how far each file has been taken in (table
// audit_journal). A reader thus never waits for a database commit, which
// on the one SQLite writer cost most of a read's time; and since every
// commit makes each reading connection drop its page cache at its next
// read, the chain takes entries in only every journalEvery, while their
// durability comes from the file's sync. A journal is a series of files
// (segments) of bounded size; one that is full and wholly in the chain is
// deleted.
//
// What survives:
//   - a crash of the process (kill -9) after a read was answered: its
//     entry is in the file (in the kernel's page cache, which outlives
//     the process, if not yet on disk); the next process to open the
//     database appends every entry of a journal whose owner is gone that
//     the chain does not have yet, then deletes the file. Owners hold an
//     exclusive lock on their files, so a live server's journal is never
//     taken;
//   - a power failure: every entry in the chain, and every entry written
//     to a file before its last sync, which the next process takes in as
//     after a crash; the entries of the reads answered in the last
//     journalSync (200 ms) may be lost, as with an unsynchronised commit
//     (PostgreSQL's synchronous_commit=off risks up to three times its
//     200 ms wal_writer_delay).

const (
	journalMagic  = "CUSTODIAN AUDIT JOURNAL2" // 24 bytes, then an 8-byte generation
	journalHeader = len(journalMagic) + 8
	// recordMark begins every record, so that reading a file back can
	// find the next record after bytes that do not make one.
	recordMark = 0xA5
	// recordHead is the mark, the tail's length and its CRC-32C.
	recordHead = 1 + 4 + 4
	// journalSync is how often, at most, entries written to the journal
	// wait for the disk (fsync) while reads arrive.
	journalSync = 200 * time.Millisecond
	// journalEvery is how long entries wait in the journal, at most, when
	// nobody asks for them (FindAudit, Verify and Close do). Every append
	// is a commit, and on SQLite every commit makes each reading
	// connection drop its page cache at its next read: appending every 5
	// ms cost reads about twice as much as every 200 ms, and every 200 ms
	// more than every 2 s (docs/benchmarks.md, session 5).
	journalEvery = 2 * time.Second
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// segmentSize bounds a journal file (tests make it small).
var segmentSize int64 = 32 << 20

// auditJournal is one process's journal.
type auditJournal struct {
	db  *DB
	dir string

	mu      sync.Mutex
	cur     *segment     // the file being written
	old     []*segment   // earlier files not yet wholly in the chain
	queue   []journalRec // written and not yet in the chain
	spare   []journalRec // space for the queue, kept between appends
	written int64        // entries written, ever
	synced  int64        // entries written before the last sync of the files
	// syncFailed is set once a sync of the files has failed (logged once).
	syncFailed bool
	appended   int64 // entries appended to the chain, ever
	err        error // a failed write: the journal takes no more entries
	failed     error // the last append to the chain failed (it is retried)
	closed     bool
	moved      *sync.Cond // signalled when appended grows

	wake    chan struct{} // an entry was written
	urgent  chan struct{} // someone waits for the entries (sync)
	stop    chan struct{}
	stopped chan struct{}
}

// segment is one journal file.
type segment struct {
	seq     int64 // its place in the journal
	name    string
	f       *os.File
	gen     int64
	mem     []byte // the file mapped in memory; nil: written with pwrite
	size    int64  // bytes written or reserved
	writing int    // writes under way
	mark    int64  // in the chain up to this byte
}

// openAuditJournal takes in the journals left by processes that ended
// without closing the database, then starts this process's journal. It
// does nothing for engines other than SQLite, for a database without a
// file, or where files cannot be locked; a journal that cannot start
// leaves reads' entries to commit through the writer.
func (db *DB) openAuditJournal() {
	db.startSealer()
	if db.dialect.Name == "postgres" {
		db.openPending() // the journal's counterpart there
		return
	}
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
	j := &auditJournal{db: db, dir: dir, wake: make(chan struct{}, 1), urgent: make(chan struct{}, 1),
		stop: make(chan struct{}), stopped: make(chan struct{})}
	j.moved = sync.NewCond(&j.mu)
	if j.cur, err = newSegment(dir, 1); err != nil {
		slog.Error("sqldb: no audit journal; reads' audit entries commit through the writer", "err", err)
		return
	}
	db.journal = j
	go j.run()
}

// newSegment creates, locks, sizes and maps a new journal file.
func newSegment(dir string, seq int64) (*segment, error) {
	var id [8]byte
	rand.Read(id[:])
	name := fmt.Sprintf("audit-journal-%x.log", id)
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	s := &segment{seq: seq, name: name, f: f}
	fail := func(err error) (*segment, error) {
		s.unmap()
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	if err := lockFile(f); err != nil {
		return fail(err)
	}
	var gen [8]byte
	rand.Read(gen[:])
	s.gen = int64(binary.BigEndian.Uint64(gen[:]))
	if s.mem, err = mapFile(f, int(segmentSize)); err != nil {
		return fail(err)
	}
	hdr := append([]byte(journalMagic), gen[:]...)
	if s.mem != nil {
		copy(s.mem, hdr)
	} else if _, err := f.WriteAt(hdr, 0); err != nil {
		return fail(err)
	}
	s.size, s.mark = int64(len(hdr)), int64(len(hdr))
	return s, nil
}

func (s *segment) unmap() {
	if s.mem != nil {
		unmapFile(s.mem)
		s.mem = nil
	}
}

// journalRec is an entry the journal holds: bytes [off, end) of file seg.
type journalRec struct {
	// tail is the entry's canonical tail (in the mapped file, or a copy);
	// nil: bytes whose write failed, skipped. The entry itself is not
	// kept: its time and what its key rows are made of are.
	tail     []byte
	ts       int64
	k        entryKeys
	seg      *segment
	segSeq   int64 // seg.seq, for sorting without following seg
	off, end int64
}

// maxStackTail is the size of the buffer an entry's tail is encoded into
// before it is copied into the journal: an entry longer than that (a long
// query) gets a buffer of its own.
const maxStackTail = 512

// write writes the record of e to the journal and queues it for the
// chain. An error is kept: from then on the journal takes no entries
// (what it holds is still appended).
func (j *auditJournal) write(e *audit.Entry) error {
	var buf [maxStackTail]byte
	tail := audit.AppendTail(buf[:0], e)
	n := int64(recordHead + len(tail))
	j.mu.Lock()
	if j.err != nil {
		j.mu.Unlock()
		return j.err
	}
	s := j.cur
	if s.size+n > segmentSize {
		next, err := newSegment(j.dir, s.seq+1)
		if err != nil {
			j.fail(err)
			j.mu.Unlock()
			return err
		}
		j.old = append(j.old, s)
		j.cur, s = next, next
		if s.size+n > segmentSize {
			err := errors.New("sqldb: an audit entry larger than a journal file")
			j.mu.Unlock()
			return err
		}
	}
	r := journalRec{ts: e.Time.UnixMilli(), k: keysOf(e), seg: s, segSeq: s.seq, off: s.size, end: s.size + n}
	s.size = r.end
	s.writing++
	j.mu.Unlock()

	var err error
	if s.mem != nil {
		// The mapping stays until every record of the file is in the
		// chain, so the record serves as the tail. (The checksum is
		// taken of the copy: buf then stays on the stack.)
		rec := s.mem[r.off:r.end]
		copy(rec[recordHead:], tail)
		r.tail = rec[recordHead:]
		rec[0] = recordMark
		binary.BigEndian.PutUint32(rec[1:], uint32(len(tail)))
		binary.BigEndian.PutUint32(rec[5:], crc32.Checksum(r.tail, crcTable))
	} else {
		r.tail = bytes.Clone(tail)
		_, err = s.f.WriteAt(frame(make([]byte, 0, n), r.tail), r.off)
	}

	j.mu.Lock()
	defer j.mu.Unlock()
	s.writing--
	if err != nil {
		// The bytes are skipped when the chain takes the file in; read
		// back after a crash they do not make a record.
		j.fail(err)
		r.tail = nil
		j.queue = append(j.queue, r)
		return err
	}
	j.queue = append(j.queue, r)
	j.written++
	select {
	case j.wake <- struct{}{}:
	default:
	}
	return nil
}

// fail keeps the first write error. The caller holds mu.
func (j *auditJournal) fail(err error) {
	if j.err == nil {
		slog.Error("sqldb: the audit journal cannot be written; reads' audit entries commit through the writer", "err", err)
		j.err = err
	}
}

// frame appends the record of one entry: its mark, length, CRC-32C, tail.
func frame(dst, tail []byte) []byte {
	dst = append(dst, recordMark)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(tail)))
	dst = binary.BigEndian.AppendUint32(dst, crc32.Checksum(tail, crcTable))
	return append(dst, tail...)
}

// run appends what the journal holds to the chain journalEvery after the
// first entry waiting arrived (syncing the files every journalSync
// meanwhile), or at once when someone waits for it, until stopped.
func (j *auditJournal) run() {
	defer close(j.stopped)
	for {
		select {
		case <-j.wake:
			if !j.gather() {
				j.drain()
				return
			}
		case <-j.urgent:
		case <-j.stop:
			j.drain()
			return
		}
		if err := j.appendToChain(); err != nil {
			slog.Error("sqldb: audit entries could not be appended from the journal; retrying", "err", err)
			select {
			case j.wake <- struct{}{}:
			default:
			}
		}
	}
}

// gather lets entries gather for journalEvery, syncing the files every
// journalSync meanwhile. It returns early when someone waits for the
// entries, and false when the journal stops.
func (j *auditJournal) gather() bool {
	deadline := time.NewTimer(journalEvery)
	defer deadline.Stop()
	tick := time.NewTicker(journalSync)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			j.syncFiles()
		case <-deadline.C:
			return true
		case <-j.urgent:
			return true
		case <-j.stop:
			return false
		}
	}
}

// syncFiles makes the entries written to the journal so far durable, if
// any were written since the last sync. Only run calls it, so no file it
// syncs is deleted meanwhile (appendToChain runs there too). A failure is
// logged once; the entries still reach the chain at its next append.
func (j *auditJournal) syncFiles() {
	j.mu.Lock()
	target := j.written
	if target == j.synced {
		j.mu.Unlock()
		return
	}
	files := append([]*segment{j.cur}, j.old...)
	j.mu.Unlock()
	var err error
	for _, s := range files {
		err = errors.Join(err, s.f.Sync())
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil {
		if !j.syncFailed {
			slog.Error("sqldb: the audit journal could not be synced; its entries are durable once in the chain", "err", err)
		}
		j.syncFailed = true
		return
	}
	j.synced = target
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

// appendToChain appends, for each file, the queued entries that continue
// it from its mark without a gap (a write under way may leave one, for
// microseconds), in file order, in one durable write that also moves the
// marks, so after a crash exactly the entries past them are taken in
// again. A file no longer written whose entries are all in the chain is
// then deleted.
func (j *auditJournal) appendToChain() error {
	j.mu.Lock()
	// Mostly in order already: records are queued as their writes end.
	byPlace := func(a, b journalRec) int {
		return cmp.Or(cmp.Compare(a.segSeq, b.segSeq), cmp.Compare(a.off, b.off))
	}
	if !slices.IsSortedFunc(j.queue, byPlace) {
		slices.SortFunc(j.queue, byPlace)
	}
	run, rest := j.spare[:0], []journalRec(nil)
	marks := map[*segment]int64{}
	for _, it := range j.queue {
		end, ok := marks[it.seg]
		if !ok {
			end = it.seg.mark
		}
		if it.off != end {
			rest = append(rest, it)
			continue
		}
		marks[it.seg] = it.end
		run = append(run, it)
	}
	// The queue's space is kept for the next records (the run's for the
	// queue after next), so that a busy journal does not grow a new queue
	// every time.
	if rest == nil {
		clear(j.queue)
		rest = j.queue[:0]
	}
	j.queue, j.spare = rest, nil
	var done []*segment // wholly in the chain once this commits
	for _, s := range j.old {
		end, ok := marks[s]
		if !ok {
			end = s.mark
		}
		if s.writing == 0 && end == s.size {
			done = append(done, s)
		}
	}
	j.mu.Unlock()
	if len(run) == 0 && len(done) == 0 {
		return nil
	}
	// One allocation for the items, not one each.
	items := make([]auditItem, 0, len(run))
	for _, r := range run {
		if r.tail != nil {
			items = append(items, auditItem{tail: r.tail, ts: r.ts, k: r.k})
		}
	}
	batch := make([]*auditItem, len(items))
	for i := range items {
		batch[i] = &items[i]
	}
	err := j.db.Write(context.Background(), func(tx store.Tx) error {
		c := tx.(*conn)
		if err := c.appendBlock(batch); err != nil {
			return err
		}
		for s, end := range marks {
			if !slices.Contains(done, s) {
				if err := c.journalAt(s.name, s.gen, end); err != nil {
					return err
				}
			}
		}
		for _, s := range done {
			if _, err := c.exec(`DELETE FROM audit_journal WHERE name = ?`, s.name); err != nil {
				return err
			}
		}
		return nil
	})
	j.mu.Lock()
	defer j.mu.Unlock()
	defer j.moved.Broadcast()
	j.failed = err
	if err != nil {
		j.queue = append(run, j.queue...)
		return err
	}
	clear(run) // the entries may go
	j.spare = run[:0]
	for s, end := range marks {
		s.mark = end
	}
	j.appended += int64(len(batch))
	for _, s := range done {
		s.unmap()
		os.Remove(s.f.Name())
		s.f.Close()
		j.old = slices.DeleteFunc(j.old, func(o *segment) bool { return o == s })
	}
	return nil
}

// journalAt records in the transaction that journal file name, generation
// gen, is in the chain up to byte end.
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
		case j.urgent <- struct{}{}:
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

// close appends what is left and removes the files.
func (j *auditJournal) close() error {
	// Take no more entries (reads now commit theirs through the writer,
	// until it closes too), and let the writes under way finish before
	// the files are unmapped.
	j.mu.Lock()
	if j.err == nil {
		j.err = errJournalClosed
	}
	for j.writing() > 0 {
		j.mu.Unlock()
		time.Sleep(time.Millisecond)
		j.mu.Lock()
	}
	j.mu.Unlock()
	close(j.stop)
	<-j.stopped
	j.mu.Lock()
	defer j.mu.Unlock()
	j.closed = true
	j.moved.Broadcast()
	if left := len(j.queue); left > 0 {
		// Kept for the next process to take in.
		return fmt.Errorf("sqldb: %d audit entries left in the journal", left)
	}
	var errs []error
	for _, s := range append(j.old, j.cur) {
		_, err := j.db.writeDB.Exec(`DELETE FROM audit_journal WHERE name = ?`, s.name)
		s.unmap()
		os.Remove(s.f.Name())
		errs = append(errs, err, s.f.Close())
	}
	return errors.Join(errs...)
}

var errJournalClosed = errors.New("sqldb: the audit journal is closed")

// writing counts the writes under way in every file. The caller holds mu.
func (j *auditJournal) writing() int {
	n := j.cur.writing
	for _, s := range j.old {
		n += s.writing
	}
	return n
}

// syncAudit makes the entries of reads answered so far part of the chain
// (on PostgreSQL, those of every node).
func (db *DB) syncAudit(ctx context.Context) error {
	if db.journal == nil {
		return db.syncPending(ctx)
	}
	return db.journal.sync(ctx)
}

// closeAuditJournal stops the journal (or audit_pending's goroutine),
// appending what it holds.
func (db *DB) closeAuditJournal() error {
	db.stopSealer()
	if t := db.auditq.table; t != nil {
		return t.close(context.Background())
	}
	if db.journal == nil {
		return nil
	}
	return db.journal.close()
}

// recoverJournals appends to the chain the entries of every journal file
// in dir whose owner has ended, then deletes the file.
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
	items := journalItems(data, gen, done)
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
// the file, else those from byte done on. Bytes that do not make a record
// (space never written, a write that failed or was under way when the
// process died) are skipped to the next record mark.
func journalItems(data []byte, gen, done int64) []*auditItem {
	if len(data) < journalHeader || !bytes.HasPrefix(data, []byte(journalMagic)) {
		return nil // cut short before its header was written
	}
	off := journalHeader
	if int64(binary.BigEndian.Uint64(data[len(journalMagic):journalHeader])) == gen && done > int64(off) && done <= int64(len(data)) {
		off = int(done)
	}
	var items []*auditItem
	for off+recordHead <= len(data) {
		if data[off] != recordMark {
			i := bytes.IndexByte(data[off:], recordMark)
			if i < 0 {
				break
			}
			off += i
			continue
		}
		n := int(binary.BigEndian.Uint32(data[off+1:]))
		sum := binary.BigEndian.Uint32(data[off+5:])
		if n == 0 || off+recordHead+n > len(data) || crc32.Checksum(data[off+recordHead:off+recordHead+n], crcTable) != sum {
			off++
			continue
		}
		tail := data[off+recordHead : off+recordHead+n]
		e, err := audit.Parse(audit.AppendWithSeq(nil, 0, tail))
		if err != nil {
			off++
			continue
		}
		items = append(items, &auditItem{e: e, tail: tail, ts: e.Time.UnixMilli(), k: keysOf(e)})
		off += recordHead + n
	}
	return items
}
