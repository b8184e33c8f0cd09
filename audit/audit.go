// Package audit is Custodian's audit trail: an append-only, hash-chained
// record of every access to and change of patient data, every export and
// every sign-in.
//
// Each entry carries the SHA-256 of the previous entry's hash and its own
// canonical bytes, so removing, altering, reordering or inserting an entry
// breaks the chain from that point; Verify names the first entry where it
// breaks. HIPAA's audit-controls standard (45 CFR 164.312(b)) asks for
// exactly this kind of record; the accounting of disclosures (164.528)
// needs six years of it, so entries are never deleted by Custodian.
package audit

import (
	"crypto/sha256"
	"encoding/json"
	"slices"
	"time"
)

// Actions recorded in the trail.
const (
	ActionRead        = "read"
	ActionVRead       = "vread"
	ActionSearch      = "search"
	ActionHistory     = "history"
	ActionCreate      = "create"
	ActionUpdate      = "update"
	ActionPatch       = "patch"
	ActionDelete      = "delete"
	ActionTransaction = "transaction"
	ActionExport      = "export"
	ActionSignIn      = "signin"
	ActionBreakGlass  = "break-glass"
)

// Entry is one audit record.
type Entry struct {
	// Seq is the entry's position in the trail (1, 2, …), set when stored.
	Seq  int64     `json:"seq"`
	Time time.Time `json:"time"`
	// Action is one of the Action constants.
	Action string `json:"action"`
	// Outcome is "success", or the error code of a refused or failed
	// attempt (e.g. "forbidden", "invalid").
	Outcome   string   `json:"outcome"`
	Actor     string   `json:"actor,omitempty"`
	ActorKind string   `json:"actorKind,omitempty"`
	Roles     []string `json:"roles,omitempty"`
	Address   string   `json:"address,omitempty"`
	Purpose   string   `json:"purpose,omitempty"`
	// Resources are the resources touched, as Type/id or Type/id/_history/v.
	Resources []string `json:"resources,omitempty"`
	// Patients are the ids of the patients whose records were touched.
	Patients []string `json:"patients,omitempty"`
	// Query is the search or export request, for searches and exports.
	Query string `json:"query,omitempty"`
	// BreakGlass marks access that used break-the-glass; Reason is the
	// reason the actor gave. The privacy officer reviews these.
	BreakGlass bool   `json:"breakGlass,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// Canonical returns the bytes of e that the chain hashes: its JSON with a
// fixed field order, times in UTC with nanoseconds (see AppendCanonical).
func (e *Entry) Canonical() []byte {
	return AppendCanonical(make([]byte, 0, 256), e)
}

// ChainHash is the hash of an entry: SHA-256 over the previous entry's hash
// followed by the entry's canonical bytes.
func ChainHash(prev, canonical []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(canonical)
	return h.Sum(nil)
}

// Filter selects entries. Zero fields select everything.
type Filter struct {
	Patient string
	Actor   string
	Action  string
	// Since and Until bound the entry time (Until exclusive).
	Since, Until time.Time
	// BreakGlass selects only break-the-glass entries.
	BreakGlass bool
	// Outcome selects entries with exactly this outcome ("success",
	// "forbidden", "failed", …); Failed selects every entry whose outcome
	// is not "success" (refusals, failed sign-ins, errors).
	Outcome string
	Failed  bool
	// Before is a paging cursor: entries with a smaller Seq only.
	Before int64
	// Limit is the maximum number of entries (newest first).
	Limit int
}

// Match reports whether e passes every condition of f except Before and
// Limit (which are about paging). Times compare to the millisecond, as
// stored.
func (f *Filter) Match(e *Entry) bool {
	switch {
	case f.Actor != "" && e.Actor != f.Actor,
		f.Action != "" && e.Action != f.Action,
		f.Outcome != "" && e.Outcome != f.Outcome,
		f.Failed && e.Outcome == "success",
		f.BreakGlass && !e.BreakGlass,
		!f.Since.IsZero() && e.Time.UnixMilli() < f.Since.UnixMilli(),
		!f.Until.IsZero() && e.Time.UnixMilli() >= f.Until.UnixMilli():
		return false
	}
	return f.Patient == "" || slices.Contains(e.Patients, f.Patient)
}

// Parse reads an entry from its canonical bytes.
func Parse(body []byte) (*Entry, error) {
	var e Entry
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, err
	}
	return &e, nil
}
