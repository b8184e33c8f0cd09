package store

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
)

// Identity lookups. A conditional identity — the criteria of a
// conditional update (Patient?identifier=sys|123) or of a create's
// If-None-Exist — is in practice one identifier, and finding the resource
// it names needs only that identifier's index rows and the resources row:
// no search planning, no body. Resolving identities that way before a
// write lets the write's resources be made ready outside the single
// writer (TransactionResolved), which then only checks each identity
// again, with the same cheap lookup.

// IdentityReader is a Reader (in a write, a Tx) that finds the resources
// meeting one plain search clause straight from its index.
type IdentityReader interface {
	// Identify returns, for each lookup, the current, non-deleted
	// resources of its type that meet its clause, at most two (two
	// already make an identity ambiguous), whatever their security
	// labels, as a search of the type with the clause alone finds them.
	// The resources carry Type, ID, VersionID, LastUpdated and
	// Compartment, and no Body.
	Identify(ctx context.Context, qs []IdentityQuery) ([][]*Resource, error)
}

// IdentityQuery is one lookup of IdentityReader.Identify.
type IdentityQuery struct {
	Type   string
	Clause Clause
}

// identityClause returns the one clause of criteria when they are an
// identity: a single token value without modifier (identifier=sys|123),
// with nothing else that shapes a search. ok is false otherwise.
func (s *Store) identityClause(typ, criteria string) (cl Clause, ok bool) {
	q, err := s.ParseQueryString(typ, criteria)
	if err != nil || len(q.Clauses) != 1 || q.Compartment != nil || len(q.Sort) > 0 || len(q.Includes) > 0 {
		return Clause{}, false
	}
	cl = q.Clauses[0]
	if cl.Kind != KindToken || cl.Modifier != "" || cl.Chain != nil || cl.Has != nil || len(cl.Values) != 1 ||
		cl.Values[0].Code == "" || strings.HasPrefix(cl.Param, "_") {
		return Clause{}, false
	}
	return cl, true
}

// identify answers the lookups qs in rd: from the index when rd can
// (IdentityReader), else through a search each.
func (s *Store) identify(ctx context.Context, rd Reader, qs []IdentityQuery) ([][]*Resource, error) {
	if ir, ok := beneath(rd).(IdentityReader); ok {
		return ir.Identify(ctx, qs)
	}
	out := make([][]*Resource, len(qs))
	for i, q := range qs {
		page, err := rd.Search(ctx, &Query{Types: []string{q.Type}, Clauses: []Clause{q.Clause}, Count: 2})
		if err != nil {
			return nil, err
		}
		for _, r := range page.Resources {
			out[i] = append(out[i], &Resource{Type: r.Type, ID: r.ID, VersionID: r.VersionID, LastUpdated: r.LastUpdated, Compartment: r.Compartment})
		}
	}
	return out, nil
}

// beneath returns the backend's own reader or transaction under the
// store's wrappers — the watcher's (watchTx) and the write guard's
// (guardTx), which change only how resources are put — for the optional
// interfaces it has (IdentityReader, MultiLocker). Reading identities and
// taking locks through them is what the wrappers would do anyway; behind
// a guard (every write by a server with its role table) they were hidden,
// and a write's identity checks ran as searches, its locks one by one.
func beneath(rd Reader) Reader {
	for {
		switch t := rd.(type) {
		case *watchTx:
			rd = t.Tx
		case *guardTx:
			rd = t.Tx
		default:
			return rd
		}
	}
}

// Identify returns the ids (with version and patient compartment, without
// bodies) of the current resources of typ that criteria, an identity such
// as "identifier=sys|123", name: none, one, or two when they are
// ambiguous. It is for system actors only (EFORBIDDEN for any other) and
// leaves no audit record, like Missing: it reveals which resource carries
// an identifier, not what the resource says. Criteria that are not one
// token value are EINVALID.
func (s *Store) Identify(ctx context.Context, typ, criteria string) ([]*Resource, error) {
	if a := custodian.ActorFromContext(ctx); a == nil || a.Kind != "system" {
		return nil, custodian.Errorf(custodian.EFORBIDDEN, "identity lookups without an audit record are for the system actor only")
	}
	cl, ok := s.identityClause(typ, criteria)
	if !ok {
		return nil, custodian.Errorf(custodian.EINVALID, "%s?%s is not an identity (one token value, such as identifier=system|value)", typ, criteria)
	}
	var found [][]*Resource
	err := s.backend.Read(ctx, func(rd Reader) error {
		var err error
		found, err = s.identify(ctx, rd, []IdentityQuery{{Type: typ, Clause: cl}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return found[0], nil
}

// Exist reports, for each of ids, whether a current, non-deleted resource
// of typ has it. Like Missing it is for system actors only (EFORBIDDEN for
// any other) and leaves no audit record, revealing existence alone; it
// reads no body and looks the ids up together (IdentityReader: a few
// statements for many ids), where Missing reads each resource. An id that
// is not a valid id exists nowhere.
func (s *Store) Exist(ctx context.Context, typ string, ids []string) ([]bool, error) {
	if a := custodian.ActorFromContext(ctx); a == nil || a.Kind != "system" {
		return nil, custodian.Errorf(custodian.EFORBIDDEN, "existence checks without an audit record are for the system actor only")
	}
	out := make([]bool, len(ids))
	var qs []IdentityQuery
	var at []int
	for i, id := range ids {
		if ValidID(id) {
			qs = append(qs, IdentityQuery{Type: typ, Clause: Clause{Param: "_id", Kind: KindToken, Values: []ClauseValue{{Text: id, Code: id}}}})
			at = append(at, i)
		}
	}
	if len(qs) == 0 {
		return out, nil
	}
	err := s.backend.Read(ctx, func(rd Reader) error {
		found, err := s.identify(ctx, rd, qs)
		if err != nil {
			return err
		}
		for k, f := range found {
			out[at[k]] = len(f) > 0
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TransactionResolved performs entries as Transaction does, with their
// conditional identities resolved before the write. Each conditional
// update and each create's If-None-Exist whose criteria are an identity
// (identifier=system|value) is looked up in one read beforehand, and its
// entry rewritten: an update of the one resource found, a plain create
// when there is none, nothing when a create-if-absent finds its resource
// (references to it point there). An update of an explicit id that does
// not exist yet becomes the resource's first version. The resources are
// then indexed, encoded and compressed in the caller's goroutine like any
// plain create, and the write only checks, under the lock a conditional
// operation takes, that each identity still resolves as it did.
//
// If one does not (another writer created or changed a resource in
// between), or the write fails in any way, nothing of it is kept and the
// entries go through Transaction as they were given, which resolves them
// inside the write and reports any error with its entry number: the
// outcomes, errors and audit record are Transaction's. The entries'
// resources are copied (as far as writing them changes them) before they
// are rewritten, so that remains possible. One difference: the outcome of a create-if-absent that found
// its resource has the resource's Type, ID, VersionID, LastUpdated and
// Compartment, but no Body.
func (s *Store) TransactionResolved(ctx context.Context, entries []Entry) ([]*Outcome, error) {
	rs, ok := s.resolveEntries(ctx, entries)
	if !ok {
		return s.Transaction(ctx, entries)
	}
	outs, ok := s.transactionResolved(ctx, entries, rs)
	if !ok {
		return s.Transaction(ctx, entries)
	}
	return outs, nil
}

// resolved is a transaction's entries with their identities resolved.
type resolved struct {
	entries []Entry // rewritten, resources copied
	from    []int   // entries[k] stands for the given entry from[k]
	fresh   []bool  // entries[k] is an update of an explicit id that does not exist
	// found are the outcomes of the given creates-if-absent whose
	// resource exists, by the given entry's number.
	found  map[int]*Outcome
	checks []identityCheck
}

// identityCheck is an identity resolved before the write, to check in it.
type identityCheck struct {
	typ, criteria string
	cl            Clause
	want          string // the id found; "" for none
}

func (c identityCheck) lockKey() string { return "cond:" + c.typ + "?" + c.criteria }

// lookup is an entry's identity to look up before the write.
type lookup struct {
	i             int
	typ, criteria string
	cl            Clause
	explicit      string // an update's explicit id (existence only)
	found         []*Resource
}

// resolveEntries looks the identities of entries up and rewrites them;
// ok is false when there is nothing to resolve or the read failed (the
// entries then go through Transaction).
func (s *Store) resolveEntries(ctx context.Context, entries []Entry) (*resolved, bool) {
	var looks []*lookup
	for i, e := range entries {
		path, query, hasQuery := strings.Cut(e.URL, "?")
		typ, id, hasID := strings.Cut(strings.Trim(path, "/"), "/")
		switch {
		case e.Method == MethodCreate && e.IfNoneExist != "" && !hasID && !hasQuery:
			if cl, ok := s.identityClause(typ, e.IfNoneExist); ok {
				looks = append(looks, &lookup{i: i, typ: typ, criteria: e.IfNoneExist, cl: cl})
			}
		case e.Method == MethodUpdate && hasQuery && !hasID && e.Resource != nil:
			if cl, ok := s.identityClause(typ, query); ok {
				looks = append(looks, &lookup{i: i, typ: typ, criteria: query, cl: cl})
			}
		case e.Method == MethodUpdate && hasID && !hasQuery && e.IfMatch == 0 && e.Resource != nil && ValidID(id) && !strings.Contains(id, "/"):
			// Whether it exists: a resource deleted is not found, and then
			// its first version is refused (Put of version 1) and the
			// update done again by Transaction.
			looks = append(looks, &lookup{i: i, typ: typ, explicit: id,
				cl: Clause{Param: "_id", Kind: KindToken, Values: []ClauseValue{{Text: id, Code: id}}}})
		}
	}
	if len(looks) == 0 {
		return nil, false
	}
	// Two entries keyed on one identity (or on two that one value could
	// meet: the same code, a system left open) go the ordinary way, so
	// that what they do together is Transaction's, whatever that is.
	keys := make(map[string]bool, len(looks))
	for _, l := range looks {
		k := l.typ + "\x00" + l.cl.Param + "\x00" + l.cl.Values[0].Code
		if keys[k] {
			return nil, false
		}
		keys[k] = true
	}
	qs := make([]IdentityQuery, len(looks))
	for i, l := range looks {
		qs[i] = IdentityQuery{Type: l.typ, Clause: l.cl}
	}
	err := s.backend.Read(ctx, func(rd Reader) error {
		found, err := s.identify(ctx, rd, qs)
		for i, l := range looks {
			if err == nil {
				l.found = found[i]
			}
		}
		return err
	})
	if err != nil {
		return nil, false
	}
	return s.rewriteResolved(ctx, entries, looks)
}

// rewriteResolved rewrites entries by what looks found (see
// TransactionResolved); ok is false when nothing could be rewritten.
func (s *Store) rewriteResolved(ctx context.Context, entries []Entry, looks []*lookup) (*resolved, bool) {
	rs := &resolved{found: map[int]*Outcome{}}
	byEntry := make(map[int]*lookup, len(looks))
	for _, l := range looks {
		byEntry[l.i] = l
	}
	to := map[string]string{} // fullUrls of the creates-if-absent found
	rewritten := 0
	for i, e := range entries {
		l := byEntry[i]
		w, fresh, drop := e, false, false
		if l != nil {
			bid, _ := e.Resource["id"].(string)
			switch {
			case l.explicit != "" && len(l.found) == 0:
				fresh = true
			case l.explicit != "":
				l = nil // stored: an ordinary update
			case e.Method == MethodCreate && len(l.found) == 1:
				// Transaction authorises the create even when it finds.
				if _, err := s.allow(ctx, l.typ, "create"); err != nil {
					return nil, false
				}
				drop = true
				rs.found[i] = &Outcome{Resource: l.found[0]}
				if e.FullURL != "" {
					to[e.FullURL] = l.found[0].Ref()
				}
			case e.Method == MethodCreate && len(l.found) == 0:
				w = Entry{Method: MethodCreate, URL: l.typ, FullURL: e.FullURL, Resource: e.Resource}
			case len(l.found) == 1 && (bid == "" || bid == l.found[0].ID):
				w = Entry{Method: MethodUpdate, URL: l.typ + "/" + l.found[0].ID, FullURL: e.FullURL, Resource: e.Resource, IfMatch: e.IfMatch}
			case len(l.found) == 0 && bid == "" && e.IfMatch == 0:
				w = Entry{Method: MethodCreate, URL: l.typ, FullURL: e.FullURL, Resource: e.Resource}
			default:
				l = nil // ambiguous or odd: the write resolves it and reports
			}
		}
		if l != nil {
			rewritten++
			if l.explicit == "" {
				want := ""
				if len(l.found) == 1 {
					want = l.found[0].ID
				}
				rs.checks = append(rs.checks, identityCheck{typ: l.typ, criteria: l.criteria, cl: l.cl, want: want})
			}
		}
		if drop {
			continue
		}
		if w.Resource != nil {
			w.Resource = copyWritable(w.Resource)
			if w.Method == MethodUpdate && !strings.Contains(w.URL, "?") {
				_, id, _ := strings.Cut(w.URL, "/")
				w.Resource["id"] = id
			}
		}
		rs.entries = append(rs.entries, w)
		rs.from = append(rs.from, i)
		rs.fresh = append(rs.fresh, fresh)
	}
	if rewritten == 0 {
		return nil, false
	}
	if len(to) > 0 {
		for _, e := range rs.entries {
			pointAt(e.Resource, to)
		}
	}
	// In one order for every transaction, so two never wait for each
	// other's locks (PostgreSQL would end one as a deadlock).
	slices.SortFunc(rs.checks, func(a, b identityCheck) int { return strings.Compare(a.lockKey(), b.lockKey()) })
	return rs, true
}

// transactionResolved writes rs; ok is false when it wrote nothing and
// given should go through Transaction instead (see TransactionResolved).
func (s *Store) transactionResolved(ctx context.Context, given []Entry, rs *resolved) ([]*Outcome, bool) {
	plan, err := s.planTransaction(ctx, rs.entries)
	if err != nil {
		return nil, false // Transaction reports it, with the given entry numbers
	}
	for k, p := range plan {
		if rs.fresh[k] && p.index != nil {
			// An update that creates: its first version made ready here,
			// stored without reading (a Put of version 1 fails if the
			// resource appeared since, and the write is done again by
			// Transaction).
			first, err := s.prepareFirst(ctx, p.typ, p.id, MethodUpdate, p.Resource, p.index)
			if err != nil {
				return nil, false
			}
			p.Method, p.first = MethodCreate, first
		}
	}
	e := s.entry(ctx, audit.ActionTransaction)
	outs := make([]*Outcome, len(given))
	inner := make([]*Outcome, len(plan))
	write, wt := s.watching(func(tx Tx) error {
		// The backend may run this again after rolling it back: nothing
		// of an earlier run counts.
		clear(inner)
		e.Resources, e.Patients = e.Resources[:0], e.Patients[:0]
		if err := s.checkIdentities(ctx, tx, rs.checks); err != nil {
			return err
		}
		if err := s.runTransaction(ctx, tx, plan, inner); err != nil {
			return err
		}
		clear(outs)
		for k, out := range inner {
			outs[rs.from[k]] = out
		}
		for i, out := range rs.found {
			outs[i] = out
		}
		for _, out := range outs {
			if out != nil && out.Resource != nil {
				r := out.Resource
				e.Resources = append(e.Resources, r.Ref()+"/_history/"+strconv.FormatInt(r.VersionID, 10))
				if r.Compartment != "" && !slices.Contains(e.Patients, r.Compartment) {
					e.Patients = append(e.Patients, r.Compartment)
				}
			}
		}
		return tx.Audit(ctx, e)
	})
	if err := s.backend.Write(ctx, write); err != nil {
		return nil, false
	}
	s.notify(ctx, wt)
	return outs, true
}

// errIdentityMoved says an identity resolved before a write resolves
// differently in it.
var errIdentityMoved = errors.New("store: an identity resolved before the write changed")

// MultiLocker is a Tx that takes several locks in one step (one round
// trip on a client/server engine instead of one per lock).
type MultiLocker interface {
	// LockAll takes the locks Tx.Lock takes on each of keys, in the
	// order given. Callers pass the keys sorted, so that two transactions
	// locking some of the same keys take them in one order and neither
	// waits for the other while holding what it needs.
	LockAll(ctx context.Context, keys []string) error
}

// lockAll takes the locks on keys (sorted, without repeats) in tx: in
// one step when tx can (MultiLocker), else one by one.
func lockAll(ctx context.Context, tx Tx, keys []string) error {
	if ml, ok := beneath(tx).(MultiLocker); ok {
		return ml.LockAll(ctx, keys)
	}
	for _, k := range keys {
		if err := tx.Lock(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// checkIdentities checks in tx, under each identity's conditional lock,
// that the identities resolve as they did before the write. The locks are
// taken together, in the order of their keys (checks are sorted by it).
func (s *Store) checkIdentities(ctx context.Context, tx Tx, checks []identityCheck) error {
	if len(checks) == 0 {
		return nil
	}
	qs := make([]IdentityQuery, len(checks))
	keys := make([]string, 0, len(checks))
	for i, c := range checks {
		keys = append(keys, c.lockKey())
		qs[i] = IdentityQuery{Type: c.typ, Clause: c.cl}
	}
	slices.Sort(keys)
	if err := lockAll(ctx, tx, slices.Compact(keys)); err != nil {
		return err
	}
	found, err := s.identify(ctx, tx, qs)
	if err != nil {
		return err
	}
	for i, c := range checks {
		f := found[i]
		if c.want == "" && len(f) != 0 || c.want != "" && (len(f) != 1 || f[0].ID != c.want) {
			return errIdentityMoved
		}
	}
	return nil
}

// pointAt rewrites, anywhere in v, a Reference.reference found in to.
func pointAt(v any, to map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if ref, ok := x.(string); ok && k == "reference" {
				if r, ok := to[ref]; ok {
					v[k] = r
				}
				continue
			}
			pointAt(x, to)
		}
	case []any:
		for _, x := range v {
			pointAt(x, to)
		}
	}
}

// copyWritable copies of res what writing it changes — the resource
// itself, its meta (stamped) and every object on the way to a
// Reference.reference (rewritten) — and shares the rest.
func copyWritable(res map[string]any) map[string]any {
	c := make(map[string]any, len(res))
	for k, v := range res {
		if k == "meta" {
			if m, ok := v.(map[string]any); ok {
				v = maps.Clone(m)
			}
		} else if x, copied := copyToReferences(v); copied {
			v = x
		}
		c[k] = v
	}
	return c
}

// copyToReferences returns a copy of v's objects and arrays that hold a
// Reference.reference somewhere below, sharing the others; copied is
// false when v holds none (and v is returned as it is).
func copyToReferences(v any) (any, bool) {
	switch v := v.(type) {
	case map[string]any:
		var c map[string]any
		for k, x := range v {
			if _, isRef := x.(string); isRef && k == "reference" {
				if c == nil {
					c = maps.Clone(v)
				}
				continue
			}
			if y, copied := copyToReferences(x); copied {
				if c == nil {
					c = maps.Clone(v)
				}
				c[k] = y
			}
		}
		if c == nil {
			return v, false
		}
		return c, true
	case []any:
		var c []any
		for i, x := range v {
			if y, copied := copyToReferences(x); copied {
				if c == nil {
					c = slices.Clone(v)
				}
				c[i] = y
			}
		}
		if c == nil {
			return v, false
		}
		return c, true
	}
	return v, false
}
