package store

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian/audit"
)

// FindOne returns the current version, decoded, of the one resource of
// type typ that the search criteria (a query string such as
// "identifier=sys|v") match, as the caller may see it; nil when none or
// several match. It is how a writer that updates conditionally reads
// what it is about to replace.
//
// Criteria that are an identity (one token value) are looked up straight
// in the index (IdentityReader) and the one resource found read by id;
// others go through a search. Either way the read is audited as the
// search it is, and a resource the actor may not see is not found.
func (s *Store) FindOne(ctx context.Context, typ, criteria string) (map[string]any, error) {
	cl, ok := s.identityClause(typ, criteria)
	if !ok {
		return s.findOneSearch(ctx, typ, criteria)
	}
	e := s.entry(ctx, audit.ActionSearch)
	e.Query = typ + "?" + criteria
	a, err := s.allow(ctx, typ, "search")
	if err != nil {
		return nil, s.fail(ctx, e, err)
	}
	var one *Resource
	err = s.backend.Read(ctx, func(rd Reader) error {
		found, err := s.identify(ctx, rd, []IdentityQuery{{Type: typ, Clause: cl}})
		if err != nil || len(found[0]) != 1 {
			return err
		}
		r, err := rd.Current(ctx, typ, found[0][0].ID)
		if err != nil {
			return err
		}
		vis, err := s.visibilityOf(ctx, rd, a)
		if err != nil {
			return err
		}
		if seen := s.filterVisible(vis, []*Resource{r}, e); len(seen) == 1 {
			one = r
		}
		return nil
	})
	if err != nil {
		return nil, s.fail(ctx, e, err)
	}
	if err := s.record(ctx, e); err != nil {
		return nil, err
	}
	if one == nil {
		return nil, nil
	}
	return Decode(one.Body)
}

// FindEach is FindOne for many requests ("Type?criteria" each) at once:
// the answer to each, nil when none or several match. The identities
// among them are looked up together in one read, audited as one search
// that names every resource read; any other request is FindOne's.
func (s *Store) FindEach(ctx context.Context, requests []string) ([]map[string]any, error) {
	out := make([]map[string]any, len(requests))
	e := s.entry(ctx, audit.ActionSearch)
	var qs []IdentityQuery
	var at []int // request number of each of qs
	perType := map[string]int{}
	for i, req := range requests {
		typ, criteria, _ := strings.Cut(req, "?")
		cl, ok := s.identityClause(typ, criteria)
		if !ok {
			one, err := s.FindOne(ctx, typ, criteria)
			if err != nil {
				return nil, err
			}
			out[i] = one
			continue
		}
		if perType[typ] == 0 {
			if _, err := s.allow(ctx, typ, "search"); err != nil {
				e.Query = req
				return nil, s.fail(ctx, e, err)
			}
		}
		perType[typ]++
		qs = append(qs, IdentityQuery{Type: typ, Clause: cl})
		at = append(at, i)
	}
	if len(qs) == 0 {
		return out, nil
	}
	types := make([]string, 0, len(perType))
	for t, n := range perType {
		types = append(types, t+"?"+qs[slices.IndexFunc(qs, func(q IdentityQuery) bool { return q.Type == t })].Clause.Param+" ("+strconv.Itoa(n)+" identities)")
	}
	slices.Sort(types)
	e.Query = strings.Join(types, ", ")
	a, err := s.actor(ctx)
	if err != nil {
		return nil, s.fail(ctx, e, err)
	}
	err = s.backend.Read(ctx, func(rd Reader) error {
		found, err := s.identify(ctx, rd, qs)
		if err != nil {
			return err
		}
		vis, err := s.visibilityOf(ctx, rd, a)
		if err != nil {
			return err
		}
		for k, f := range found {
			if len(f) != 1 {
				continue
			}
			r, err := rd.Current(ctx, f[0].Type, f[0].ID)
			if err != nil {
				return err
			}
			if seen := s.filterVisible(vis, []*Resource{r}, e); len(seen) == 1 {
				if out[at[k]], err = Decode(r.Body); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.fail(ctx, e, err)
	}
	if err := s.record(ctx, e); err != nil {
		return nil, err
	}
	return out, nil
}

// findOneSearch is FindOne through a search, for any criteria.
func (s *Store) findOneSearch(ctx context.Context, typ, criteria string) (map[string]any, error) {
	q, err := s.ParseQueryString(typ, criteria)
	if err != nil {
		return nil, err
	}
	q.Count = 2
	found, err := s.SearchWithIncludes(ctx, q)
	if err != nil {
		return nil, err
	}
	if len(found.Resources) != 1 {
		return nil, nil
	}
	return Decode(found.Resources[0].Body)
}
