package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
)

// kind is how an input file is read.
type kind int

const (
	kindNDJSON kind = iota // one resource a line
	kindBundle             // one JSON document: a Bundle or a single resource
)

// source is one input file.
type source struct {
	path string
	kind kind
	size int64
	// typ is the resource type an NDJSON file's name announces
	// ("Patient.ndjson"), for ordering.
	typ     string
	state   *fileState
	tracker *tracker
	// retry is set when a record failed for a reason that may pass, so a
	// Bundle file is not checkpointed as done.
	retry atomic.Bool
	// convert, for a file that is not FHIR JSON (C-CDA, HL7 v2), turns it
	// into a transaction Bundle (ccda_source.go).
	convert converter
}

// typeRank orders NDJSON files of a directory so that commonly referenced
// types come first; the others follow by name.
var typeRank = map[string]int{"Organization": 1, "Location": 2, "Practitioner": 3, "PractitionerRole": 4, "Patient": 5}

// discover lists the input files of paths, in phases: within a directory,
// Synthea's organisation and practitioner bundles form a phase of their own
// that is loaded before the rest.
func discover(paths []string) (phases [][]*source, notFHIR []string, err error) {
	var first, rest []*source
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("ingest: %w", err)
		}
		if !fi.IsDir() {
			src, err := newSource(p, fi, true)
			if err != nil {
				return nil, nil, err
			}
			rest = append(rest, src)
			continue
		}
		info, others, skipped, err := discoverDir(p)
		if err != nil {
			return nil, nil, err
		}
		first = append(first, info...)
		rest = append(rest, others...)
		notFHIR = append(notFHIR, skipped...)
	}
	if len(first)+len(rest) == 0 {
		return nil, nil, fmt.Errorf("ingest: no .ndjson, .jsonl or .json files (optionally .gz) in %s", strings.Join(paths, ", "))
	}
	if len(first) > 0 {
		phases = append(phases, first)
	}
	if len(rest) > 0 {
		phases = append(phases, rest)
	}
	return phases, notFHIR, nil
}

// discoverDir walks dir: Synthea information bundles, then NDJSON files by
// type rank, then the other files by path.
func discoverDir(dir string) (info, others []*source, notFHIR []string, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if path != dir && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if name == stateDirName {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !knownExtension(name) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		src, err := newSource(path, fi, false)
		if err != nil {
			return err
		}
		if src.kind == kindNDJSON && !looksFHIR(path) {
			// Side files next to the data (e.g. a generator's ground truth).
			notFHIR = append(notFHIR, path)
			return nil
		}
		if src.kind == kindBundle && (strings.HasPrefix(name, "hospitalInformation") || strings.HasPrefix(name, "practitionerInformation")) {
			info = append(info, src)
		} else {
			others = append(others, src)
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("ingest: %w", err)
	}
	sort.SliceStable(others, func(i, j int) bool {
		a, b := others[i], others[j]
		if a.kind != b.kind {
			return a.kind == kindNDJSON
		}
		ra, rb := rank(a.typ), rank(b.typ)
		if ra != rb {
			return ra < rb
		}
		return a.path < b.path
	})
	sort.SliceStable(info, func(i, j int) bool {
		// Organisations (hospitalInformation) before practitioners.
		return filepath.Base(info[i].path) < filepath.Base(info[j].path)
	})
	return info, others, notFHIR, nil
}

// looksFHIR reports whether the first record of an NDJSON file in a
// directory could be a FHIR resource: anything but a JSON object without a
// resourceType. A file that is not FHIR is left out of a directory import,
// not reported line by line.
func looksFHIR(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true // the import reports the error
	}
	defer f.Close()
	var r io.Reader = f
	if isGzip(f) {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return true
		}
		r = zr
	}
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		line = bytes.TrimSpace(line)
		if len(line) > 0 {
			var head struct {
				ResourceType *string `json:"resourceType"`
			}
			if json.Unmarshal(line, &head) != nil {
				return true // malformed, or longer than the peek: the import decides
			}
			return head.ResourceType != nil
		}
		if err != nil {
			return true
		}
	}
}

func rank(typ string) int {
	if r, ok := typeRank[typ]; ok {
		return r
	}
	return len(typeRank) + 1
}

func trimGz(name string) string { return strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".gzip") }

func knownExtension(name string) bool {
	switch filepath.Ext(trimGz(name)) {
	case ".ndjson", ".jsonl", ".ndj", ".json", ".xml", ".XML", ".hl7":
		return true
	}
	return false
}

// newSource decides how to read the file at path: by its extension, or, for
// an explicitly named file with another one, by its content.
func newSource(path string, fi fs.FileInfo, sniff bool) (*source, error) {
	src := &source{path: path, size: fi.Size()}
	base := trimGz(filepath.Base(path))
	switch filepath.Ext(base) {
	case ".ndjson", ".jsonl", ".ndj":
		src.kind = kindNDJSON
	case ".json":
		src.kind = kindBundle
	case ".xml", ".XML", ".hl7":
		src.kind, src.convert = kindBundle, converterFor(strings.ToLower(filepath.Ext(base)))
	default:
		if !sniff {
			return nil, fmt.Errorf("ingest: %s: unknown file type", path)
		}
		k, err := sniffKind(path)
		if err != nil {
			return nil, err
		}
		src.kind = k
	}
	src.typ, _, _ = strings.Cut(base, ".")
	if i := strings.IndexAny(src.typ, "-_ "); i > 0 {
		src.typ = src.typ[:i]
	}
	return src, nil
}

// sniffKind says NDJSON when the first line is a whole JSON object and
// something follows it.
func sniffKind(path string) (kind, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("ingest: %w", err)
	}
	defer f.Close()
	r, err := decompress(f)
	if err != nil {
		return 0, fmt.Errorf("ingest: %s: %w", path, err)
	}
	head := make([]byte, 1<<20)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return 0, fmt.Errorf("ingest: %s: %w", path, err)
	}
	head = head[:n]
	first, after, ok := bytes.Cut(head, []byte("\n"))
	if ok && json.Valid(first) && len(bytes.TrimSpace(after)) > 0 {
		return kindNDJSON, nil
	}
	return kindBundle, nil
}

// decompress returns r, or a gzip reader over it when it starts with the
// gzip magic bytes.
func decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		return zr, nil
	}
	return br, nil
}

// isGzip reports whether f starts with the gzip magic bytes.
func isGzip(f *os.File) bool {
	var magic [2]byte
	n, _ := f.ReadAt(magic[:], 0)
	return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b
}

// countingReader counts the bytes read through it into n.
type countingReader struct {
	r  io.Reader
	im *Importer
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.im.bytes.Add(int64(n))
	return n, err
}
