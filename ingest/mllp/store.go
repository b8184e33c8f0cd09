package mllp

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/ingest/hl7v2"
	"github.com/custodian-him/custodian/store"
)

// How messages and dead letters are kept: as FHIR Basic resources, so they
// need no tables of their own, are searchable, audited and carried by
// backups like any record.
//
// A received message is a Basic with code urn:custodian:feed|hl7v2-message,
// the identifier SystemMessagePrefix + sending application + ":" + facility
// | control id (MSH-3, MSH-4, MSH-10), as id the SHA-256 of that identifier
// in hex, the patient as subject, and the raw
// message (base64) in the ExtMessage extension. It is written in the same
// transaction as the resources the message maps to, so a message is either
// wholly stored or not at all.
//
// A dead letter is a Basic with code urn:custodian:feed|hl7v2-dead-letter,
// the identifier SystemDeadLetter | SHA-256 of the raw message (a message
// refused twice is one dead letter), and extensions for the message, the
// reason, the answer sent (AE/AR), the HL7 condition code and location, the
// sender's address and when it arrived.
const (
	SystemFeed          = "urn:custodian:feed"
	CodeMessage         = "hl7v2-message"
	CodeDeadLetter      = "hl7v2-dead-letter"
	SystemMessagePrefix = "urn:custodian:hl7v2:message:"
	SystemDeadLetter    = "urn:custodian:hl7v2:dead-letter"
	SystemMessageType   = "http://terminology.hl7.org/CodeSystem/v2-0076"
	SystemEventType     = "http://terminology.hl7.org/CodeSystem/v2-0003"

	extBase       = "https://custodian.example/fhir/StructureDefinition/"
	ExtMessage    = extBase + "hl7v2-message"
	ExtReason     = extBase + "feed-reason"
	ExtAckCode    = extBase + "feed-ack-code"
	ExtCondition  = extBase + "feed-condition"
	ExtLocation   = extBase + "feed-location"
	ExtRemote     = extBase + "feed-remote"
	ExtReceived   = extBase + "feed-received"
	ExtMessageTyp = extBase + "hl7v2-message-type"
)

// StoreHandler stores messages in a Custodian store: the mapped resources
// and the message itself in one transaction.
type StoreHandler struct {
	Store  *store.Store
	Mapper *hl7v2.Mapper
	// Identity applies A40 merges and A47 identifier changes; without it
	// those messages are refused (kept as dead letters, to be replayed when
	// the master patient index is wired).
	Identity hl7v2.IdentityChanger
	// Actor is who the feed writes as (a system actor).
	Actor *custodian.Actor

	// known maps the criteria of a create-if-absent entry (the
	// practitioners and locations messages name) to the resource found or
	// created for it, so later messages refer to it without searching.
	known     sync.Map
	knownSize atomic.Int64
}

// maxKnown bounds the remembered practitioners and locations.
const maxKnown = 100_000

// useKnown drops the create-if-absent entries whose resource is known and
// points the references to them at it.
func (h *StoreHandler) useKnown(entries []store.Entry) []store.Entry {
	to := map[string]string{}
	kept := entries[:0:0]
	for _, e := range entries {
		if knowable(e) {
			if ref, ok := h.known.Load(e.URL + "?" + e.IfNoneExist); ok {
				to[e.FullURL] = ref.(string)
				continue
			}
		}
		kept = append(kept, e)
	}
	if len(to) > 0 {
		for _, e := range kept {
			repoint(e.Resource, to)
		}
	}
	return kept
}

func (h *StoreHandler) remember(entries []store.Entry, outs []*store.Outcome) {
	if h.knownSize.Load() > maxKnown {
		h.known.Clear()
		h.knownSize.Store(0)
	}
	for i, e := range entries {
		if knowable(e) && i < len(outs) && outs[i] != nil && outs[i].Resource != nil {
			if _, loaded := h.known.LoadOrStore(e.URL+"?"+e.IfNoneExist, outs[i].Resource.Ref()); !loaded {
				h.knownSize.Add(1)
			}
		}
	}
}

// knowable reports whether e is a create-if-absent whose resource may be
// remembered: practitioners and locations, which are not merged or
// retired the way patients (and their visits) are, so a remembered id
// stays right.
func knowable(e store.Entry) bool {
	return e.Method == store.MethodCreate && e.IfNoneExist != "" && (e.URL == "Practitioner" || e.URL == "Location")
}

func repoint(v any, to map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "reference" {
				if r, ok := to[s]; ok {
					v[k] = r
				}
				continue
			}
			repoint(x, to)
		}
	case []any:
		for _, x := range v {
			repoint(x, to)
		}
	}
}

func messageID(h hl7v2.Header) (system, value string) {
	return SystemMessagePrefix + urnPart(h.SendingApp) + ":" + urnPart(h.SendingFacility), h.ControlID
}

// receiptID is the id of a message's receipt: the SHA-256 of its
// identifier, in hex (64 characters, the most a FHIR id may have).
func receiptID(system, value string) string {
	sum := sha256.Sum256([]byte(system + "|" + value))
	return hex.EncodeToString(sum[:])
}

func urnPart(s string) string {
	if s == "" {
		return "-"
	}
	return strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
}

func query(system, value string) string {
	esc := strings.NewReplacer(`,`, `\,`)
	return url.QueryEscape(esc.Replace(system) + "|" + esc.Replace(value))
}

// Handle maps and stores m. A message whose control id (from the same
// sending application and facility) was stored before is ErrDuplicate and
// is not applied again: a late resend must not undo what came after it.
func (h *StoreHandler) Handle(ctx context.Context, m *hl7v2.Message, raw []byte) error {
	ctx = h.withActor(ctx)
	hd := m.Header()
	// The receipt's id is derived from the message's identity, so finding
	// a resend is a read by id, not a search.
	seen, err := h.received(ctx, []string{receiptID(messageID(hd))})
	switch {
	case err != nil:
		return err
	case seen[0]:
		return ErrDuplicate
	}
	r, err := h.Mapper.Map(m)
	if err != nil {
		return err
	}
	return h.store(ctx, hd, r, raw)
}

func (h *StoreHandler) withActor(ctx context.Context) context.Context {
	if h.Actor != nil {
		return custodian.NewContextWithActor(ctx, h.Actor)
	}
	return ctx
}

// received reports, for each receipt id, whether that message was stored
// before. The feed's system actor asks the store without an audit record
// per message, the ids looked up together (Store.Exist reveals existence
// only, to system actors); any other actor reads each receipt, audited.
func (h *StoreHandler) received(ctx context.Context, rids []string) ([]bool, error) {
	if a := custodian.ActorFromContext(ctx); a != nil && a.Kind == "system" {
		return h.Store.Exist(ctx, "Basic", rids)
	}
	seen := make([]bool, len(rids))
	for i, rid := range rids {
		switch _, err := h.Store.Read(ctx, "Basic", rid); {
		case err == nil:
			seen[i] = true
		case custodian.ErrorCode(err) != custodian.ENOTFOUND:
			return nil, err
		}
	}
	return seen, nil
}

// store writes what a message maps to, with its receipt, in one
// transaction (after the identity change or supersession it carries).
func (h *StoreHandler) store(ctx context.Context, hd hl7v2.Header, r *hl7v2.Result, raw []byte) error {
	if c := r.IdentityChange; c != nil {
		if h.Identity == nil {
			return custodian.Errorf(custodian.EUNPROCESSABLE, "ADT^%s (patient %s) needs the master patient index, which is not connected to the feed", hd.Trigger, c.Kind)
		}
		if err := h.Identity.ChangeIdentity(ctx, c); err != nil {
			return err
		}
	}
	if err := h.supersede(ctx, r.Replaces()); err != nil {
		return err
	}
	if err := h.keepStored(ctx, r); err != nil {
		return err
	}
	entries := h.useKnown(append(r.Entries, h.receipt(hd, r, raw)))
	outs, err := h.Store.TransactionResolved(ctx, entries)
	if err != nil {
		return err
	}
	h.remember(entries, outs)
	return nil
}

// receipt is the entry that keeps the message itself (see the notes at
// the top of this file).
func (h *StoreHandler) receipt(hd hl7v2.Header, r *hl7v2.Result, raw []byte) store.Entry {
	sys, val := messageID(hd)
	rid := receiptID(sys, val)
	receipt := map[string]any{"resourceType": "Basic", "id": rid,
		"identifier": []any{map[string]any{"system": sys, "value": val}},
		"code":       feedCode(CodeMessage, "HL7 v2 message received", hd),
		"extension": []any{
			map[string]any{"url": ExtMessageTyp, "valueString": hd.Type + "^" + hd.Trigger},
			map[string]any{"url": ExtMessage, "valueBase64Binary": base64.StdEncoding.EncodeToString(raw)},
			map[string]any{"url": ExtReceived, "valueInstant": store.FormatInstant(h.Store.Now())},
		}}
	for _, e := range r.Entries {
		if e.Resource["resourceType"] == "Patient" {
			receipt["subject"] = map[string]any{"reference": e.FullURL}
			break
		}
	}
	return store.Entry{Method: store.MethodUpdate, URL: "Basic/" + rid, Resource: receipt}
}

// keepStored copies into the updates of rs the elements their messages
// say nothing about (hl7v2.Result.Keep) from the resources they update,
// read before the transaction: for every result at once, the identities
// looked up together and one audit record for the read (Store.FindEach).
// The read is not repeated inside the transaction: the feed stores one
// patient's messages one after another, so only another writer could
// change those elements in between, and the message, applied first, would
// not have touched them either.
func (h *StoreHandler) keepStored(ctx context.Context, rs ...*hl7v2.Result) error {
	var urls []string
	at := map[string]int{}
	for _, r := range rs {
		for u := range r.Keep {
			if _, seen := at[u]; !seen && strings.Contains(u, "?") {
				at[u] = len(urls)
				urls = append(urls, u)
			}
		}
	}
	if len(urls) == 0 {
		return nil
	}
	stored, err := h.Store.FindEach(ctx, urls)
	if err != nil {
		return err
	}
	for _, r := range rs {
		for u := range r.Keep {
			if i, ok := at[u]; ok && stored[i] != nil {
				r.KeepFrom(u, stored[i])
			}
		}
	}
	return nil
}

// supersede marks the documents a replacement (MDM T09/T10) replaces as
// superseded. It runs before the replacement is stored: if storing then
// fails, the resend finds them superseded already and changes nothing.
func (h *StoreHandler) supersede(ctx context.Context, ids []hl7v2.Identifier) error {
	for _, id := range ids {
		q, err := h.Store.ParseQueryString("DocumentReference", "identifier="+query(id.System, id.Value))
		if err != nil {
			return err
		}
		found, err := h.Store.SearchWithIncludes(ctx, q)
		if err != nil {
			return err
		}
		for _, d := range found.Resources {
			if strings.Contains(string(d.Body), `"status":"superseded"`) {
				continue
			}
			patch := []byte(`[{"op":"replace","path":"/status","value":"superseded"}]`)
			if _, err := h.Store.Patch(ctx, "DocumentReference", d.ID, patch, store.WriteOptions{IfMatch: d.VersionID}); err != nil {
				return err
			}
		}
	}
	return nil
}

// StoreDeadLetters keeps dead letters in a Custodian store.
type StoreDeadLetters struct {
	Store *store.Store
	Actor *custodian.Actor
}

// Put stores l as a Basic resource (see the package's notes).
func (d *StoreDeadLetters) Put(ctx context.Context, l *DeadLetter) error {
	if d.Actor != nil {
		ctx = custodian.NewContextWithActor(ctx, d.Actor)
	}
	sum := sha256.Sum256(l.Raw)
	id := hex.EncodeToString(sum[:])
	ext := []any{
		map[string]any{"url": ExtMessage, "valueBase64Binary": base64.StdEncoding.EncodeToString(l.Raw)},
		map[string]any{"url": ExtReason, "valueString": orDash(l.Reason)},
		map[string]any{"url": ExtAckCode, "valueCode": string(l.Code)},
		map[string]any{"url": ExtReceived, "valueInstant": store.FormatInstant(l.Received)},
	}
	if l.Condition != "" {
		ext = append(ext, map[string]any{"url": ExtCondition, "valueCode": l.Condition})
	}
	if l.Location != "" {
		ext = append(ext, map[string]any{"url": ExtLocation, "valueString": l.Location})
	}
	if l.Remote != "" {
		ext = append(ext, map[string]any{"url": ExtRemote, "valueString": l.Remote})
	}
	if l.Header.Type != "" {
		ext = append(ext, map[string]any{"url": ExtMessageTyp, "valueString": l.Header.Type + "^" + l.Header.Trigger})
	}
	res := map[string]any{"resourceType": "Basic",
		"identifier": []any{map[string]any{"system": SystemDeadLetter, "value": id}},
		"code":       feedCode(CodeDeadLetter, "HL7 v2 message refused", l.Header),
		"extension":  ext}
	_, err := d.Store.Transaction(ctx, []store.Entry{{Method: store.MethodCreate, URL: "Basic", Resource: res, IfNoneExist: "identifier=" + query(SystemDeadLetter, id)}})
	return err
}

// feedCode is Basic.code of a receipt or dead letter: the feed code, then
// the message type (table 0076) and event (table 0003), so counts per type
// are plain searches (Basic?code=http://terminology.hl7.org/CodeSystem/v2-0003|A01).
func feedCode(code, display string, h hl7v2.Header) map[string]any {
	codings := []any{map[string]any{"system": SystemFeed, "code": code, "display": display}}
	if validCode(h.Type) {
		codings = append(codings, map[string]any{"system": SystemMessageType, "code": h.Type})
	}
	if validCode(h.Trigger) {
		codings = append(codings, map[string]any{"system": SystemEventType, "code": h.Trigger})
	}
	return map[string]any{"coding": codings}
}

// validCode keeps what a sender wrote out of a code when it is not one.
func validCode(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
