package store

import "context"

// FindOne returns the current version, decoded, of the one resource of
// type typ that the search criteria (a query string such as
// "identifier=sys|v") match, as the caller may see it; nil when none or
// several match. It is how a writer that updates conditionally reads
// what it is about to replace.
func (s *Store) FindOne(ctx context.Context, typ, criteria string) (map[string]any, error) {
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
