package access_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
)

// TestBatchRefusalsAudited: what a user's PutBatch is refused — a workflow
// step the role may not take, a type the role may not write — is in the
// audit trail as refused updates and creates naming each resource, like a
// refused REST write; what it is allowed is stored and recorded as before.
func TestBatchRefusalsAudited(t *testing.T) {
	a := openAPI(t)
	a.requireWriteGuard()
	var batch []map[string]any
	for i := range 3 {
		m := res(t, regAccepted)
		m["id"] = fmt.Sprintf("b%d", i)
		batch = append(batch, m)
	}
	batch = append(batch, res(t, plainTask), res(t, patient))
	results, err := a.st.PutBatch(userCtx("cody", access.RoleCoder), batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if want := i != 3; want != (custodian.ErrorCode(r.Err) == custodian.EFORBIDDEN) {
			t.Errorf("item %d: %v", i, r.Err)
		}
	}
	refused, err := a.st.FindAudit(sysCtx, audit.Filter{Actor: "cody", Outcome: custodian.EFORBIDDEN})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, e := range refused {
		got[e.Action] = append(got[e.Action], e.Resources...)
	}
	slices.Sort(got[audit.ActionUpdate])
	if want := []string{"Task/b0", "Task/b1", "Task/b2"}; !slices.Equal(got[audit.ActionUpdate], want) {
		t.Errorf("refused updates in the trail: %v, want %v", got[audit.ActionUpdate], want)
	}
	if want := []string{"Patient"}; !slices.Equal(got[audit.ActionCreate], want) {
		t.Errorf("refused creates in the trail: %v, want %v", got[audit.ActionCreate], want)
	}
	if len(refused) != 2 {
		t.Errorf("%d refusal entries, want one per action", len(refused))
	}
	// The plain Task was stored, and its write recorded as a success.
	ok, err := a.st.FindAudit(sysCtx, audit.Filter{Actor: "cody", Action: audit.ActionUpdate, Outcome: "success"})
	if err != nil || len(ok) != 1 || len(ok[0].Resources) != 1 || ok[0].Resources[0] != "Task/"+results[3].Outcome.Resource.ID+"/_history/1" {
		t.Errorf("the allowed write in the trail: %v, %v", err, ok)
	}
}
