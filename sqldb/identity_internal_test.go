package sqldb

import (
	"testing"

	"github.com/custodian-him/custodian/store"
)

// TestIdentityShapes checks that lookups of one shape share a statement:
// ids looked up together (the MLLP handler's resend check, a
// transaction's explicit ids) were each given an alias of their own, and
// so a statement each.
func TestIdentityShapes(t *testing.T) {
	c := &conn{db: &DB{dialect: &Dialect{}, params: map[paramKey]int64{}}}
	var qs []store.IdentityQuery
	for _, id := range []string{"a", "b", "c"} {
		qs = append(qs, store.IdentityQuery{Type: "Basic", Clause: store.Clause{Param: "_id", Kind: store.KindToken,
			Values: []store.ClauseValue{{Text: id, Code: id}}}})
	}
	qs = append(qs, store.IdentityQuery{Type: "Patient", Clause: qs[0].Clause})
	shapes, err := c.identityShapes(qs)
	if err != nil {
		t.Fatal(err)
	}
	if len(shapes) != 1 || len(shapes[0].parts) != 4 {
		for _, sh := range shapes {
			t.Logf("shape %q: %d lookups", sh.cond, len(sh.parts))
		}
		t.Fatalf("%d shapes, want one with the four lookups", len(shapes))
	}
	for i, p := range shapes[0].parts {
		if p.i != i {
			t.Errorf("part %d is lookup %d", i, p.i)
		}
	}
}
