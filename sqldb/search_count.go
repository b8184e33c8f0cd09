package sqldb

import (
	"context"
	"sync/atomic"
)

type searchCounterKey struct{}

// CountSearchStatements returns a context under which the SQL statements
// of searches (the page, its count, each _include query) are counted in
// the returned counter, so that a benchmark or test can check that a page
// costs a fixed number of them.
func CountSearchStatements(ctx context.Context) (context.Context, *atomic.Int64) {
	n := new(atomic.Int64)
	return context.WithValue(ctx, searchCounterKey{}, n), n
}

// countStatement counts one search statement if ctx asks for it.
func countStatement(ctx context.Context) {
	if n, ok := ctx.Value(searchCounterKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
}
