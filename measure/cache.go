package measure

import (
	"context"
	"sync"
	"time"
)

// Cache keeps evaluated results by measure, period and options, so that a
// page viewed again (the measures list evaluates every measure) reads a
// kept result instead of the whole record. A result is current while the
// record has not changed since it was evaluated (Record counts every
// change its watcher and loads give it). Once the record has changed, a
// result younger than Stale is still answered while a fresh one is
// evaluated in the background, so a record that changes all day (a live
// feed) does not make every view evaluate; an older one is evaluated again
// before answering. Results with patient lists (Options.Lists) are never
// answered once the record has changed: a list must hold what its counts
// say, now.
//
// Evaluations for one patient (Options.Subject) are not kept: they are
// quick.
type Cache struct {
	Record *Record
	// Stale is how long a result may be answered after the record has
	// changed (1 minute if 0; a negative value: never).
	Stale time.Duration
	// Max is how many results are kept (256 if 0); the least recently
	// used go first.
	Max int
	// Now is the clock (time.Now if nil).
	Now func() time.Time

	mu      sync.Mutex
	entries map[cacheKey]*cacheEntry
}

type cacheKey struct {
	def                   *Definition
	period                Period
	lists, hide, expected bool
}

type cacheEntry struct {
	// done is closed once res and err are set by the first evaluation.
	done chan struct{}
	res  *Result
	err  error
	// gen is the record's count of changes when the evaluation began.
	gen  uint64
	used time.Time
	// refreshing is set while a background evaluation runs.
	refreshing bool
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Evaluate returns def's result for period with opt, kept or evaluated
// (see Evaluate for the errors; errors are not kept). The result is
// shared: callers must not change it.
func (c *Cache) Evaluate(ctx context.Context, def *Definition, period Period, opt Options) (*Result, error) {
	if opt.Subject != "" || c.Record.Loading() {
		return Evaluate(ctx, c.Record, def, period, opt)
	}
	key := cacheKey{def: def, period: period, lists: opt.Lists, hide: opt.HideRestricted, expected: opt.Expected != nil}
	stale := c.Stale
	if stale == 0 {
		stale = time.Minute
	}
	now := c.now()
	c.mu.Lock()
	e := c.entries[key]
	if e != nil {
		select {
		case <-e.done:
			gen := c.Record.gen.Load()
			switch {
			case e.err != nil:
				e = nil // evaluate again
			case e.gen == gen:
			case stale > 0 && !opt.Lists && now.Sub(e.res.AsOf) < stale:
				if !e.refreshing {
					e.refreshing = true
					go c.refresh(key, def, period, opt)
				}
			default:
				e = nil
			}
		default: // being evaluated: wait for it below
		}
	}
	if e == nil {
		e = &cacheEntry{done: make(chan struct{})}
		c.put(key, e)
		c.mu.Unlock()
		c.fill(ctx, e, def, period, opt)
		c.mu.Lock()
	}
	e.used = now
	c.mu.Unlock()
	select {
	case <-e.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return e.res, e.err
}

// fill evaluates into e and closes its done.
func (c *Cache) fill(ctx context.Context, e *cacheEntry, def *Definition, period Period, opt Options) {
	defer close(e.done)
	e.gen = c.Record.gen.Load()
	// The evaluation is shared by whoever waits for it, so one viewer
	// leaving does not fail it for the others.
	e.res, e.err = Evaluate(context.WithoutCancel(ctx), c.Record, def, period, opt)
	if e.res != nil {
		e.res.AsOf = c.now()
	}
}

// refresh evaluates key again in the background and replaces the kept
// result when done.
func (c *Cache) refresh(key cacheKey, def *Definition, period Period, opt Options) {
	e := &cacheEntry{done: make(chan struct{})}
	c.fill(context.Background(), e, def, period, opt)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[key]; old != nil {
		old.refreshing = false
	}
	if e.err == nil {
		e.used = c.now()
		c.put(key, e)
	}
}

// put keeps e under key, dropping the least recently used result when
// full; c.mu must be held.
func (c *Cache) put(key cacheKey, e *cacheEntry) {
	if c.entries == nil {
		c.entries = map[cacheKey]*cacheEntry{}
	}
	max := c.Max
	if max <= 0 {
		max = 256
	}
	if _, ok := c.entries[key]; !ok && len(c.entries) >= max {
		var oldest cacheKey
		var at time.Time
		first := true
		for k, x := range c.entries {
			select {
			case <-x.done:
			default:
				continue // being evaluated
			}
			if first || x.used.Before(at) {
				oldest, at, first = k, x.used, false
			}
		}
		if !first {
			delete(c.entries, oldest)
		}
	}
	c.entries[key] = e
}
