package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"runtime"
	"strconv"
	"sync"
)

// Row is one stored entry as Verify reads it.
type Row struct {
	Seq  int64
	Body []byte // the canonical bytes as stored
	Hash []byte
}

// Scanner reads the stored trail.
type Scanner interface {
	// MaxAuditSeq returns the largest Seq stored (0 for an empty trail).
	MaxAuditSeq(ctx context.Context) (int64, error)
	// ScanAudit calls fn with every row whose Seq is in [from, to), in Seq
	// order. Row buffers may be reused after fn returns.
	ScanAudit(ctx context.Context, from, to int64, fn func(Row) error) error
}

// VerifyResult is the outcome of Verify.
type VerifyResult struct {
	// Entries is the number of entries checked.
	Entries int64
	// OK is true when the whole chain holds.
	OK bool
	// BrokenAt is the Seq of the first entry where the chain breaks, and
	// Problem says how.
	BrokenAt int64
	Problem  string
}

// Verify recomputes the chain over the whole trail and reports the first
// entry that was altered, deleted or inserted. Each row stores its own hash,
// so ranges of the trail are checked in parallel, one per CPU, each starting
// from the stored hash of the row before it.
func Verify(ctx context.Context, s Scanner) (*VerifyResult, error) {
	max, err := s.MaxAuditSeq(ctx)
	if err != nil {
		return nil, err
	}
	parts := int64(runtime.GOMAXPROCS(0))
	if max < 10_000 {
		parts = 1
	}
	step := max/parts + 1
	results := make([]*VerifyResult, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for i := range parts {
		from, to := 1+i*step, min(1+(i+1)*step, max+1)
		if i == parts-1 {
			to = 0 // the last part also reads anything past max (rows inserted meanwhile)
		}
		wg.Go(func() { results[i], errs[i] = verifyRange(ctx, s, from, to) })
	}
	wg.Wait()
	total := &VerifyResult{OK: true}
	for i, r := range results {
		if errs[i] != nil {
			return nil, errs[i]
		}
		total.Entries += r.Entries
		if !r.OK && total.OK {
			total.OK, total.BrokenAt, total.Problem = false, r.BrokenAt, r.Problem
		}
	}
	return total, nil
}

// verifyRange checks rows [from, to) (to 0: to the end), taking the stored
// hash of row from-1 as the start of the chain.
func verifyRange(ctx context.Context, s Scanner, from, to int64) (*VerifyResult, error) {
	res := &VerifyResult{OK: true}
	var prev []byte
	var sum [sha256.Size]byte
	h := sha256.New()
	want := from
	start := max(from-1, 1)
	err := s.ScanAudit(ctx, start, to, func(r Row) error {
		if from > 1 && r.Seq == from-1 {
			prev = append(prev[:0], r.Hash...)
			return nil // the row before the range: only its hash is needed
		}
		res.Entries++
		if !res.OK {
			return nil
		}
		switch {
		case r.Seq > want:
			res.OK, res.BrokenAt = false, r.Seq
			res.Problem = fmt.Sprintf("entries %d to %d are missing", want, r.Seq-1)
		case r.Seq < want:
			res.OK, res.BrokenAt = false, r.Seq
			res.Problem = fmt.Sprintf("an entry numbered %d was inserted after entry %d", r.Seq, want-1)
		case !bytes.Equal(chainHash(h, sum[:0], prev, r.Body), r.Hash):
			res.OK, res.BrokenAt = false, r.Seq
			res.Problem = "the entry was altered, or an entry before it was removed or inserted"
		case !seqMatches(r):
			res.OK, res.BrokenAt = false, r.Seq
			res.Problem = "the entry's content does not match its position"
		}
		prev = append(prev[:0], r.Hash...)
		want = r.Seq + 1
		return nil
	})
	if err == nil && from > 1 && res.OK && prev == nil && res.Entries > 0 {
		res.OK, res.BrokenAt, res.Problem = false, from-1, "the entry was removed"
	}
	return res, err
}

// chainHash is ChainHash with h and dst reused.
func chainHash(h hash.Hash, dst, prev, canonical []byte) []byte {
	h.Reset()
	h.Write(prev)
	h.Write(canonical)
	return h.Sum(dst)
}

// seqMatches checks that the body records the same sequence number as the
// row, so a row cannot be moved to another position with its hash.
func seqMatches(r Row) bool {
	var buf [32]byte
	prefix := strconv.AppendInt(append(buf[:0], `{"seq":`...), r.Seq, 10)
	return bytes.HasPrefix(r.Body, append(prefix, ','))
}
