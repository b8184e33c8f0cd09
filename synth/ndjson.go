package synth

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// GroundTruthFile is the name of the ground-truth file DirWriter writes
// (one Fact per line, NDJSON; ".gz" is appended when compressing).
const GroundTruthFile = "ground-truth.ndjson"

// DirWriter is a Writer that writes the Bulk Data layout: one NDJSON file
// per resource type (Patient.ndjson, Encounter.ndjson, …), optionally
// gzip-compressed (Patient.ndjson.gz), and the facts to
// ground-truth.ndjson. Files are created on first use. Close must be
// called to flush them.
type DirWriter struct {
	dir   string
	gzip  bool
	files map[string]*ndjsonFile
	enc   *json.Encoder
	truth *ndjsonFile
}

type ndjsonFile struct {
	f  *os.File
	zw *gzip.Writer
	bw *bufio.Writer
}

// NewDirWriter makes dir (if needed) and returns a DirWriter into it.
// It refuses a directory that already holds NDJSON output, so that two
// runs never mix.
func NewDirWriter(dir string, compress bool) (*DirWriter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, pat := range []string{"*.ndjson", "*.ndjson.gz"} {
		if m, _ := filepath.Glob(filepath.Join(dir, pat)); len(m) > 0 {
			return nil, fmt.Errorf("synth: %s already holds NDJSON files (%s); use an empty directory", dir, filepath.Base(m[0]))
		}
	}
	return &DirWriter{dir: dir, gzip: compress, files: map[string]*ndjsonFile{}}, nil
}

func (w *DirWriter) open(name string) (*ndjsonFile, error) {
	if w.gzip {
		name += ".gz"
	}
	f, err := os.Create(filepath.Join(w.dir, name))
	if err != nil {
		return nil, err
	}
	nf := &ndjsonFile{f: f}
	var out io.Writer = f
	if w.gzip {
		nf.zw, _ = gzip.NewWriterLevel(f, gzip.BestSpeed)
		out = nf.zw
	}
	nf.bw = bufio.NewWriterSize(out, 256<<10)
	return nf, nil
}

// Resource implements Writer.
func (w *DirWriter) Resource(typ, _ string, body []byte) error {
	nf := w.files[typ]
	if nf == nil {
		var err error
		if nf, err = w.open(typ + ".ndjson"); err != nil {
			return err
		}
		w.files[typ] = nf
	}
	nf.bw.Write(body)
	return nf.bw.WriteByte('\n')
}

// Fact implements Writer.
func (w *DirWriter) Fact(f *Fact) error {
	if w.truth == nil {
		var err error
		if w.truth, err = w.open(GroundTruthFile); err != nil {
			return err
		}
		w.enc = json.NewEncoder(w.truth.bw)
		w.enc.SetEscapeHTML(false)
	}
	return w.enc.Encode(f)
}

// Files lists the files written so far, sorted.
func (w *DirWriter) Files() []string {
	var out []string
	for _, nf := range w.files {
		out = append(out, nf.f.Name())
	}
	if w.truth != nil {
		out = append(out, w.truth.f.Name())
	}
	slices.Sort(out)
	return out
}

// Close flushes and closes every file.
func (w *DirWriter) Close() error {
	var errs []error
	all := make([]*ndjsonFile, 0, len(w.files)+1)
	for _, nf := range w.files {
		all = append(all, nf)
	}
	if w.truth != nil {
		all = append(all, w.truth)
	}
	for _, nf := range all {
		errs = append(errs, nf.bw.Flush())
		if nf.zw != nil {
			errs = append(errs, nf.zw.Close())
		}
		errs = append(errs, nf.f.Close())
	}
	return errors.Join(errs...)
}
