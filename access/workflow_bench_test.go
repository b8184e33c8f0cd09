package access_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/store"
)

// BenchmarkGuardedWrites measures what judging writes costs the store:
// Patient creates and Task updates as a client (judged: the body decoded,
// and for an update the current version read and decoded, inside the
// write) against the same as the system actor (not judged).
//
//	go test ./access -run '^$' -bench GuardedWrites -benchtime 3000x
func BenchmarkGuardedWrites(b *testing.B) {
	client := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "feed", Kind: access.KindClient,
		Roles: []string{access.RoleIntegrationClient}, Scopes: []string{"system/*.*"}})
	patient := []byte(`{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"1"}],"name":[{"family":"Doe","given":["Jane"]}],"gender":"female","birthDate":"1970-01-01","address":[{"line":["1 Main St"],"city":"Springfield","postalCode":"12345"}]}`)
	for _, c := range []struct {
		name string
		ctx  context.Context
	}{{"client", client}, {"system", sysCtx}} {
		b.Run("create Patient as "+c.name, func(b *testing.B) {
			a := openAPI(b)
			b.ResetTimer()
			for range b.N {
				if _, err := a.st.Create(c.ctx, "Patient", patient, store.WriteOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("update Task as "+c.name, func(b *testing.B) {
			a := openAPI(b)
			b.ResetTimer()
			for i := range b.N {
				body := fmt.Sprintf(`{"resourceType":"Task","id":"t%d","intent":"order","status":"requested","description":"%d"}`, i%50, i)
				if _, err := a.st.Update(c.ctx, "Task", fmt.Sprintf("t%d", i%50), []byte(body), store.WriteOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAllowWrite is the guard's own work for one judged Task update:
// decoding the version replaced and the one written (as the store does)
// and judging them against every workflow.
//
//	go test ./access -run '^$' -bench AllowWrite
func BenchmarkAllowWrite(b *testing.B) {
	coder := &custodian.Actor{ID: "c", Kind: access.KindUser, Roles: []string{access.RoleCoder}}
	old, new := []byte(regCandidate), []byte(plainDone)
	g := access.Guard{}
	for range b.N {
		o, err := store.Decode(old)
		if err != nil {
			b.Fatal(err)
		}
		n, err := store.Decode(new)
		if err != nil {
			b.Fatal(err)
		}
		if g.AllowWrite(coder, "Task", o, n) == nil {
			b.Fatal("a coder disguised a registry case")
		}
	}
}
