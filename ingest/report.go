package ingest

import (
	"encoding/json"
	"io"
	"sync"

	"github.com/custodian-him/custodian/fhir"
)

// reporter writes the error report: one JSON object a line, for each
// rejected record and each dangling reference.
type reporter struct {
	mu   sync.Mutex
	w    io.Writer
	fail error
}

// ReportRecord is one line of the error report.
type ReportRecord struct {
	// File is the input file; Line the NDJSON line (from 1) or Entry the
	// Bundle entry (from 0) where the record was. A problem with a whole
	// file has neither.
	File  string `json:"file"`
	Line  int64  `json:"line,omitempty"`
	Entry *int   `json:"entry,omitempty"`
	// ResourceType and ID are the record's, when it could be read.
	ResourceType string `json:"resourceType,omitempty"`
	ID           string `json:"id,omitempty"`
	// Reference is set for a dangling reference: the record at File and
	// Line or Entry refers to it, and no such resource is in the store.
	Reference string `json:"reference,omitempty"`
	// Outcome is the FHIR OperationOutcome saying why.
	Outcome map[string]any `json:"outcome"`
}

func (r *reporter) reject(file string, line int64, entry int, typ, id string, err error) {
	rec := &ReportRecord{File: file, Line: line, ResourceType: typ, ID: id, Outcome: Outcome(err)}
	if entry >= 0 {
		rec.Entry = &entry
	}
	r.write(rec)
}

func (r *reporter) dangling(file string, line int64, entry int, ref string, err error) {
	rec := &ReportRecord{File: file, Line: line, Reference: ref, Outcome: Outcome(err)}
	if entry >= 0 {
		rec.Entry = &entry
	}
	r.write(rec)
}

func (r *reporter) write(rec *ReportRecord) {
	if r.w == nil {
		return
	}
	b, err := json.Marshal(rec)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		_, err = r.w.Write(append(b, '\n'))
	}
	if err != nil && r.fail == nil {
		r.fail = err
	}
}

func (r *reporter) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fail
}

// Outcome is the OperationOutcome for err, as the FHIR API would answer.
func Outcome(err error) map[string]any { return fhir.Outcome(err) }
