package encoder_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/coding"
)

// TestRefusedCodingAudited: the coding workspace's POST (save, finalise,
// any change of the abstract) by a role that does not code is refused and
// is in the audit trail as a refused update of the stay's coding Claim, as
// a refused FHIR write of it is; and no Claim is written.
func TestRefusedCodingAudited(t *testing.T) {
	e := newEnv(t, patients)
	list, err := e.q.DNFB(as("cody", access.RoleCoder))
	if err != nil || len(list) == 0 {
		t.Fatalf("DNFB: %d, %v", len(list), err)
	}
	id := strings.TrimPrefix(list[0].Encounter, "Encounter/")
	for _, role := range []string{access.RoleRecordAnalyst, access.RoleClinician} {
		form := url.Values{"action": {"finalise"}, "dx_code": {"J18.9"}, "dx_poa": {"Y"}}
		req := httptest.NewRequest("POST", "/coding/encounters/"+id, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req = req.WithContext(as("tester-"+role, role))
		rec := httptest.NewRecorder()
		e.wb.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Errorf("finalise by %s: %d, want 403", role, rec.Code)
		}
	}
	sys := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	for _, role := range []string{access.RoleRecordAnalyst, access.RoleClinician} {
		es, err := e.st.FindAudit(sys, audit.Filter{Actor: "tester-" + role, Outcome: custodian.EFORBIDDEN})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(es, func(x *audit.Entry) bool {
			return x.Action == audit.ActionUpdate && slices.Equal(x.Resources, []string{"Claim/" + coding.ClaimID(id)})
		}) {
			t.Errorf("no refused update of Claim/%s by %s in the trail: %+v", coding.ClaimID(id), role, es)
		}
	}
	if _, err := e.st.Read(sys, "Claim", coding.ClaimID(id)); custodian.ErrorCode(err) != custodian.ENOTFOUND {
		t.Errorf("the refused posts wrote the coding Claim: %v", err)
	}
}
