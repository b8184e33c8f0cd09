package sqldb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/custodian-him/custodian/store"
)

// Sealing. Every write appends its audit entry in its own transaction, so a
// writer working alone leaves one block per write, and reads' blocks of a
// quiet moment hold a few entries. Verification reads one row per block,
// which costs several times the hashing of an entry, so a trail of small
// blocks verifies at a fraction of the rate of one of large blocks. A
// goroutine therefore seals small blocks after the fact: a run of
// consecutive blocks beginning with a small one is rewritten as one block
// holding the same entries, byte for byte, with the same chain hashes, in
// one transaction that also moves their key rows. The chain itself does not
// change — the position, bytes and hash of every entry stay what they were
// when it was appended in its own transaction — so nothing about when an
// entry is durable changes either, and Verify checks a sealed block as any
// other. A run is sealed only if it verifies (each line's hash recomputed
// from the entry before the run); a run that does not is left as it is,
// for Verify to report, and logged.

const (
	// sealSmall is the size under which a block is worth sealing; the
	// partial index audit_block_small (migration 0013) holds these blocks.
	sealSmall = 64
	// sealMax is the most entries a run gathers, unless its first blocks
	// are small and the next one large: a small run always takes in the
	// block after it, so no small block stays behind a large one.
	sealMax = maxAuditBatch
	// sealEvery is how often the goroutine looks for small blocks.
	sealEvery = 5 * time.Second
)

// smallBlocks is the condition of the partial index audit_block_small.
const smallBlocks = `last_seq - first_seq < 63`

// sealer is the goroutine that seals small blocks.
type sealer struct {
	cancel  context.CancelFunc
	stopped chan struct{}
}

// startSealer seals what is waiting at once, then every sealEvery, until
// stopSealer.
func (db *DB) startSealer() {
	var n int
	if err := db.readDB.QueryRow(`SELECT count(*) FROM audit_block WHERE first_seq < 0`).Scan(&n); err != nil {
		return // a schema before blocks (an old database under test)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &sealer{cancel: cancel, stopped: make(chan struct{})}
	db.auditq.sealer = s
	go func() {
		defer close(s.stopped)
		t := time.NewTicker(sealEvery)
		defer t.Stop()
		for {
			if _, err := db.SealAudit(ctx); err != nil && ctx.Err() == nil {
				slog.Error("sqldb: small audit blocks could not be sealed; retrying later", "err", err)
			}
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
	}()
}

// StopSealing stops the goroutine that seals small audit blocks, letting
// a seal under way finish: for a command that only reads the trail
// (custodian audit verify), which need not share the machine with it.
// SealAudit still works.
func (db *DB) StopSealing() { db.stopSealer() }

// stopSealer stops the goroutine, letting a seal under way finish.
func (db *DB) stopSealer() {
	if s := db.auditq.sealer; s != nil {
		s.cancel()
		<-s.stopped
		db.auditq.sealer = nil
	}
}

// SealAudit rewrites each run of small audit blocks as one block (see
// above) and returns how many entries it sealed. A run at the end of the
// trail is left until it holds sealSmall entries.
func (db *DB) SealAudit(ctx context.Context) (int64, error) {
	// One seal at a time in a process (the goroutine and a caller);
	// processes are kept apart by the chain's lock and by checking, under
	// it, that the blocks read are still there.
	db.auditq.sealMu.Lock()
	defer db.auditq.sealMu.Unlock()
	var total int64
	for from := int64(0); ; {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, next, err := db.sealRun(ctx, from)
		total += int64(n)
		if err != nil || next == 0 {
			return total, err
		}
		from = next
	}
}

// sealBlock is one stored block as sealing reads it.
type sealBlock struct {
	first, last  int64
	tsMin, tsMax int64
	hash, hashes []byte
	body         []byte // the lines, unpacked
}

// sealRun seals the first run that begins with a small block at or after
// from, returning the entries sealed and where the next run may begin (0:
// nothing more to seal).
func (db *DB) sealRun(ctx context.Context, from int64) (int, int64, error) {
	var start int64
	err := db.readDB.QueryRowContext(ctx, db.dialect.rebind(`SELECT first_seq FROM audit_block WHERE `+smallBlocks+` AND first_seq >= ? ORDER BY first_seq LIMIT 1`), from).Scan(&start)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, translate(err)
	}
	run, err := db.readRun(ctx, start)
	if err != nil {
		return 0, 0, err
	}
	entries := 0
	for _, b := range run {
		entries += int(b.last - b.first + 1)
	}
	if len(run) < 2 || entries < sealSmall {
		return 0, 0, nil // the end of the trail, not worth a seal yet
	}
	lastFirst := run[len(run)-1].first
	prev, ok, err := db.hashBefore(ctx, start)
	if err != nil || !ok {
		// No entry just before the run: another node sealed meanwhile (or
		// an entry was removed, which Verify reports).
		return 0, lastFirst + 1, err
	}
	body, hashes, problem := joinRun(prev, run)
	if problem != "" {
		slog.Error("sqldb: audit blocks left unsealed: the chain does not hold there (custodian audit verify reports where)",
			"from", start, "to", run[len(run)-1].last, "problem", problem)
		return 0, lastFirst + 1, nil
	}
	last := run[len(run)-1]
	tsMin, tsMax := run[0].tsMin, run[0].tsMax
	for _, b := range run {
		tsMin, tsMax = min(tsMin, b.tsMin), max(tsMax, b.tsMax)
	}
	packed := packBlock(body, entries)
	sealed := 0
	err = db.Record(ctx, func(tx store.Tx) error {
		c, ok := tx.(*conn)
		if !ok {
			return errors.New("sqldb: audit seal outside an sqldb transaction")
		}
		sealed = 0
		if err := c.chainEnd(); err != nil { // the chain's lock, on PostgreSQL
			return err
		}
		// Still the blocks read (another process may have sealed them).
		var n, lastSeq int64
		if err := c.queryRow(`SELECT count(*), coalesce(max(last_seq), 0) FROM audit_block WHERE first_seq >= ? AND first_seq <= ?`,
			start, lastFirst).Scan(&n, &lastSeq); err != nil {
			return translate(err)
		}
		if n != int64(len(run)) || lastSeq != last.last {
			return nil
		}
		rows, err := c.query(`SELECT DISTINCT key FROM audit_key WHERE block >= ? AND block <= ?`, start, lastFirst)
		if err != nil {
			return translate(err)
		}
		keys := map[string]struct{}{}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return translate(err)
			}
			keys[k] = struct{}{}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return translate(err)
		}
		if _, err := c.exec(`DELETE FROM audit_key WHERE block >= ? AND block <= ?`, start, lastFirst); err != nil {
			return err
		}
		if _, err := c.exec(`DELETE FROM audit_block WHERE first_seq > ? AND first_seq <= ?`, start, lastFirst); err != nil {
			return err
		}
		if _, err := c.exec(`UPDATE audit_block SET last_seq = ?, ts_min = ?, ts_max = ?, hash = ?, hashes = ?, body = ? WHERE first_seq = ?`,
			last.last, tsMin, tsMax, last.hash, hashes, packed, start); err != nil {
			return err
		}
		if err := c.insertKeys(start, keys); err != nil {
			return err
		}
		sealed = entries
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return sealed, lastFirst + 1, nil
}

// readRun reads the run of blocks that begins at start: blocks in order
// while they fit in sealMax entries, and always the next one while the
// run is still small.
func (db *DB) readRun(ctx context.Context, start int64) ([]*sealBlock, error) {
	rows, err := db.readDB.QueryContext(ctx, db.dialect.rebind(`SELECT first_seq, last_seq, ts_min, ts_max, hash, hashes, body FROM audit_block
		WHERE first_seq >= ? ORDER BY first_seq LIMIT ?`), start, sealMax+1)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var run []*sealBlock
	entries := int64(0)
	for rows.Next() {
		var b sealBlock
		var stored []byte
		if err := rows.Scan(&b.first, &b.last, &b.tsMin, &b.tsMax, &b.hash, &b.hashes, &stored); err != nil {
			return nil, translate(err)
		}
		size := b.last - b.first + 1
		if len(run) > 0 && entries >= sealSmall && entries+size > sealMax {
			break
		}
		if b.body, err = unpackBlock(stored, nil); err != nil {
			b.body = nil // joinRun reports it
		}
		run = append(run, &b)
		if entries += size; entries >= sealMax {
			break
		}
	}
	return run, translate(rows.Err())
}

// hashBefore returns the chain hash of the entry before start: the last of
// the block before it, or a row written before blocks (nil at the start
// of the trail); ok is false if no block or row ends just before start.
func (db *DB) hashBefore(ctx context.Context, start int64) (h []byte, ok bool, err error) {
	if start <= 1 {
		return nil, true, nil
	}
	var last int64
	err = db.readDB.QueryRowContext(ctx, db.dialect.rebind(`SELECT last_seq, hash FROM audit_block WHERE first_seq < ? ORDER BY first_seq DESC LIMIT 1`), start).Scan(&last, &h)
	if errors.Is(err, sql.ErrNoRows) {
		last = start - 1
		err = db.readDB.QueryRowContext(ctx, db.dialect.rebind(`SELECT hash FROM audit_log WHERE seq = ?`), start-1).Scan(&h)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, translate(err)
	}
	return h, last == start-1, nil
}

// joinRun checks the entries of run against the chain, from prev (the hash
// of the entry before the run), and returns the sealed block's lines and
// hashes (all but the last entry's), or what is wrong.
func joinRun(prev []byte, run []*sealBlock) (body, hashes []byte, problem string) {
	size := 0
	for _, b := range run {
		size += len(b.body)
	}
	body = make([]byte, 0, size+1)
	hashes = make([]byte, 0, sha256.Size*len(run))
	var sum [sha256.Size]byte
	h := sha256.New()
	want := run[0].first
	for _, b := range run {
		if b.body == nil {
			return nil, nil, fmt.Sprintf("block %d does not decompress", b.first)
		}
		n := b.last - b.first + 1
		if b.first != want || len(b.hashes) != int(n-1)*sha256.Size || bytes.Count(b.body, []byte{'\n'}) != int(n) || b.body[len(b.body)-1] != '\n' {
			return nil, nil, fmt.Sprintf("block %d is not the block its columns describe", b.first)
		}
		rest := b.body
		for i := range n {
			line, tail, _ := bytes.Cut(rest, []byte{'\n'})
			rest = tail
			stored := b.hash
			if i < n-1 {
				stored = b.hashes[i*sha256.Size : (i+1)*sha256.Size]
			}
			if seq, ok := lineSeq(line); !ok || seq != want {
				return nil, nil, fmt.Sprintf("entry %d is out of place", want)
			}
			h.Reset()
			h.Write(prev)
			h.Write(line)
			if !bytes.Equal(h.Sum(sum[:0]), stored) {
				return nil, nil, fmt.Sprintf("entry %d does not hash to its hash", want)
			}
			if i < n-1 || b != run[len(run)-1] {
				hashes = append(hashes, stored...)
			}
			prev = stored
			want++
		}
		body = append(body, b.body...)
	}
	return body, hashes, ""
}
