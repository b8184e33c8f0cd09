package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// stateDirName is the directory of checkpoints inside the data directory;
// directory walks skip it.
const stateDirName = "import-state"

// StateDir is where the checkpoints of imports into the data directory
// dataDir are kept.
func StateDir(dataDir string) string { return filepath.Join(dataDir, stateDirName) }

// fileState is the checkpoint of one input file.
type fileState struct {
	Path    string    `json:"path"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"modTime"`
	// Offset is how many (decompressed) bytes are committed, Line the
	// number of the last committed line.
	Offset int64 `json:"offset"`
	Line   int64 `json:"line"`
	// Done is set once the whole file is committed.
	Done    bool      `json:"done"`
	Updated time.Time `json:"updated"`
}

// stateStore reads and writes checkpoints, one small JSON file per input
// file, named by the hash of its absolute path.
type stateStore struct {
	dir     string
	restart bool
	// sync makes the batches committed so far durable (they are written
	// without waiting for the disk); a file's checkpoint is saved only
	// after it, so it never claims more than a power failure leaves.
	sync func() error
}

func (s *stateStore) file(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	h := sha256.Sum256([]byte(abs))
	return filepath.Join(s.dir, hex.EncodeToString(h[:12])+".json")
}

// load returns src's checkpoint; a fresh one when there is none, when it
// is for a file of another size or time (the file changed), or on restart.
func (s *stateStore) load(src *source) (*fileState, error) {
	fi, err := os.Stat(src.path)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	fresh := &fileState{Path: src.path, Size: fi.Size(), ModTime: fi.ModTime().UTC()}
	if s.dir == "" || s.restart {
		return fresh, nil
	}
	b, err := os.ReadFile(s.file(src.path))
	if errors.Is(err, fs.ErrNotExist) {
		return fresh, nil
	} else if err != nil {
		return nil, fmt.Errorf("ingest: read checkpoint: %w", err)
	}
	var st fileState
	if json.Unmarshal(b, &st) != nil || st.Size != fresh.Size || !st.ModTime.Equal(fresh.ModTime) || st.Offset < 0 || st.Offset > st.Size && !isGzipPath(src.path) {
		return fresh, nil
	}
	st.Path = src.path
	return &st, nil
}

func isGzipPath(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return isGzip(f)
}

// save writes st atomically (a temporary file renamed over the old one).
// It does not sync: a checkpoint lost in a crash only means redoing some
// work, which is harmless since loading is idempotent.
func (s *stateStore) save(st *fileState) error {
	if s.dir == "" {
		return nil
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("ingest: checkpoint: %w", err)
	}
	st.Updated = time.Now().UTC()
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	path := s.file(st.Path)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("ingest: checkpoint: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("ingest: checkpoint: %w", err)
	}
	return nil
}

// saveEvery throttles checkpoint writes of a file being loaded.
const saveEvery = 2 * time.Second

// track starts following the batches of src, which complete in any order,
// to know how far the file is committed without a gap.
func (s *stateStore) track(src *source) *tracker {
	t := &tracker{s: s, st: src.state, finished: map[int]mark{}, total: -1}
	src.tracker = t
	return t
}

// tracker turns batches completed in any order into the committed prefix of
// a file.
type tracker struct {
	s  *stateStore
	mu sync.Mutex
	st *fileState
	// next is the sequence number of the first batch not yet committed;
	// finished holds the batches committed after a gap.
	next     int
	finished map[int]mark
	// total is the number of batches once the whole file is read, -1 before.
	total     int
	lastSaved time.Time
	dirty     bool
}

type mark struct{ offset, line int64 }

// done records that batch seq, which ends at offset and line, is committed.
func (t *tracker) done(seq int, offset, line int64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.finished[seq] = mark{offset, line}
	for {
		m, ok := t.finished[t.next]
		if !ok {
			break
		}
		delete(t.finished, t.next)
		t.next++
		t.st.Offset, t.st.Line, t.dirty = m.offset, m.line, true
	}
	return t.maybeSave()
}

// eof records that the file was read to its end in total batches.
func (t *tracker) eof(total int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total = total
	return t.maybeSave()
}

func (t *tracker) maybeSave() error {
	if t.total >= 0 && t.next == t.total && !t.st.Done {
		t.st.Done = true
		t.dirty = false
		return t.syncAndSave()
	}
	if t.dirty && time.Since(t.lastSaved) >= saveEvery {
		t.dirty, t.lastSaved = false, time.Now()
		return t.syncAndSave()
	}
	return nil
}

// syncAndSave makes what is committed durable, then saves the checkpoint.
// The tracker's lock is held, so batches ending meanwhile wait: the
// checkpoint saved is at most what the sync covered.
func (t *tracker) syncAndSave() error {
	if t.s.sync != nil {
		if err := t.s.sync(); err != nil {
			return fmt.Errorf("ingest: sync: %w", err)
		}
	}
	return t.s.save(t.st)
}

// flush saves what is committed, if not saved yet.
func (t *tracker) flush() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.dirty {
		return nil
	}
	t.dirty = false
	return t.syncAndSave()
}
