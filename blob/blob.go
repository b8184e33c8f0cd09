// Package blob keeps attachment content (the bytes of Binary resources:
// scans, images, PDFs, up to several GiB) outside the resource rows, by
// content: a blob's name is the SHA-256 of its bytes, so the same content
// is stored once, a name can never point outside the store, and a read can
// tell whether the bytes are still the ones written.
//
// Dir keeps blobs in a directory (by default <data directory>/blobs):
// sha256/ab/cd/abcd… for a blob whose hash starts abcd, written to a
// temporary file, synced and renamed into place, so a blob is either whole
// or absent. Content streams in and out; nothing holds a whole blob in
// memory.
//
// Several Custodian nodes on one PostgreSQL database share the blob
// directory (an NFS or similar mount at the same path on every node):
// names are content hashes and files are never changed once renamed into
// place, so nodes writing the same blob at once write the same bytes and
// the last rename wins harmlessly. An object store (S3 and the like, whose
// keys are the same hashes) fits the same interface and is the road beyond
// one shared file system; it is not built.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/custodian-him/custodian"
)

// Info describes a stored blob.
type Info struct {
	// SHA256 is the lower-case hex SHA-256 of the content: its name.
	SHA256 string
	Size   int64
}

// Dir is a blob store in a directory.
type Dir struct {
	root string

	mu sync.Mutex
	// verified remembers blobs whose whole content was checked against
	// their name, with the file's modification time then, so range reads
	// of a large blob do not hash all of it every time.
	verified map[string]time.Time
}

// Open returns the blob store in root, making the directory if needed.
func Open(root string) (*Dir, error) {
	for _, d := range []string{root, filepath.Join(root, "sha256"), filepath.Join(root, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	// Temporary files left by a crash mid-write are of no use.
	if old, err := filepath.Glob(filepath.Join(root, "tmp", "put-*")); err == nil {
		for _, f := range old {
			if st, err := os.Stat(f); err == nil && time.Since(st.ModTime()) > time.Hour {
				os.Remove(f)
			}
		}
	}
	return &Dir{root: root, verified: map[string]time.Time{}}, nil
}

// ValidHash reports whether s is a blob name: 64 lower-case hex digits.
func ValidHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// path is where blob h lives. h must be valid.
func (d *Dir) path(h string) string {
	return filepath.Join(d.root, "sha256", h[0:2], h[2:4], h)
}

// copyBuffer is the size of the buffer content streams through.
const copyBuffer = 1 << 20

// Put stores what r yields, at most limit bytes (ETOOLARGE beyond), and
// returns its name and size. It returns once the blob is durably on disk.
func (d *Dir) Put(ctx context.Context, r io.Reader, limit int64) (Info, error) {
	tmp, err := os.CreateTemp(filepath.Join(d.root, "tmp"), "put-*")
	if err != nil {
		return Info{}, custodian.Wrap(custodian.EINTERNAL, err, "the attachment cannot be stored")
	}
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	buf := make([]byte, copyBuffer)
	n, err := io.CopyBuffer(io.MultiWriter(fileWriter{tmp}, h), &ctxReader{ctx: ctx, r: io.LimitReader(r, limit+1)}, buf)
	switch {
	case err == nil:
	case errors.As(err, new(writeErr)):
		return Info{}, custodian.Wrap(custodian.EINTERNAL, err, "the attachment cannot be stored")
	case ctx.Err() != nil:
		return Info{}, custodian.Wrap(custodian.ETIMEOUT, err, "the upload was cancelled")
	default:
		var ce *custodian.Error
		if errors.As(err, &ce) {
			return Info{}, err // the source's own meaning (a body over its limit, say)
		}
		return Info{}, custodian.Wrap(custodian.EINVALID, err, "the attachment could not be read in full")
	}
	if n > limit {
		return Info{}, custodian.Errorf(custodian.ETOOLARGE, "the attachment is larger than the limit of %d bytes", limit)
	}
	if err := tmp.Sync(); err != nil {
		return Info{}, custodian.Wrap(custodian.EINTERNAL, err, "the attachment cannot be stored")
	}
	if err := tmp.Close(); err != nil {
		return Info{}, custodian.Wrap(custodian.EINTERNAL, err, "the attachment cannot be stored")
	}
	info := Info{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}
	final := d.path(info.SHA256)
	if st, err := os.Stat(final); err == nil && st.Size() == n {
		return info, nil // the same content is stored already
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return Info{}, custodian.Wrap(custodian.EINTERNAL, err, "the attachment cannot be stored")
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Info{}, custodian.Wrap(custodian.EINTERNAL, err, "the attachment cannot be stored")
	}
	keep = true
	if err := syncDir(filepath.Dir(final)); err != nil {
		return Info{}, custodian.Wrap(custodian.EINTERNAL, err, "the attachment cannot be stored")
	}
	return info, nil
}

// writeErr marks errors of the temporary file, as opposed to the source.
type writeErr struct{ error }

func (e writeErr) Unwrap() error { return e.error }

type fileWriter struct{ f *os.File }

func (w fileWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		err = writeErr{err}
	}
	return n, err
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// ctxReader stops reading when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// ErrCorrupt is the error of a read that found a blob's bytes no longer
// match its name.
var ErrCorrupt = custodian.Errorf(custodian.EINTERNAL, "the stored attachment is damaged: its content no longer matches its SHA-256")

// Open opens blob h for reading: ENOTFOUND if it is not stored, EINVALID
// if h is not a blob name. A reader that reads the blob from its start to
// its end checks the content against h and fails with ErrCorrupt on its
// last read if it does not match.
func (d *Dir) Open(h string) (*Reader, error) {
	if !ValidHash(h) {
		return nil, custodian.Errorf(custodian.EINVALID, "%q is not a SHA-256 blob name", h)
	}
	f, err := os.Open(d.path(h))
	if errors.Is(err, os.ErrNotExist) {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "the attachment content %s is not stored", h)
	} else if err != nil {
		return nil, custodian.Wrap(custodian.EINTERNAL, err, "the attachment cannot be read")
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, custodian.Wrap(custodian.EINTERNAL, err, "the attachment cannot be read")
	}
	return &Reader{f: f, want: h, size: st.Size(), h: sha256.New()}, nil
}

// Verify checks the whole content of blob h against its name (once per
// version of the file: a verified blob is not read again until its file
// changes).
func (d *Dir) Verify(h string) error {
	r, err := d.Open(h)
	if err != nil {
		return err
	}
	defer r.Close()
	st, err := r.f.Stat()
	if err != nil {
		return custodian.Wrap(custodian.EINTERNAL, err, "the attachment cannot be read")
	}
	d.mu.Lock()
	at, ok := d.verified[h]
	d.mu.Unlock()
	if ok && at.Equal(st.ModTime()) {
		return nil
	}
	if _, err := io.CopyBuffer(io.Discard, r, make([]byte, copyBuffer)); err != nil {
		return err
	}
	d.mu.Lock()
	d.verified[h] = st.ModTime()
	d.mu.Unlock()
	return nil
}

// Reader reads a blob. It is an io.ReadSeeker for range requests.
type Reader struct {
	f    *os.File
	want string
	size int64
	// pos is the offset of the next read; h hashes the bytes read while
	// the reads have been sequential from the start (sequential).
	pos        int64
	h          hash.Hash
	sequential bool
	started    bool
}

// Size is the blob's size in bytes.
func (r *Reader) Size() int64 { return r.size }

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	if !r.started {
		r.started, r.sequential = true, r.pos == 0
	}
	n, err := r.f.Read(p)
	if r.sequential && n > 0 {
		r.h.Write(p[:n])
	}
	r.pos += int64(n)
	if r.sequential && r.pos == r.size && n > 0 {
		r.sequential = false
		if hex.EncodeToString(r.h.Sum(nil)) != r.want {
			return 0, ErrCorrupt // the last bytes are withheld: the copy fails
		}
	}
	return n, err
}

// Seek implements io.Seeker. Seeking anywhere but the start turns off the
// check of the content (Verify it first).
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	pos, err := r.f.Seek(offset, whence)
	if err != nil {
		return pos, err
	}
	if r.started && pos != r.pos {
		r.sequential = false
	}
	if !r.started && pos != 0 && whence != io.SeekEnd {
		r.started, r.sequential = true, false
	}
	r.pos = pos
	return pos, nil
}

// Close implements io.Closer.
func (r *Reader) Close() error { return r.f.Close() }
