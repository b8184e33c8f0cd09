package mllp

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/custodian-him/custodian/ingest/hl7v2"
	"github.com/custodian-him/custodian/store"
)

// Inbound is a message received and parsed, waiting to be stored.
type Inbound struct {
	Message *hl7v2.Message
	Raw     []byte
}

// BatchHandler is a Handler that can also store many messages in one
// commit. The Server uses it when its Handler has it: messages from every
// connection that are ready at the same moment share one transaction, one
// audit entry and one wait for the disk.
type BatchHandler interface {
	Handler
	// HandleBatch stores msgs as Handle would store each one, and returns
	// each one's outcome (errs[i] is msgs[i]'s, as Handle would return it).
	// The messages must not depend on one another: the order in which they
	// are applied is not defined. (The Server passes a message only once
	// the messages before it about the same patient, and any earlier copy
	// of it, are stored.)
	HandleBatch(ctx context.Context, msgs []Inbound) []error
}

// HandleBatch implements BatchHandler. The resends among msgs are found
// by one existence check of their receipts; the rest are mapped, and
// their entries written together in one store transaction. Messages that
// would write the same conditional identity (two visits naming one new
// practitioner are merged instead) wait for a second transaction after
// the first, so a transaction never creates one identity twice. Identity
// changes (A40, A47) and document replacements (MDM T09/T10), which do
// work before their transaction, are stored one by one. If a transaction
// fails, each of its messages is stored again on its own, so one faulty
// message is refused alone.
//
// A transaction goes through Store.TransactionResolved: the identities
// its entries are keyed on (patient by identifier, visit by visit number,
// results, documents, the receipt's id) are looked up together before the
// single writer, so every resource is made ready outside it, and the
// writer only checks them; if one changed in between the store does the
// transaction again the ordinary way.
func (h *StoreHandler) HandleBatch(ctx context.Context, msgs []Inbound) []error {
	ctx = h.withActor(ctx)
	errs := make([]error, len(msgs))
	rids := make([]string, len(msgs))
	for i, in := range msgs {
		rids[i] = receiptID(messageID(in.Message.Header()))
	}
	seen, err := h.received(ctx, rids)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	var (
		plain   []*batched
		results []*hl7v2.Result // of plain, in order
		alone   []int           // stored one by one, after the transactions
		rid     = map[string]bool{}
	)
	for i, in := range msgs {
		switch {
		case seen[i]:
			errs[i] = ErrDuplicate
			continue
		case rid[rids[i]]:
			// The same message twice in one call: the second is found a
			// duplicate once the first is stored.
			alone = append(alone, i)
			continue
		}
		rid[rids[i]] = true
		r, err := h.Mapper.Map(in.Message)
		if err != nil {
			errs[i] = err
			continue
		}
		if r.IdentityChange != nil || len(r.Replaces()) > 0 {
			alone = append(alone, i)
			continue
		}
		b := &batched{i: i, entries: h.useKnown(append(r.Entries, h.receipt(in.Message.Header(), r, in.Raw))), keeps: len(r.Keep) > 0}
		plain = append(plain, b)
		results = append(results, r)
	}
	// The entries share their resources with the results, so what is
	// kept from the stored resources reaches them.
	if err := h.keepStored(ctx, results...); err != nil {
		for _, b := range plain {
			errs[b.i] = err
		}
		plain = nil
	}
	for first := true; len(plain) > 0; first = false {
		var round []*batched
		round, plain = takeRound(plain)
		if !first {
			// A later round writes what an earlier one wrote: what was
			// kept from the stored resources may be out of date, so such
			// messages are stored on their own, read again.
			kept := round[:0]
			for _, m := range round {
				if m.keeps {
					alone = append(alone, m.i)
				} else {
					kept = append(kept, m)
				}
			}
			round = kept
		}
		if len(round) > 0 {
			h.storeRound(ctx, msgs, round, errs)
		}
	}
	for _, i := range alone {
		errs[i] = h.Handle(ctx, msgs[i].Message, msgs[i].Raw)
	}
	return errs
}

// batched is one message's entries, mapped, waiting for a transaction.
type batched struct {
	i       int
	entries []store.Entry
	keeps   bool // took elements from the stored resources (hl7v2.Result.Keep)
}

// takeRound chooses the messages of one transaction: in order, each one
// whose conditional identities and explicit ids no earlier chosen message
// writes. A create-if-absent (a practitioner, a location) that an earlier
// message creates too is dropped and its references pointed at the
// earlier one's; any other shared identity puts the message off to a
// later round.
func takeRound(msgs []*batched) (round, rest []*batched) {
	type use struct {
		fullURL string
		ensure  bool
	}
	taken := map[string]use{}
	for _, m := range msgs {
		clash := false
		for _, e := range m.entries {
			k, ensure := identityKey(e)
			if u, ok := taken[k]; ok && !(ensure && u.ensure) {
				clash = true
				break
			}
		}
		if clash {
			rest = append(rest, m)
			continue
		}
		to := map[string]string{}
		kept := m.entries[:0:0]
		for _, e := range m.entries {
			k, ensure := identityKey(e)
			if u, ok := taken[k]; ok {
				to[e.FullURL] = u.fullURL
				continue
			}
			taken[k] = use{fullURL: e.FullURL, ensure: ensure}
			kept = append(kept, e)
		}
		if len(to) > 0 {
			for _, e := range kept {
				repoint(e.Resource, to)
			}
		}
		m.entries = kept
		round = append(round, m)
	}
	return round, rest
}

// identityKey names what an entry writes: its Type/id, or its type and
// criteria when the identity is conditional; ensure is set for a
// create-if-absent.
func identityKey(e store.Entry) (key string, ensure bool) {
	if e.Method == store.MethodCreate && e.IfNoneExist != "" {
		return strings.TrimSuffix(e.URL, "/") + "?" + e.IfNoneExist, true
	}
	return e.URL, false
}

// storeRound writes the messages of round in one transaction. If that
// fails, each is stored on its own (mapped again: a failed transaction may
// have rewritten its resources' references), so the failure falls on the
// message at fault alone.
//
// A transaction that reports success is not read back: until df69864 a
// group-commit rerun could report success having stored nothing, and the
// receipts were checked before the ACKs; the store now starts a rerun from
// nothing (regression test sqldb/rerun_test.go), and a receipt is written
// in the same transaction as what its message maps to.
func (h *StoreHandler) storeRound(ctx context.Context, msgs []Inbound, round []*batched, errs []error) {
	var entries []store.Entry
	for _, m := range round {
		entries = append(entries, m.entries...)
	}
	// Conditional identities are locked in the order of the entries; in
	// one order for every transaction, two never wait for each other
	// (PostgreSQL would end one as a deadlock).
	slices.SortStableFunc(entries, func(a, b store.Entry) int {
		ka, _ := identityKey(a)
		kb, _ := identityKey(b)
		return strings.Compare(ka, kb)
	})
	outs, err := h.Store.TransactionResolved(ctx, entries)
	switch {
	case err == nil:
		h.remember(entries, outs)
		return
	case len(round) == 1:
		errs[round[0].i] = err
		return
	}
	var wg sync.WaitGroup
	for _, m := range round {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := msgs[m.i]
			errs[m.i] = h.Handle(ctx, in.Message, in.Raw)
		}()
	}
	wg.Wait()
}
