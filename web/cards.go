package web

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/custodian-him/custodian"
)

// KeepCards wraps a module's Cards so that each user's cards are made at
// most once per ttl (see Kept): cards that read a large record (every
// stay, every claim) cost one reading per ttl, not one per view. Each
// card's AsOf says when it was made.
func KeepCards(ttl time.Duration, cards func(ctx context.Context) ([]Card, error)) func(ctx context.Context) ([]Card, error) {
	k := &Kept[[]Card]{TTL: ttl, Make: cards}
	return func(ctx context.Context) ([]Card, error) {
		cs, at, err := k.Get(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]Card, len(cs))
		for i, c := range cs {
			c.AsOf = at
			out[i] = c
		}
		return out, nil
	}
}

// Kept keeps a value per user for a while (not at all if TTL <= 0, and
// then the time Get returns is zero): a view within TTL of the last
// making gets that value, a later view gets it too while a new one is made
// in the background (under the same actor, so its reads are audited as
// theirs), and only a user's first view waits. Values are kept per user,
// roles and purpose of use, since what they count depends on what the
// user may see; a user unseen for 10 TTL is forgotten. Forget drops them
// all, for a change the page must show at once.
type Kept[T any] struct {
	TTL  time.Duration
	Make func(ctx context.Context) (T, error)

	mu sync.Mutex
	m  map[string]*keptEntry[T]
}

type keptEntry[T any] struct {
	done       chan struct{} // closed once v and err are set
	v          T
	err        error
	at, used   time.Time
	refreshing bool
}

// Get returns the value for the actor of ctx and when it was made.
func (k *Kept[T]) Get(ctx context.Context) (T, time.Time, error) {
	a := custodian.ActorFromContext(ctx)
	if a == nil || k.TTL <= 0 {
		v, err := k.Make(ctx)
		return v, time.Time{}, err
	}
	key := a.Kind + "\x00" + a.ID + "\x00" + strings.Join(a.Roles, ",") + "\x00" + a.PurposeOfUse
	now := time.Now()
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keptEntry[T]{}
	}
	for key, e := range k.m { // forget users long gone
		if now.Sub(e.used) > 10*k.TTL && !e.refreshing && isDone(e.done) {
			delete(k.m, key)
		}
	}
	e := k.m[key]
	if e != nil && isDone(e.done) {
		switch {
		case e.err != nil:
			e = nil
		case now.Sub(e.at) >= k.TTL && !e.refreshing:
			e.refreshing = true
			go k.refresh(context.WithoutCancel(ctx), key, e)
		}
	}
	if e == nil {
		e = &keptEntry[T]{done: make(chan struct{}), at: now}
		k.m[key] = e
		k.mu.Unlock()
		e.v, e.err = k.Make(ctx)
		close(e.done)
		k.mu.Lock()
	}
	e.used = now
	k.mu.Unlock()
	select {
	case <-e.done:
	case <-ctx.Done():
		var zero T
		return zero, time.Time{}, ctx.Err()
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return e.v, e.at, e.err
}

// Forget drops every kept value: the next views make them again.
func (k *Kept[T]) Forget() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for key, e := range k.m {
		if isDone(e.done) {
			delete(k.m, key)
		}
	}
}

func (k *Kept[T]) refresh(ctx context.Context, key string, e *keptEntry[T]) {
	at := time.Now()
	v, err := k.Make(ctx)
	k.mu.Lock()
	defer k.mu.Unlock()
	e.refreshing = false
	if err == nil && k.m[key] == e { // a failed refresh keeps what it had
		e.v, e.at = v, at
	}
}

func isDone(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
