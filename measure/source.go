package measure

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/custodian-him/custodian/store"
)

// SearchSource reads the record type by type through the backend's search
// (in row order, Batch resources a page, no audit entries: this is the
// server reading for itself), and of the Observations only those whose
// code the record keeps. The rest of a store — notes, reports, the many
// other results and orders, most of its bytes — is never read, which a
// BackendSource (every current resource) cannot avoid.
type SearchSource struct {
	Backend interface {
		Read(ctx context.Context, fn func(store.Reader) error) error
	}
	// Parse builds a search from parameters (store.Store.ParseQuery).
	Parse func(typ string, vals url.Values, strict bool) (*store.Query, []string, error)
	// Batch is the page size (1,000 if 0; the store's search allows no
	// more).
	Batch int
}

// Scan implements Source: every current resource of types.
func (s SearchSource) Scan(ctx context.Context, types []string, fn func(typ, id string, version int64, body []byte) error) error {
	return s.scan(ctx, types, nil, fn)
}

// scanKept is Scan with the Observations narrowed to codes (LOINC).
func (s SearchSource) scanKept(ctx context.Context, types, codes []string, fn func(typ, id string, version int64, body []byte) error) error {
	return s.scan(ctx, types, codes, fn)
}

func (s SearchSource) scan(ctx context.Context, types, codes []string, fn func(typ, id string, version int64, body []byte) error) error {
	n := s.Batch
	if n <= 0 {
		n = store.MaxCount
	}
	for _, typ := range types {
		vals := url.Values{"_count": {fmt.Sprint(n)}}
		if typ == "Observation" && codes != nil {
			if len(codes) == 0 {
				continue
			}
			sys := make([]string, len(codes))
			for i, c := range codes {
				sys[i] = SystemLOINC + "|" + c
			}
			vals.Set("code", strings.Join(sys, ","))
		}
		q, _, err := s.Parse(typ, vals, true)
		if err != nil {
			return fmt.Errorf("measure: reading %s: %w", typ, err)
		}
		for {
			var page *store.SearchPage
			err := s.Backend.Read(ctx, func(rd store.Reader) error {
				var err error
				page, err = rd.Search(ctx, q)
				return err
			})
			if err != nil {
				return fmt.Errorf("measure: reading %s: %w", typ, err)
			}
			for _, r := range page.Resources {
				if err := fn(r.Type, r.ID, r.VersionID, r.Body); err != nil {
					return err
				}
			}
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// keptCodes are the LOINC codes of the Observations the record keeps as
// resources of their own (the systolic code is read inside a panel).
func (k *keepObservations) keptCodes() []string {
	var out []string
	for c := range k.codes {
		if c != SystolicCode {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}
