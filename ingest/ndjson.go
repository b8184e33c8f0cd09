package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// maxBatchBytes bounds the text of one batch of lines, so a file of huge
// resources does not make huge batches.
const maxBatchBytes = 16 << 20

// readNDJSON reads src a line at a time and sends batches of lines to jobs,
// starting after the part an earlier run committed.
func (im *Importer) readNDJSON(ctx context.Context, src *source, jobs chan<- *job) error {
	f, err := os.Open(src.path)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	defer f.Close()
	st := src.state
	var r io.Reader
	if isGzip(f) {
		zr, err := gzip.NewReader(bufio.NewReaderSize(&countingReader{r: f, im: im}, 256<<10))
		if err != nil {
			return fmt.Errorf("ingest: %s: %w", src.path, err)
		}
		// A compressed stream cannot seek: read past what is done.
		if _, err := io.CopyN(io.Discard, zr, st.Offset); err != nil {
			return fmt.Errorf("ingest: %s: skip to the checkpoint: %w", src.path, err)
		}
		r = zr
	} else {
		if _, err := f.Seek(st.Offset, io.SeekStart); err != nil {
			return fmt.Errorf("ingest: %s: %w", src.path, err)
		}
		im.bytes.Add(st.Offset)
		r = &countingReader{r: f, im: im}
	}
	lr := bufio.NewReaderSize(r, 1<<20)
	tr := im.states.track(src)
	off, no := st.Offset, st.Line
	var batch []line
	var batchBytes int
	var buf []byte // the arena the batch's lines are copied into
	seq := 0
	flush := func() bool {
		if len(batch) == 0 {
			return true
		}
		j := &job{src: src, seq: seq, lines: batch, end: off, endLine: no}
		seq++
		batch, batchBytes, buf = nil, 0, nil
		select {
		case jobs <- j:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		data, n, tooLong, err := readLine(lr, im.MaxLine)
		if n > 0 {
			no++
			off += int64(n)
			l := line{no: no}
			if tooLong {
				l.err = custodian.Errorf(custodian.ETOOLARGE, "the line is longer than %d bytes", im.MaxLine)
			} else if len(bytes.TrimSpace(data)) > 0 {
				if buf == nil {
					buf = make([]byte, 0, min(maxBatchBytes, max(len(data), 1<<20)))
				}
				if cap(buf)-len(buf) < len(data) {
					buf = make([]byte, 0, max(len(data), 1<<20))
				}
				start := len(buf)
				buf = append(buf, data...)
				l.data = buf[start:len(buf):len(buf)]
			} else {
				continue // blank lines are not records
			}
			batch = append(batch, l)
			batchBytes += len(data)
			if len(batch) >= im.BatchSize || batchBytes >= maxBatchBytes {
				if !flush() {
					return nil
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("ingest: %s line %d: %w", src.path, no+1, err)
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	if !flush() {
		return nil
	}
	return tr.eof(seq)
}

// readLine reads one line (without its end) and the number of bytes it
// took in the input. A line longer than max is consumed and reported as too
// long, without keeping it in memory.
func readLine(r *bufio.Reader, max int) (data []byte, n int, tooLong bool, err error) {
	chunk, err := r.ReadSlice('\n')
	n = len(chunk)
	if err == nil || err == io.EOF {
		if len(chunk) > max+2 { // the line end does not count
			return nil, n, true, err
		}
		return trimEOL(chunk), n, false, err
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		return nil, n, false, err
	}
	acc := append([]byte(nil), chunk...)
	for {
		chunk, err = r.ReadSlice('\n')
		n += len(chunk)
		if !tooLong {
			if len(acc)+len(chunk) > max {
				tooLong, acc = true, nil
			} else {
				acc = append(acc, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			return nil, n, true, err
		}
		return trimEOL(acc), n, false, err
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// doLines loads one batch of NDJSON lines.
func (im *Importer) doLines(ctx context.Context, j *job) error {
	resources := make([]map[string]any, 0, len(j.lines))
	nos := make([]int64, 0, len(j.lines))
	for _, l := range j.lines {
		if l.err != nil {
			im.rejectLine(j.src, l.no, nil, l.err)
			continue
		}
		res, err := store.Decode(l.data)
		if err != nil {
			im.rejectLine(j.src, l.no, nil, err)
			continue
		}
		resources = append(resources, res)
		nos = append(nos, l.no)
	}
	j.lines = nil // let the text go
	if err := im.put(ctx, j.src, resources, func(i int) (int64, int) { return nos[i], -1 }); err != nil {
		return err
	}
	return j.src.tracker.done(j.seq, j.end, j.endLine)
}

// put writes resources with PutBatch and accounts for the results; where
// gives the line or entry of each resource for the report.
func (im *Importer) put(ctx context.Context, src *source, resources []map[string]any, where func(i int) (line int64, entry int)) error {
	if len(resources) == 0 {
		return nil
	}
	// Type and id as given, for the report, before the store stamps them.
	keys := make([][2]string, len(resources))
	for i, res := range resources {
		keys[i][0], _ = res["resourceType"].(string)
		keys[i][1], _ = res["id"].(string)
	}
	results, err := im.Store.PutBatchUnsynced(ctx, resources)
	if err != nil && len(results) != len(resources) {
		return err
	}
	// Even when the batch stopped early (err != nil), what it stored is
	// counted, so the counts of an interrupted run and its resumption add up.
	var loaded []string
	var refs []foundRef
	for i, r := range results {
		ln, entry := where(i)
		if r.Err == nil && r.Outcome == nil {
			continue // not written: the batch stopped first
		}
		if r.Err != nil {
			im.rejectAt(src, ln, entry, keys[i][0], keys[i][1], r.Err)
			continue
		}
		im.count(r.Outcome)
		if r.Outcome.Resource != nil {
			loaded = append(loaded, r.Outcome.Resource.Ref())
		}
		refs = collectRefs(resources[i], refs, src, ln, entry)
	}
	im.refs.add(loaded, refs)
	return err
}

func (im *Importer) count(out *store.Outcome) {
	switch {
	case out.Unchanged:
		im.same.Add(1)
	case out.Created:
		im.created.Add(1)
	default:
		im.updated.Add(1)
	}
}

func (im *Importer) rejectLine(src *source, no int64, res map[string]any, err error) {
	var typ, id string
	if res != nil {
		typ, _ = res["resourceType"].(string)
		id, _ = res["id"].(string)
	}
	im.rejectAt(src, no, -1, typ, id, err)
}

func (im *Importer) rejectAt(src *source, no int64, entry int, typ, id string, err error) {
	im.reject.Add(1)
	if code := custodian.ErrorCode(err); code == custodian.EINTERNAL || code == custodian.ETIMEOUT || code == custodian.EUNAVAILABLE {
		src.retry.Store(true)
	}
	im.report.reject(src.path, no, entry, typ, id, err)
}
