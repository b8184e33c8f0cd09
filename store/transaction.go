package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
)

// Entry is one write of a transaction, taken from Bundle.entry.
type Entry struct {
	// Method is POST, PUT, PATCH or DELETE.
	Method Method
	// URL is the request URL relative to the base: "Patient",
	// "Patient/1" or "Patient?identifier=x|1".
	URL string
	// FullURL is Bundle.entry.fullUrl; references to it in other entries
	// are rewritten to the resource's final Type/id.
	FullURL string
	// Resource is the decoded resource, for POST and PUT.
	Resource map[string]any
	// Patch is a JSON Patch document, for PATCH.
	Patch       []byte
	IfMatch     int64
	IfNoneExist string
}

// Transaction performs entries as one unit: all of them or, on the first
// error, none. References to an entry's fullUrl (urn:uuid:… or an absolute
// URL) and conditional references ("Patient?identifier=…") are rewritten to
// the target's Type/id before anything is stored. Entries are performed in
// the order FHIR prescribes (deletes, creates, updates and patches); the
// outcomes come back in the order of entries.
func (s *Store) Transaction(ctx context.Context, entries []Entry) ([]*Outcome, error) {
	e := s.entry(ctx, audit.ActionTransaction)
	plan, err := s.planTransaction(ctx, entries)
	if err != nil {
		return nil, s.fail(ctx, e, err)
	}
	outs := make([]*Outcome, len(entries))
	err = s.commit(ctx, e, func(tx Tx) error {
		// The backend may run this again after rolling it back (a group
		// commit rerun, a deadlock retry): nothing of an earlier run counts.
		clear(outs)
		e.Resources, e.Patients = e.Resources[:0], e.Patients[:0]
		if err := s.runTransaction(ctx, tx, plan, outs); err != nil {
			return err
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
		return nil
	})
	if err != nil {
		return nil, err
	}
	return outs, nil
}

// planned is an entry with its URL taken apart.
type planned struct {
	Entry
	typ, id, criteria string
	patch             jsonpatch.Patch
	// index holds the index entries computed before the transaction, when
	// the resource's identity and references were already final.
	index []IndexEntry
	// first is a plain create made ready before the transaction, when its
	// references were already final.
	first *firstVersion
	// outside are the conditional references of the resource resolved
	// before the transaction (resolveOutside); the transaction checks them.
	outside []outsideRef
	// refs are the objects of the resource with a "reference" string
	// (collectRefs), found in one walk before the transaction.
	refs []map[string]any
}

// outsideRef is a conditional reference resolved before the transaction:
// where it was, what it said and what it became.
type outsideRef struct {
	m       map[string]any
	ref, to string
}

func entryError(i int, err error) error {
	e := &custodian.Error{Code: custodian.ErrorCode(err), Message: fmt.Sprintf("entry %d: %s", i, custodian.ErrorMessage(err)), Err: err}
	for _, is := range custodian.ErrorIssues(err) {
		// "Patient.name[0]" inside entry i is "Bundle.entry[i].resource.name[0]".
		_, rest, _ := strings.Cut(is.Path, ".")
		is.Path = strings.TrimSuffix(fmt.Sprintf("Bundle.entry[%d].resource.%s", i, rest), ".")
		e.Issues = append(e.Issues, is)
	}
	return e
}

func (s *Store) planTransaction(ctx context.Context, entries []Entry) ([]*planned, error) {
	// Preparing is CPU work done on the caller's goroutine; the gate keeps
	// it from crowding out the writer every transaction waits for.
	done, err := s.prepareTurn(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	plan := make([]*planned, len(entries))
	seen := map[string]int{}
	for i, e := range entries {
		s.gate.Yield()
		p := &planned{Entry: e}
		plan[i] = p
		path, query, _ := strings.Cut(e.URL, "?")
		parts := strings.Split(strings.Trim(path, "/"), "/")
		p.typ, p.criteria = parts[0], query
		if len(parts) > 2 {
			return nil, entryError(i, custodian.Errorf(custodian.EINVALID, "request.url %q is not Type, Type/id or Type?criteria", e.URL))
		}
		if len(parts) == 2 {
			p.id = parts[1]
		}
		if err := s.checkTypeID(p.typ, orPlaceholder(p.id)); err != nil {
			return nil, entryError(i, err)
		}
		switch e.Method {
		case MethodCreate:
			if p.id != "" {
				return nil, entryError(i, custodian.Errorf(custodian.EINVALID, "a POST goes to Type, not Type/id"))
			}
			if err := s.checkEntryResource(p); err != nil {
				return nil, entryError(i, err)
			}
		case MethodUpdate:
			if err := s.checkEntryResource(p); err != nil {
				return nil, entryError(i, err)
			}
			if p.id != "" {
				if err := checkBodyID(p.Resource, p.id); err != nil {
					return nil, entryError(i, err)
				}
			} else if p.criteria == "" {
				return nil, entryError(i, custodian.Errorf(custodian.EINVALID, "a PUT needs Type/id or Type?criteria"))
			}
		case MethodPatch:
			if p.id == "" {
				return nil, entryError(i, custodian.Errorf(custodian.ENOTIMPLEMENTED, "conditional patch in a transaction is not supported; use Type/id"))
			}
			var err error
			if p.patch, err = jsonpatch.DecodePatch(e.Patch); err != nil {
				return nil, entryError(i, custodian.Wrap(custodian.EINVALID, err, "the patch is not a JSON Patch document"))
			}
		case MethodDelete:
			if p.id == "" && p.criteria == "" {
				return nil, entryError(i, custodian.Errorf(custodian.EINVALID, "a DELETE needs Type/id or Type?criteria"))
			}
		default:
			return nil, entryError(i, custodian.Errorf(custodian.EINVALID, "request.method %q cannot be part of a transaction's writes", e.Method))
		}
		if _, err := s.allow(ctx, p.typ, interactionOf(p.Method)); err != nil {
			return nil, entryError(i, err)
		}
		if p.id != "" {
			key := p.typ + "/" + p.id
			if j, dup := seen[key]; dup {
				return nil, entryError(i, custodian.Errorf(custodian.EINVALID, "%s is also written by entry %d; a transaction may write a resource once", key, j))
			}
			seen[key] = i
		}
		if e.FullURL != "" {
			if j, dup := seen["fullUrl "+e.FullURL]; dup {
				return nil, entryError(i, custodian.Errorf(custodian.EINVALID, "fullUrl is the same as entry %d's", j))
			}
			seen["fullUrl "+e.FullURL] = i
		}
	}
	s.prepareOutside(ctx, plan)
	return plan, nil
}

// interactionOf names the interaction a transaction method performs.
func interactionOf(m Method) string {
	switch m {
	case MethodCreate:
		return "create"
	case MethodDelete:
		return "delete"
	default:
		return "update"
	}
}

// prepareOutside does, before the write transaction, the work that does not
// depend on what the database holds: ids for plain creates, rewriting the
// references to them and to explicit ids, and indexing the resources whose
// references are then final. Conditional identities are left to the
// transaction, and so are the resources that refer to them.
func (s *Store) prepareOutside(ctx context.Context, plan []*planned) {
	refs := map[string]string{}
	pending := map[string]bool{}
	for _, p := range plan {
		switch {
		case p.Method == MethodCreate && p.IfNoneExist == "":
			p.id = s.NewID()
		case p.Method == MethodCreate || (p.Method == MethodUpdate && p.id == ""):
			if p.FullURL != "" {
				pending[p.FullURL] = true
			}
			continue
		}
		if p.FullURL != "" && p.id != "" {
			refs[p.FullURL] = p.typ + "/" + p.id
		}
	}
	var waiting []*planned // plain creates waiting for conditional references only
	conds := map[string]string{}
	for _, p := range plan {
		if p.Resource == nil || p.id == "" {
			continue
		}
		p.refs = collectRefs(p.Resource, p.refs[:0])
		if rewriteKnown(p.refs, refs, pending) {
			s.prepareEntry(ctx, p)
		} else if p.Method == MethodCreate && p.IfNoneExist == "" && conditionalOnly(p.refs, pending, conds) {
			waiting = append(waiting, p)
		}
	}
	if len(waiting) > 0 {
		s.resolveOutside(ctx, waiting, conds)
	}
}

// collectRefs appends to out every object in v with a "reference" member
// that is a string, the Reference elements whose target a transaction may
// rewrite.
func collectRefs(v any, out []map[string]any) []map[string]any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if _, ok := e.(string); ok {
				if k == "reference" {
					out = append(out, v)
				}
				continue
			}
			out = collectRefs(e, out)
		}
	case []any:
		for _, e := range v {
			out = collectRefs(e, out)
		}
	}
	return out
}

// prepareEntry indexes the resource of p, whose references are final, and
// makes a plain create ready to store.
func (s *Store) prepareEntry(ctx context.Context, p *planned) {
	s.gate.Yield()
	p.Resource["id"] = p.id
	if index, err := s.index(p.typ, p.Resource); err == nil {
		p.index = index
		if p.Method == MethodCreate && p.IfNoneExist == "" {
			p.first, _ = s.prepareFirst(ctx, p.typ, p.id, MethodCreate, p.Resource, index)
		}
	}
}

// conditionalOnly reports whether the references in refs that are not
// final are all conditional ("Type?criteria"), adding those to conds.
func conditionalOnly(refs []map[string]any, pending map[string]bool, conds map[string]string) bool {
	ok := true
	for _, m := range refs {
		ref := m["reference"].(string)
		if pending[ref] || strings.HasPrefix(ref, "urn:") {
			ok = false
		} else if typ, _, cond := strings.Cut(ref, "?"); cond && !strings.Contains(typ, "/") {
			conds[ref] = ""
		}
	}
	return ok
}

// resolveOutside resolves the conditional references conds in a read
// before the transaction and, for each create of waiting whose conditional
// references all match exactly one resource, rewrites them and prepares
// the create like those with final references: the single writer then
// only checks that each reference still resolves the same (checkOutside).
// A reference that matches no resource or several is left to the
// transaction, which reports it.
func (s *Store) resolveOutside(ctx context.Context, waiting []*planned, conds map[string]string) {
	err := s.backend.Read(ctx, func(rd Reader) error {
		found, err := s.resolveConds(ctx, rd, slices.Collect(maps.Keys(conds)))
		for ref, to := range found {
			conds[ref] = to
		}
		return err
	})
	if err != nil {
		return // the transaction resolves them itself
	}
	for _, p := range waiting {
		if !allResolved(p.refs, conds) {
			continue
		}
		rewriteOutside(p.refs, conds, &p.outside)
		s.prepareEntry(ctx, p)
	}
}

// allResolved reports whether every conditional reference in refs is in
// conds with a target.
func allResolved(refs []map[string]any, conds map[string]string) bool {
	for _, m := range refs {
		if to, cond := conds[m["reference"].(string)]; cond && to == "" {
			return false
		}
	}
	return true
}

// rewriteOutside rewrites the conditional references in refs to their
// targets in conds, noting each in done so the rewrite can be undone.
func rewriteOutside(refs []map[string]any, conds map[string]string, done *[]outsideRef) {
	for _, m := range refs {
		ref := m["reference"].(string)
		if to := conds[ref]; to != "" {
			m["reference"] = to
			*done = append(*done, outsideRef{m: m, ref: ref, to: to})
		}
	}
}

// resolveConds resolves the conditional references refs in rd, returning
// the literal reference of each that matches exactly one resource. Those
// whose criteria are an identity (identifier=system|value, the usual
// kind) are looked up together straight from the index (identify); the
// others go through a search each.
func (s *Store) resolveConds(ctx context.Context, rd Reader, refs []string) (map[string]string, error) {
	to := make(map[string]string, len(refs))
	var qs []IdentityQuery
	var ids []string
	for _, ref := range refs {
		typ, criteria, _ := strings.Cut(ref, "?")
		if cl, ok := s.identityClause(typ, criteria); ok {
			qs = append(qs, IdentityQuery{Type: typ, Clause: cl})
			ids = append(ids, ref)
			continue
		}
		q, err := s.ParseQueryString(typ, criteria)
		if err != nil || len(q.Clauses) == 0 {
			continue // reported by the transaction
		}
		q.Count = 2
		page, err := rd.Search(ctx, q)
		if err != nil {
			return to, err
		}
		if len(page.Resources) == 1 {
			to[ref] = page.Resources[0].Ref()
		}
	}
	if len(qs) > 0 {
		found, err := s.identify(ctx, rd, qs)
		if err != nil {
			return to, err
		}
		for i, f := range found {
			if len(f) == 1 {
				to[ids[i]] = f[0].Ref()
			}
		}
	}
	return to, nil
}

// checkOutside checks, in the transaction, that the conditional references
// resolved before it still resolve the same, adding them to resolved. If
// one does not, every such rewrite is undone and the entries go the way of
// those left to the transaction.
func (s *Store) checkOutside(ctx context.Context, tx Tx, plan []*planned, resolved map[string]string) error {
	want := map[string]string{}
	for _, p := range plan {
		for _, o := range p.outside {
			want[o.ref] = o.to
		}
	}
	same := true
	if len(want) > 0 {
		found, err := s.resolveConds(ctx, tx, slices.Collect(maps.Keys(want)))
		if err != nil {
			return err
		}
		for ref, to := range want {
			if found[ref] != to {
				same = false
				break
			}
		}
	}
	for _, p := range plan {
		if len(p.outside) == 0 {
			continue
		}
		if same {
			for _, o := range p.outside {
				resolved[o.ref] = o.to
			}
			continue
		}
		for _, o := range p.outside {
			o.m["reference"] = o.ref
		}
		p.outside, p.index, p.first = nil, nil, nil
	}
	return nil
}

// rewriteKnown rewrites the references in refs to fullUrls in known and
// reports whether every reference is now final (none to a pending fullUrl,
// none conditional).
func rewriteKnown(refs []map[string]any, known map[string]string, pending map[string]bool) bool {
	final := true
	for _, m := range refs {
		ref := m["reference"].(string)
		if to, ok := known[ref]; ok {
			m["reference"] = to
		} else if pending[ref] || strings.HasPrefix(ref, "urn:") ||
			(strings.Contains(ref, "?") && !strings.Contains(strings.SplitN(ref, "?", 2)[0], "/")) {
			// Resolved (or refused) inside the transaction.
			final = false
		}
	}
	return final
}

func orPlaceholder(id string) string {
	if id == "" {
		return "x"
	}
	return id
}

func (s *Store) checkEntryResource(p *planned) error {
	if p.Resource == nil {
		return custodian.Errorf(custodian.EINVALID, "a %s entry needs a resource", p.Method)
	}
	return s.check(p.typ, p.Resource)
}

// order is the FHIR processing order of methods in a transaction.
var order = []Method{MethodDelete, MethodCreate, MethodUpdate, MethodPatch}

func (s *Store) runTransaction(ctx context.Context, tx Tx, plan []*planned, outs []*Outcome) error {
	// First fix every identity, so references can be rewritten before any
	// resource is stored.
	refs := map[string]string{}
	// Creates-if-absent with the same criteria that find nothing make one
	// resource: the first entry creates it and the others are the same
	// resource (twins[i] = the first's index), as if each found it.
	absent := map[string]int{}
	twins := map[int]int{}
	for i, p := range plan {
		switch {
		case p.Method == MethodCreate && p.IfNoneExist != "":
			key := p.typ + "?" + p.IfNoneExist
			if j, ok := absent[key]; ok {
				p.id = plan[j].id
				twins[i] = j
				break
			}
			found, err := s.conditionalMatch(ctx, tx, p.typ, p.IfNoneExist)
			if err != nil {
				return entryError(i, err)
			}
			switch len(found) {
			case 0:
				absent[key] = i
				// A rerun keeps the id of the first run: other entries'
				// references were already rewritten to it.
				if p.id == "" {
					p.id = s.NewID()
				}
			case 1:
				p.id = found[0].ID
				outs[i] = &Outcome{Resource: found[0]}
			default:
				return entryError(i, custodian.Errorf(custodian.EPRECONDITION, "If-None-Exist criteria match %d resources", len(found)))
			}
		case p.Method == MethodCreate:
			// id assigned before the transaction
		case p.Method == MethodUpdate && p.id == "":
			found, err := s.conditionalMatch(ctx, tx, p.typ, p.criteria)
			if err != nil {
				return entryError(i, err)
			}
			switch len(found) {
			case 0:
				if bid, _ := p.Resource["id"].(string); bid != "" {
					p.id = bid
				} else {
					p.id = s.NewID()
				}
			case 1:
				p.id = found[0].ID
			default:
				return entryError(i, custodian.Errorf(custodian.EPRECONDITION, "the criteria match %d resources; a conditional update needs at most one", len(found)))
			}
		}
		if p.FullURL != "" && p.id != "" {
			refs[p.FullURL] = p.typ + "/" + p.id
		}
	}
	// A resource is written once: entries whose identities resolve to the
	// same resource fail the transaction (explicit ids are checked when
	// the transaction is planned).
	writers := map[string]int{}
	for i, p := range plan {
		if p.id == "" || outs[i] != nil {
			continue
		}
		if _, twin := twins[i]; twin {
			continue
		}
		key := p.typ + "/" + p.id
		if j, dup := writers[key]; dup {
			return entryError(i, custodian.Errorf(custodian.EINVALID, "%s is also written by entry %d; a transaction may write a resource once", key, j))
		}
		writers[key] = i
	}
	// Bundles repeat the same conditional references (Synthea names each
	// practitioner and organisation in most entries): resolve each once.
	resolved := map[string]string{}
	if err := s.checkOutside(ctx, tx, plan, resolved); err != nil {
		return err
	}
	for i, p := range plan {
		if p.Resource == nil || p.index != nil {
			continue
		}
		if err := s.rewriteReferences(ctx, tx, p.Resource, refs, resolved); err != nil {
			return entryError(i, err)
		}
	}
	for _, m := range order {
		for i, p := range plan {
			if _, twin := twins[i]; p.Method != m || outs[i] != nil || twin {
				continue
			}
			out, err := s.runEntry(ctx, tx, p)
			if err != nil {
				return entryError(i, err)
			}
			outs[i] = out
		}
	}
	for i, j := range twins {
		outs[i] = &Outcome{Resource: outs[j].Resource}
	}
	return nil
}

func (s *Store) runEntry(ctx context.Context, tx Tx, p *planned) (*Outcome, error) {
	switch p.Method {
	case MethodDelete:
		if p.id == "" {
			return s.conditionalDelete(ctx, tx, p.typ, p.criteria)
		}
		return s.delete(ctx, tx, p.typ, p.id, p.IfMatch)
	case MethodCreate:
		if p.first != nil {
			return p.first.put(ctx, tx)
		}
		return s.create(ctx, tx, p.typ, p.Resource, "", p.id, p.index)
	case MethodUpdate:
		p.Resource["id"] = p.id
		return s.update(ctx, tx, p.typ, p.id, p.Resource, p.IfMatch, MethodUpdate, p.index)
	default:
		return s.patch(ctx, tx, p.typ, p.id, p.patch, p.IfMatch)
	}
}

// rewriteReferences replaces, anywhere in v, a Reference.reference that
// names a fullUrl of the transaction with the target's Type/id, and a
// conditional reference with the one resource it matches.
func (s *Store) rewriteReferences(ctx context.Context, tx Tx, v any, refs, resolved map[string]string) error {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			ref, ok := e.(string)
			if k != "reference" || !ok {
				if err := s.rewriteReferences(ctx, tx, e, refs, resolved); err != nil {
					return err
				}
				continue
			}
			if to, ok := refs[ref]; ok {
				v[k] = to
				continue
			}
			if strings.HasPrefix(ref, "urn:uuid:") || strings.HasPrefix(ref, "urn:oid:") {
				return custodian.Errorf(custodian.EINVALID, "the reference %q names no entry of the transaction", ref)
			}
			if to, ok := resolved[ref]; ok {
				v[k] = to
				continue
			}
			if typ, criteria, ok := strings.Cut(ref, "?"); ok && !strings.Contains(typ, "/") {
				found, err := s.match(ctx, tx, typ, criteria, false)
				if err != nil {
					return err
				}
				if len(found) != 1 {
					return custodian.Errorf(custodian.EPRECONDITION, "the conditional reference %q matches %d resources; it must match exactly one", ref, len(found))
				}
				resolved[ref] = found[0].Ref()
				v[k] = found[0].Ref()
			}
		}
	case []any:
		for _, e := range v {
			if err := s.rewriteReferences(ctx, tx, e, refs, resolved); err != nil {
				return err
			}
		}
	}
	return nil
}
