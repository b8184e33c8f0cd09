package audit

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
)

// Row is one stored entry as Verify reads it.
type Row struct {
	Seq  int64
	Body []byte // the canonical bytes as stored
	Hash []byte
}

// Scanner walks the stored trail in Seq order.
type Scanner interface {
	ScanAudit(ctx context.Context, fn func(Row) error) error
}

// VerifyResult is the outcome of Verify.
type VerifyResult struct {
	// Entries is the number of entries checked.
	Entries int64
	// OK is true when the whole chain holds.
	OK bool
	// BrokenAt is the Seq of the first entry where the chain breaks, and
	// Problem says how ("altered", "missing before", "inserted or reordered").
	BrokenAt int64
	Problem  string
}

// Verify recomputes the chain over the whole trail and reports the first
// entry that was altered, deleted or inserted.
func Verify(ctx context.Context, s Scanner) (*VerifyResult, error) {
	res := &VerifyResult{OK: true}
	var prev []byte
	var want int64 = 1
	err := s.ScanAudit(ctx, func(r Row) error {
		res.Entries++
		if !res.OK {
			return nil
		}
		switch {
		case r.Seq != want:
			res.OK, res.BrokenAt = false, r.Seq
			res.Problem = fmt.Sprintf("entries %d to %d are missing", want, r.Seq-1)
		case !bytes.Equal(ChainHash(prev, r.Body), r.Hash):
			res.OK, res.BrokenAt = false, r.Seq
			res.Problem = "the entry was altered, or an entry before it was removed or inserted"
		case !seqMatches(r):
			res.OK, res.BrokenAt = false, r.Seq
			res.Problem = "the entry's content does not match its position"
		}
		prev = r.Hash
		want = r.Seq + 1
		return nil
	})
	return res, err
}

// seqMatches checks that the body records the same sequence number as the
// row, so a row cannot be moved to another position with its hash.
func seqMatches(r Row) bool {
	var buf [32]byte
	prefix := strconv.AppendInt(append(buf[:0], `{"seq":`...), r.Seq, 10)
	return bytes.HasPrefix(r.Body, append(prefix, ','))
}
