package feeds_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/ingest/mllp"
	"github.com/custodian-him/custodian/store"
)

// TestReplayIsTheFeedWorkflow: replaying the dead letters is the feed
// workflow's step in the store's Guard. A replay POSTed by a role that
// does not take it is refused and is in the audit trail as a refused
// step; and a role the role table lets write Basic resources cannot
// forge a dead letter (which a replay would hand to the feed as Custodian
// itself) through the store.
func TestReplayIsTheFeedWorkflow(t *testing.T) {
	e := newEnv(t)
	for _, role := range []string{access.RoleAdministrator, access.RoleClinician} {
		if rec := e.serve("POST", "/feeds/replay", role); rec.Code != http.StatusForbidden {
			t.Errorf("replay by %s: %d, want 403", role, rec.Code)
		}
	}
	if e.mpi.merges != 0 {
		t.Fatalf("a refused replay merged %d times", e.mpi.merges)
	}
	sys := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	es, err := e.st.FindAudit(sys, audit.Filter{Actor: "tester", Action: audit.ActionDecide, Outcome: custodian.EFORBIDDEN})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(slices.DeleteFunc(es, func(x *audit.Entry) bool { return x.Query != access.WorkflowFeed })); n != 2 {
		t.Errorf("%d refused replays in the trail, want 2", n)
	}

	forged, _ := json.Marshal(map[string]any{"resourceType": "Basic",
		"code": map[string]any{"coding": []any{map[string]any{"system": mllp.SystemFeed, "code": mllp.CodeDeadLetter}}}})
	carl := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "carl", Kind: access.KindUser, Roles: []string{access.RoleClinician}})
	if _, err := e.st.Create(carl, "Basic", forged, store.WriteOptions{}); custodian.ErrorCode(err) != custodian.EFORBIDDEN {
		t.Errorf("a clinician wrote a dead letter: %v", err)
	}
	plain, _ := json.Marshal(map[string]any{"resourceType": "Basic", "code": map[string]any{"text": "note"}})
	if _, err := e.st.Create(carl, "Basic", plain, store.WriteOptions{}); err != nil {
		t.Errorf("a clinician's plain Basic: %v", err)
	}
}
