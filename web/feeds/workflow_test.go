package feeds_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/ingest/mllp"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/web"
	"github.com/custodian-him/custodian/web/feeds"
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

// TestReplayRolesFromTheGuard: a site whose table gives the feed workflow
// to the record analyst alone gets exactly that on the page: the analyst
// is offered the page and the replay, the HIM director's replay is
// refused.
func TestReplayRolesFromTheGuard(t *testing.T) {
	e := newEnv(t)
	ws := access.DefaultWorkflows()
	for i := range ws {
		if ws[i].Name == access.WorkflowFeed {
			ws[i].Deciders = []string{access.RoleRecordAnalyst}
		}
	}
	e.st.Guard = access.Guard{Workflows: ws}
	wb := &web.Handler{Records: e.st}
	wb.Modules = append(wb.Modules, feeds.Module(feeds.Feed{Store: e.st, Handler: e.handler, Actor: feedActor}, wb))
	e.wb = wb
	if rec := e.serve("GET", "/feeds/", access.RoleRecordAnalyst); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="replay"`) {
		t.Errorf("the page for the record analyst: %d, replay offered: %v", rec.Code, strings.Contains(rec.Body.String(), `id="replay"`))
	}
	if rec := e.serve("GET", "/feeds/", access.RoleHIMDirector); rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `id="replay"`) {
		t.Errorf("the page for the HIM director: %d, replay offered: %v", rec.Code, strings.Contains(rec.Body.String(), `id="replay"`))
	}
	if rec := e.serve("POST", "/feeds/replay", access.RoleHIMDirector); rec.Code != http.StatusForbidden {
		t.Errorf("replay by the HIM director: %d, want 403", rec.Code)
	}
	if rec := e.serve("POST", "/feeds/replay", access.RoleRecordAnalyst); rec.Code != http.StatusOK {
		t.Errorf("replay by the record analyst: %d, want 200", rec.Code)
	}
}
