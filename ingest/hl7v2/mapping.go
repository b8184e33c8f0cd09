package hl7v2

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/custodian-him/custodian/store"
)

// Mapper turns messages into FHIR transaction entries.
type Mapper struct {
	Tables *Tables
}

// NewMapper returns a Mapper with the given tables (DefaultTables when nil).
func NewMapper(t *Tables) *Mapper {
	if t == nil {
		t = DefaultTables()
	}
	return &Mapper{Tables: t}
}

// Result is what one message maps to.
type Result struct {
	Header Header
	// Entries are the writes of one FHIR transaction. Every resource is
	// written conditionally on its identifier (an update of the one that
	// matches, or a create), so replaying a message changes nothing.
	Entries []store.Entry
	// IdentityChange is set for A40 (merge) and A47 (identifier change):
	// work for the master patient index, not for the transaction.
	IdentityChange *IdentityChange
	// Keep names, by entry URL, the elements of a resource the message
	// says nothing about because the segments they come from are absent:
	// an ADT^A08 without DG1 segments says nothing about the visit's
	// diagnoses, which in HL7 v2's snapshot mode means they stay as they
	// are (only a segment with every field "" deletes them). Whoever
	// stores the result copies these elements from the stored resource
	// into the entry first (KeepFrom); otherwise the update would drop
	// them and write a version that changes nothing the message said.
	Keep map[string][]string
}

// KeepFrom copies into the entry with URL url the elements Keep names for
// it that stored (the current version of that resource, decoded) has. The
// elements are whole: a kept list is stored's list, not a merge.
func (r *Result) KeepFrom(url string, stored map[string]any) {
	for _, e := range r.Entries {
		if e.URL != url || e.Resource == nil {
			continue
		}
		for _, name := range r.Keep[url] {
			if v, ok := stored[name]; ok {
				if _, set := e.Resource[name]; !set {
					e.Resource[name] = v
				}
			}
		}
	}
}

// Finder returns the current version, decoded, of the one stored resource
// of type typ matching criteria (a search query string), or nil when none
// or several match.
type Finder func(ctx context.Context, typ, criteria string) (map[string]any, error)

// KeepStored reads, with find, the stored resource behind each entry Keep
// names and copies the kept elements from it (KeepFrom). An entry whose
// resource is not stored yet (a create) or is ambiguous (the transaction
// refuses the update) keeps nothing.
func (r *Result) KeepStored(ctx context.Context, find Finder) error {
	for u := range r.Keep {
		typ, criteria, ok := strings.Cut(u, "?")
		if !ok {
			continue
		}
		stored, err := find(ctx, typ, criteria)
		if err != nil {
			return err
		}
		if stored != nil {
			r.KeepFrom(u, stored)
		}
	}
	return nil
}

// IdentityChange is a patient merge or identifier change announced by the
// registration system.
type IdentityChange struct {
	// Kind is "merge" (A40: Retired's record is merged into Survivor's) or
	// "identifier-change" (A47: the patient known as Retired is now known
	// as Survivor; one person, one record).
	Kind string `json:"kind"`
	// Survivor is the identifier that remains (PID-3).
	Survivor Identifier `json:"survivor"`
	// Retired is the identifier that goes (MRG-1).
	Retired Identifier `json:"retired"`
	// RetiredAccount is the prior account number (MRG-3), if any.
	RetiredAccount string `json:"retiredAccount,omitempty"`
	// Recorded is when the event happened (EVN-2), as a FHIR dateTime.
	Recorded string `json:"recorded,omitempty"`
	// ControlID is the message's MSH-10, for tracing.
	ControlID string `json:"controlId"`
	// Patient is the surviving patient's demographics from PID.
	Patient map[string]any `json:"patient,omitempty"`
}

// IdentityChanger applies merges and identifier changes: the master
// patient index implements it.
type IdentityChanger interface {
	ChangeIdentity(ctx context.Context, c *IdentityChange) error
}

// Bundle returns the entries as a FHIR transaction Bundle.
func (r *Result) Bundle() map[string]any {
	entries := make([]any, 0, len(r.Entries))
	for _, e := range r.Entries {
		req := obj{"method": string(e.Method), "url": e.URL}
		put(req, "ifNoneExist", e.IfNoneExist)
		ent := obj{"request": req}
		put(ent, "fullUrl", e.FullURL)
		if e.Resource != nil {
			ent["resource"] = e.Resource
		}
		entries = append(entries, ent)
	}
	return obj{"resourceType": "Bundle", "type": "transaction", "entry": entries}
}

// Replaces returns the identifiers of the documents this message replaces
// (MDM T09/T10: TXA-13). The transaction cannot mark them superseded (it
// holds only what the message carries), so whoever stores it does.
func (r *Result) Replaces() []Identifier {
	var out []Identifier
	for _, d := range r.Resources("DocumentReference") {
		rels, _ := d["relatesTo"].([]any)
		for _, x := range rels {
			rel, _ := x.(obj)
			if rel["code"] != "replaces" {
				continue
			}
			target, _ := rel["target"].(obj)
			id, _ := target["identifier"].(obj)
			sys, _ := id["system"].(string)
			val, _ := id["value"].(string)
			if val != "" {
				out = append(out, Identifier{System: sys, Value: val})
			}
		}
	}
	return out
}

// Resources returns the entries' resources of type typ, in order.
func (r *Result) Resources(typ string) []map[string]any {
	var out []map[string]any
	for _, e := range r.Entries {
		if e.Resource != nil && e.Resource["resourceType"] == typ {
			out = append(out, e.Resource)
		}
	}
	return out
}

// Map maps a parsed message. Unsupported message types are EUNPROCESSABLE
// (AR); content the mapping needs but cannot find is EINVALID (AE). Both
// carry an *Error.
func (mp *Mapper) Map(m *Message) (*Result, error) {
	h := m.Header()
	b := &builder{mp: mp, msg: m, h: h, byKey: map[string]int{}}
	res := &Result{Header: h}
	var err error
	switch h.Type {
	case "ADT":
		err = b.adt(res)
	case "ORU":
		if h.Trigger != "R01" {
			return nil, problem(true, "201", "MSH-9", "ORU^%s is not supported (ORU^R01 is)", h.Trigger)
		}
		err = b.oru()
	case "MDM":
		err = b.mdm()
	default:
		return nil, problem(true, "200", "MSH-9", "message type %s is not supported (ADT, ORU, MDM are)", h.Type)
	}
	if err != nil {
		return nil, err
	}
	res.Entries = b.entries
	for i, names := range b.keep {
		if res.Keep == nil {
			res.Keep = map[string][]string{}
		}
		res.Keep[b.entries[i].URL] = names
	}
	return res, nil
}

// builder collects the entries of one message.
type builder struct {
	mp      *Mapper
	msg     *Message
	h       Header
	entries []store.Entry
	// byKey finds the entry of a Type|system|value already written, so a
	// resource named twice in a message is written once.
	byKey      map[string]int
	patient    obj // reference to the patient
	mrn        Identifier
	encounter  obj // reference to the encounter, when there is one
	visit      Identifier
	conditions []any // Encounter.diagnosis
	// keep lists, by entry index, the elements the message says nothing
	// about (Result.Keep).
	keep map[int][]string
}

// keepStored notes that the update of the entry whose reference is r
// leaves element name as stored: the message has no segment for it. Only
// updates (registration messages) need it; a create-if-absent writes
// nothing over a stored resource.
func (b *builder) keepStored(r obj, name string) {
	full, _ := r["reference"].(string)
	for i, e := range b.entries {
		if e.FullURL == full && e.Method == store.MethodUpdate {
			if b.keep == nil {
				b.keep = map[int][]string{}
			}
			if !slices.Contains(b.keep[i], name) {
				b.keep[i] = append(b.keep[i], name)
			}
			return
		}
	}
}

// upsert adds a conditional update of res keyed on id and returns a
// reference to it. A second resource with the same key replaces the first.
func (b *builder) upsert(typ string, id Identifier, res obj) obj {
	key := typ + "|" + id.System + "|" + id.Value
	res["resourceType"] = typ
	if i, ok := b.byKey[key]; ok {
		b.entries[i].Resource = res
		return obj{"reference": b.entries[i].FullURL}
	}
	full := "urn:uuid:" + store.NewUUID()
	b.byKey[key] = len(b.entries)
	b.entries = append(b.entries, store.Entry{Method: store.MethodUpdate, URL: typ + "?identifier=" + id.Query(), FullURL: full, Resource: res})
	return obj{"reference": full}
}

// ensure adds a create of res unless one with identifier id exists, and
// returns a reference to it: for practitioners and locations, which
// messages describe only in part.
func (b *builder) ensure(typ string, id Identifier, res obj) obj {
	key := typ + "|" + id.System + "|" + id.Value
	res["resourceType"] = typ
	if i, ok := b.byKey[key]; ok {
		return obj{"reference": b.entries[i].FullURL}
	}
	full := "urn:uuid:" + store.NewUUID()
	b.byKey[key] = len(b.entries)
	b.entries = append(b.entries, store.Entry{Method: store.MethodCreate, URL: typ, FullURL: full, Resource: res, IfNoneExist: "identifier=" + id.Query()})
	return obj{"reference": full}
}

// registrationWrite writes a Patient or Encounter: over the stored one
// when the message comes from registration (Tables.RegistrationTypes),
// else only if there is none. A result must not undo what registration
// sent (an ORU's PID rarely carries the address, say), and the feed then
// writes those resources only when they change.
func (b *builder) registrationWrite(typ string, id Identifier, res obj) obj {
	if slices.Contains(b.mp.Tables.RegistrationTypes, b.h.Type) {
		return b.upsert(typ, id, res)
	}
	return b.ensure(typ, id, res)
}

// local returns an identifier Custodian derives for something the message
// names without an identifier of its own: kind and the parts it is known
// by, under the local system prefix.
func (b *builder) local(kind string, parts ...string) Identifier {
	return Identifier{System: b.mp.Tables.LocalSystemPrefix + kind, Value: strings.Join(parts, "|")}
}

// ref copies a reference so each use is its own JSON object.
func ref(r obj) obj {
	if r == nil {
		return nil
	}
	out := obj{}
	for k, v := range r {
		out[k] = v
	}
	return out
}

// practitioner writes the person an XCN names (id^family^given…^authority
// in 9^…^type in 13) and returns a reference; a person without an id is a
// reference by name only.
func (b *builder) practitioner(c Component) obj {
	if c.Empty() {
		return nil
	}
	name := xcnName(c)
	display := displayName(name)
	id := strings.TrimSpace(c.At(1))
	if id == "" {
		if display == "" {
			return nil
		}
		return obj{"display": display}
	}
	ident := Identifier{Value: id, System: b.mp.Tables.identifierSystem(c.Sub(9, 1), c.Sub(9, 2), c.Sub(9, 3), c.At(13), "")}
	if ident.System == "" {
		ident.System = b.mp.Tables.LocalSystemPrefix + urnPart(b.h.SendingFacility) + ":practitioner"
	}
	p := obj{"identifier": []any{ident.fhir()}}
	if name != nil {
		p["name"] = []any{name}
	}
	r := b.ensure("Practitioner", ident, p)
	put(r, "display", display)
	return r
}

func displayName(n obj) string {
	if n == nil {
		return ""
	}
	var parts []string
	if g, ok := n["given"].([]any); ok {
		for _, x := range g {
			parts = append(parts, x.(string))
		}
	}
	if f, ok := n["family"].(string); ok {
		parts = append(parts, f)
	}
	return strings.Join(parts, " ")
}

// number returns s as a JSON number, if it is one FHIR accepts.
func number(s string) (json.Number, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	s = strings.TrimPrefix(s, "+")
	if strings.HasPrefix(s, ".") {
		s = "0" + s
	} else if strings.HasPrefix(s, "-.") {
		s = "-0" + s[1:]
	}
	var f json.Number = json.Number(s)
	if _, err := f.Float64(); err != nil {
		return "", false
	}
	// JSON does not allow leading zeros, "1.", or exponents FHIR rejects.
	if !validDecimal(s) {
		return "", false
	}
	return f, true
}

func validDecimal(s string) bool {
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if !allDigits(intPart) || (len(intPart) > 1 && intPart[0] == '0') {
		return false
	}
	return !hasFrac || allDigits(frac)
}

func missing(loc, what string) error {
	return problem(false, "101", loc, "%s is missing", what)
}

// AsError returns the *Error inside err, if there is one.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
