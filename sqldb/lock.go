package sqldb

import "context"

// LockAll implements store.MultiLocker: the locks Lock takes on each of
// keys, in the order given, in one statement when the dialect has one
// (Dialect.LockAll: one round trip for a write's identities instead of
// one per identity), else one by one. Engines that serialise every write
// (no Dialect.Lock) take nothing.
func (c *conn) LockAll(_ context.Context, keys []string) error {
	d := c.db.dialect
	switch {
	case d.Lock == nil || len(keys) == 0:
		return nil
	case len(keys) == 1 || d.LockAll == nil:
		for _, k := range keys {
			if err := d.Lock(c.ctx, c.tx, k); err != nil {
				return translate(err)
			}
		}
		return nil
	}
	return translate(d.LockAll(c.ctx, c.tx, keys))
}
