package store

import (
	"context"
	"slices"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
)

// SearchTimeout bounds the time one search may take, so that no query can
// take the server down; a search that runs out of time fails with ETIMEOUT.
var SearchTimeout = 15 * time.Second

// MaxIncluded bounds the resources _include and _revinclude add to a page.
const MaxIncluded = 1000

// IncludeReader is a Reader that can fetch the resources _include and
// _revinclude ask for: those the matches refer to (Include) or that refer
// to the matches (Include with Rev), in one query per include and round.
type IncludeReader interface {
	Include(ctx context.Context, q *Query, inc Include, from []*Resource) ([]*Resource, error)
}

// Pager is a Reader whose search pages also know the way back:
// SearchPaged returns a page like Search and the cursor of the page before
// it ("" on the first page).
type Pager interface {
	SearchPaged(ctx context.Context, q *Query) (page *SearchPage, prev string, err error)
}

// SearchResult is a page of matches with the resources included for them,
// and the cursor of the previous page ("" for none).
type SearchResult struct {
	*SearchPage
	Prev     string
	Included []*Resource
}

// SearchWithIncludes runs q like Search and adds the _include and
// _revinclude resources (with :iterate, up to 4 rounds and MaxIncluded
// resources: a cycle ends when a round finds nothing new). It gives up with
// ETIMEOUT after SearchTimeout.
func (s *Store) SearchWithIncludes(ctx context.Context, q *Query) (*SearchResult, error) {
	e := s.entry(ctx, audit.ActionSearch)
	e.Query = q.Text
	var a *custodian.Actor
	var err error
	if len(q.Types) == 0 {
		a, err = s.allow(ctx, "", "search")
	}
	for _, t := range q.Types {
		if a, err = s.allow(ctx, t, "search"); err != nil {
			break
		}
	}
	for _, inc := range q.Includes {
		if err == nil && inc.Type != "" {
			_, err = s.allow(ctx, inc.Type, "search")
		}
	}
	if err != nil {
		return nil, s.fail(ctx, e, err)
	}
	res := &SearchResult{}
	// The time limit covers the reading; the audit entry is written with
	// the caller's context, so a search that times out is still recorded.
	outer := ctx
	ctx, cancel := context.WithTimeout(ctx, SearchTimeout)
	defer cancel()
	err = s.backend.Read(ctx, func(rd Reader) error {
		vis, err := s.visibilityOf(ctx, rd, a)
		if err != nil {
			return err
		}
		q.Visible = &Visibility{All: vis.all}
		for pt := range vis.breakGlass {
			q.Visible.Patients = append(q.Visible.Patients, pt)
		}
		var p *SearchPage
		if pg, ok := rd.(Pager); ok {
			p, res.Prev, err = pg.SearchPaged(ctx, q)
		} else {
			p, err = rd.Search(ctx, q)
		}
		if err != nil {
			return err
		}
		p.Resources = s.filterVisible(vis, p.Resources, e)
		res.SearchPage = p
		if len(q.Includes) == 0 || len(p.Resources) == 0 {
			return nil
		}
		ir, ok := rd.(IncludeReader)
		if !ok {
			return custodian.Errorf(custodian.ENOTIMPLEMENTED, "this store cannot do _include")
		}
		inc, err := s.includes(ctx, ir, q, p.Resources)
		if err != nil {
			return err
		}
		res.Included = s.filterVisible(vis, inc, e)
		return nil
	})
	if err != nil {
		if ctx.Err() != nil && outer.Err() == nil { // our limit, not the caller going away
			err = custodian.Wrap(custodian.ETIMEOUT, err, "the search took longer than %s; narrow it down and try again", SearchTimeout)
		}
		return nil, s.fail(outer, e, err)
	}
	return res, s.record(outer, e)
}

// includes runs q's includes from the matches, then the :iterate ones from
// what each round added.
func (s *Store) includes(ctx context.Context, ir IncludeReader, q *Query, matches []*Resource) ([]*Resource, error) {
	seen := map[string]bool{}
	for _, r := range matches {
		seen[r.Ref()] = true
	}
	var out []*Resource
	from := matches
	for round := 0; round < 4 && len(from) > 0 && len(out) < MaxIncluded; round++ {
		var next []*Resource
		for _, inc := range q.Includes {
			if round > 0 && !inc.Iterate {
				continue
			}
			for _, one := range s.expandInclude(q, inc) {
				found, err := ir.Include(ctx, q, one, from)
				if err != nil {
					return nil, err
				}
				for _, r := range found {
					if seen[r.Ref()] || len(out) >= MaxIncluded {
						continue
					}
					seen[r.Ref()] = true
					out = append(out, r)
					next = append(next, r)
				}
			}
		}
		from = next
	}
	return out, nil
}

// expandInclude turns Param "*" into every reference parameter of the type
// (of each type searched when the include names none).
func (s *Store) expandInclude(q *Query, inc Include) []Include {
	if inc.Param != "*" {
		return []Include{inc}
	}
	cat := s.catalog()
	if cat == nil {
		return nil
	}
	types := []string{inc.Type}
	if inc.Type == "" {
		types = q.Types
	}
	var out []Include
	for _, t := range types {
		for _, p := range cat.ReferenceParams(t) {
			one := inc
			one.Type, one.Param = t, p
			if !slices.Contains(out, one) {
				out = append(out, one)
			}
		}
	}
	return out
}
