package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// Store is what an import needs of the record store. *store.Store has it.
type Store interface {
	// PutBatchUnsynced writes resources as updates to their ids (creates
	// when they have none), reporting each one's outcome or error; the
	// commit may reach the disk only at the next Sync.
	PutBatchUnsynced(ctx context.Context, resources []map[string]any) ([]store.BatchResult, error)
	// Sync makes every write committed so far durable.
	Sync(ctx context.Context) error
	// Transaction performs entries as one unit.
	Transaction(ctx context.Context, entries []store.Entry) ([]*store.Outcome, error)
	// Missing returns the references ("Type/id") whose target does not exist.
	Missing(ctx context.Context, refs []string) ([]string, error)
}

// Options tune an import. The zero value is usable.
type Options struct {
	// Workers decode, validate, index and write batches in parallel;
	// runtime.NumCPU() when 0.
	Workers int
	// BatchSize is the number of NDJSON lines per store write; 1000 when 0.
	BatchSize int
	// MaxLine is the longest NDJSON line accepted, in bytes; 64 MiB when 0.
	MaxLine int
	// MaxBundle is the largest Bundle file accepted (Bundles are read whole);
	// 256 MiB when 0.
	MaxBundle int64
	// StateDir keeps a checkpoint per input file so a re-run resumes where
	// an interrupted one stopped. No checkpoints when "".
	StateDir string
	// Restart ignores existing checkpoints (and overwrites them).
	Restart bool
	// Report receives one JSON line per rejected record and per dangling
	// reference. Nothing is written when nil.
	Report io.Writer
	// Progress, when set, is called every ProgressEvery (1s when 0) and
	// once at the end.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// ShowDangling is how many dangling references Summary lists (all of
	// them go to the report); 20 when 0.
	ShowDangling int
}

// Progress is a snapshot of a running import.
type Progress struct {
	// Bytes of input read so far, of TotalBytes (compressed sizes for
	// compressed files; files skipped as already imported count as read).
	Bytes, TotalBytes int64
	Loaded, Rejected  int64
	Elapsed           time.Duration
	// Done is set on the last call.
	Done bool
}

// Rate is the resources loaded per second so far.
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Loaded) / p.Elapsed.Seconds()
}

// ETA estimates the time left from the share of bytes read.
func (p Progress) ETA() time.Duration {
	if p.Bytes <= 0 || p.TotalBytes <= p.Bytes {
		return 0
	}
	return time.Duration(float64(p.Elapsed) * float64(p.TotalBytes-p.Bytes) / float64(p.Bytes))
}

// Summary is the result of an import.
type Summary struct {
	// Files is the number of input files, of which Skipped were already
	// fully imported by an earlier run (per their checkpoints).
	Files, Skipped int
	// NotFHIR are the NDJSON files of directories left out because their
	// first record is a JSON object without a resourceType.
	NotFHIR []string
	// Loaded counts the resources stored or found already stored: Created
	// new, Updated to a new version, and Unchanged (same content already
	// there, no version added).
	Loaded, Created, Updated, Unchanged int64
	// Rejected counts the records that could not be loaded; each is in
	// the report.
	Rejected int64
	// Bytes is the input read.
	Bytes   int64
	Elapsed time.Duration
	// References is the number of literal references ("Type/id") checked,
	// Dangling the number of distinct targets among them that name nothing
	// in the store; DanglingRefs are the first of those.
	References   int64
	Dangling     int
	DanglingRefs []string
}

// Rate is the resources loaded per second.
func (s *Summary) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Loaded) / s.Elapsed.Seconds()
}

// Importer loads files into Store.
type Importer struct {
	Store Store
	Options

	// run state
	report  *reporter
	refs    *refTracker
	states  *stateStore
	created atomic.Int64
	updated atomic.Int64
	same    atomic.Int64
	reject  atomic.Int64
	bytes   atomic.Int64
	total   int64
}

// Run imports paths (files and directories) and returns what it did. The
// actor of ctx must be allowed to write; the command line uses the system
// actor. An error means the import stopped early (cancellation, an I/O or
// database failure); the Summary then says how far it got, and a re-run
// resumes from the checkpoints. Rejected records are not errors.
func (im *Importer) Run(ctx context.Context, paths []string) (*Summary, error) {
	start := time.Now()
	im.defaults()
	im.report = &reporter{w: im.Report}
	im.refs = newRefTracker()
	im.states = &stateStore{dir: im.StateDir, restart: im.Restart, sync: func() error { return im.Store.Sync(context.WithoutCancel(ctx)) }}
	phases, notFHIR, err := discover(paths)
	if err != nil {
		return nil, err
	}
	sum := &Summary{NotFHIR: notFHIR}
	for _, ph := range phases {
		sum.Files += len(ph)
		for _, src := range ph {
			im.total += src.size
		}
	}
	stopProgress := im.startProgress(start)
	for _, ph := range phases {
		if err = im.runPhase(ctx, ph, sum); err != nil {
			break
		}
	}
	if serr := im.Store.Sync(context.WithoutCancel(ctx)); serr != nil && err == nil {
		err = fmt.Errorf("ingest: sync: %w", serr)
	}
	if err == nil {
		err = im.checkReferences(ctx, sum)
	}
	sum.Created, sum.Updated, sum.Unchanged = im.created.Load(), im.updated.Load(), im.same.Load()
	sum.Loaded = sum.Created + sum.Updated + sum.Unchanged
	sum.Rejected = im.reject.Load()
	sum.Bytes = im.bytes.Load()
	sum.Elapsed = time.Since(start)
	stopProgress()
	if rerr := im.report.err(); rerr != nil && err == nil {
		err = fmt.Errorf("ingest: write the error report: %w", rerr)
	}
	return sum, err
}

func (im *Importer) defaults() {
	if im.Workers <= 0 {
		im.Workers = runtime.NumCPU()
	}
	if im.BatchSize <= 0 {
		im.BatchSize = 1000
	}
	if im.MaxLine <= 0 {
		im.MaxLine = 64 << 20
	}
	if im.MaxBundle <= 0 {
		im.MaxBundle = 256 << 20
	}
	if im.ProgressEvery <= 0 {
		im.ProgressEvery = time.Second
	}
	if im.ShowDangling <= 0 {
		im.ShowDangling = 20
	}
}

func (im *Importer) snapshot(start time.Time) Progress {
	loaded := im.created.Load() + im.updated.Load() + im.same.Load()
	return Progress{Bytes: im.bytes.Load(), TotalBytes: im.total, Loaded: loaded, Rejected: im.reject.Load(), Elapsed: time.Since(start)}
}

// startProgress reports progress periodically; the returned function stops
// it after one last report.
func (im *Importer) startProgress(start time.Time) func() {
	if im.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(im.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				im.Progress(im.snapshot(start))
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		p := im.snapshot(start)
		p.Done = true
		im.Progress(p)
	}
}

// job is a unit of work for the workers: a batch of NDJSON lines, or one
// Bundle file.
type job struct {
	src *source
	// NDJSON: the lines, and where the batch ends in the (decompressed)
	// input.
	seq     int
	lines   []line
	end     int64
	endLine int64
	// bundle is set for a Bundle file.
	bundle bool
}

// line is one NDJSON line: its number (from 1) and content.
type line struct {
	no   int64
	data []byte
	// err is set when the line could not be read whole (too long).
	err error
}

// runPhase imports one group of sources; the next group starts only when
// all of this one is stored (Synthea's organisations and practitioners
// before the patients that refer to them).
func (im *Importer) runPhase(ctx context.Context, srcs []*source, sum *Summary) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan *job, im.Workers)
	var wg sync.WaitGroup
	for range im.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if ctx.Err() != nil {
					continue // drain
				}
				var err error
				if j.bundle {
					err = im.doBundle(ctx, j.src)
				} else {
					err = im.doLines(ctx, j)
				}
				if err != nil {
					cancel(err)
				}
			}
		}()
	}
	var readErr error
	for _, src := range srcs {
		st, err := im.states.load(src)
		if err != nil {
			readErr = err
			break
		}
		src.state = st
		if st.Done {
			sum.Skipped++
			im.bytes.Add(src.size)
			continue
		}
		if src.kind == kindBundle {
			select {
			case jobs <- &job{src: src, bundle: true}:
			case <-ctx.Done():
			}
		} else if err := im.readNDJSON(ctx, src, jobs); err != nil {
			readErr = err
			break
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	for _, src := range srcs {
		if src.tracker != nil {
			if err := src.tracker.flush(); err != nil && readErr == nil {
				readErr = err
			}
		}
	}
	if readErr != nil {
		return readErr
	}
	if err := context.Cause(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			return custodian.Wrap(custodian.ETIMEOUT, err, "the import was interrupted; run it again to resume")
		}
		return err
	}
	return nil
}
