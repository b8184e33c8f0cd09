package store

import "context"

// A Watcher is told of the versions a write added, once that write has
// committed: the domain services that keep derived work current as data
// arrives (the master patient index, chart review, registry case finding)
// register one on the Store. It runs in the writer's goroutine before the
// write returns, with the writer's context (so the actor is known), and
// must be quick; anything slow belongs on a queue of its own. It cannot fail
// the write, which has already committed: a watcher that cannot do its work
// records that itself, and a scheduled pass over the store catches up.
// versions are in the order written; deletes have Deleted set and no Body.
type Watcher func(ctx context.Context, versions []*Resource)

// watchTx is a Tx that remembers the versions put through it.
type watchTx struct {
	Tx
	put []*Resource
}

func (t *watchTx) Put(ctx context.Context, r *Resource, index []IndexEntry) error {
	if err := t.Tx.Put(ctx, r, index); err != nil {
		return err
	}
	t.put = append(t.put, r)
	return nil
}

// watching runs fn with a Tx that remembers what it puts, starting afresh
// each time the backend runs fn (it may run it again after a rollback).
func (s *Store) watching(fn func(Tx) error) (func(Tx) error, *watchTx) {
	fn = s.guarding(fn) // what is written is judged too (protect.go)
	wt := &watchTx{}
	if len(s.Watchers) == 0 {
		return fn, wt
	}
	return func(tx Tx) error {
		wt.Tx, wt.put = tx, wt.put[:0]
		return fn(wt)
	}, wt
}

// notify tells the watchers of a committed write's versions.
func (s *Store) notify(ctx context.Context, wt *watchTx) {
	if len(wt.put) == 0 {
		return
	}
	for _, w := range s.Watchers {
		w(ctx, wt.put)
	}
}
