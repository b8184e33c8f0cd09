package store

import (
	"context"
	"testing"
)

// identityTx is a Tx that can look identities up and lock keys together.
type identityTx struct {
	Tx
	identified, lockedAll int
}

func (t *identityTx) Identify(_ context.Context, qs []IdentityQuery) ([][]*Resource, error) {
	t.identified++
	return make([][]*Resource, len(qs)), nil
}

func (t *identityTx) LockAll(context.Context, []string) error {
	t.lockedAll++
	return nil
}

// TestBeneathWrappers checks that a write's identity checks reach the
// backend's IdentityReader and MultiLocker through the store's wrappers:
// the watcher's and the write guard's (which every server write has).
// Hidden behind the guard they fell back to a search per identity (this
// fake's embedded nil Tx would panic) and a lock per key.
func TestBeneathWrappers(t *testing.T) {
	s := &Store{}
	checks := []identityCheck{{typ: "Patient", criteria: "identifier=m|1"}, {typ: "Encounter", criteria: "identifier=v|1"}}
	for _, tc := range []struct {
		name string
		wrap func(Tx) Tx
	}{
		{"bare", func(tx Tx) Tx { return tx }},
		{"watched", func(tx Tx) Tx { return &watchTx{Tx: tx} }},
		{"guarded", func(tx Tx) Tx { return &guardTx{Tx: tx} }},
		{"guarded and watched", func(tx Tx) Tx { return &guardTx{Tx: &watchTx{Tx: tx}} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inner := &identityTx{}
			if err := s.checkIdentities(context.Background(), tc.wrap(inner), checks); err != nil {
				t.Fatal(err)
			}
			if inner.identified != 1 || inner.lockedAll != 1 {
				t.Errorf("identified %d times and locked together %d times, want once each", inner.identified, inner.lockedAll)
			}
		})
	}
}
