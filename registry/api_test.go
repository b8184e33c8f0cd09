package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/registry"
)

// TestRegistrarThroughTheAPI: under the real role table, the disease
// registrar decides cases by writing their Tasks through the FHIR API
// (the service mirrors them), and may not register patients; the
// service itself lets only the registrar and the director decide.
func TestRegistrarThroughTheAPI(t *testing.T) {
	f := open(t, 60)
	sys := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	if _, err := f.svc.FindAll(sys, "diabetes"); err != nil {
		t.Fatal(err)
	}
	f.st.Guard = access.Guard{}
	cands, err := f.svc.Cases("diabetes", registry.Candidate)
	if err != nil || len(cands) < 3 {
		t.Fatalf("diabetes candidates: %v, %d; the test needs 3", err, len(cands))
	}
	h := (&fhirapi.Handler{Store: f.st, Types: fhir.R4().ResourceTypes()}).Init()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := &custodian.Actor{ID: r.Header.Get("X-Test-User"), Kind: access.KindUser, Roles: []string{r.Header.Get("X-Test-Role")}}
		h.ServeHTTP(w, r.WithContext(custodian.NewContextWithActor(r.Context(), a)))
	}))
	defer srv.Close()
	do := func(method, path, user, role string, body []byte, header ...string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+"/fhir/"+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/fhir+json")
		req.Header.Set("X-Test-User", user)
		req.Header.Set("X-Test-Role", role)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	// decide reads the case's Task as the registrar and writes it back
	// with the decision, as a registry client would.
	decide := func(patient, status, business, reason string) int {
		t.Helper()
		id := registry.TaskID("diabetes", patient)
		code, task := do("GET", "Task/"+id, "rita", access.RoleRegistrar, nil)
		if code != http.StatusOK {
			t.Fatalf("the registrar reads the case's Task: %d", code)
		}
		meta := task["meta"].(map[string]any)
		task["status"] = status
		task["businessStatus"] = map[string]any{"text": business}
		task["lastModified"] = "2025-10-15T09:00:00Z"
		task["input"] = []any{map[string]any{"type": map[string]any{"text": "decided-by"}, "valueString": "rita"}}
		if reason != "" {
			task["statusReason"] = map[string]any{"text": reason}
		}
		b, _ := json.Marshal(task)
		code, _ = do("PUT", "Task/"+id, "rita", access.RoleRegistrar, b, "If-Match", `W/"`+meta["versionId"].(string)+`"`)
		return code
	}
	if code := decide(cands[0].Patient, "completed", registry.Accepted, ""); code != http.StatusOK {
		t.Fatalf("the registrar accepts through the API: %d", code)
	}
	if code := decide(cands[1].Patient, "rejected", registry.Rejected, "gestational diabetes only"); code != http.StatusOK {
		t.Fatalf("the registrar rejects through the API: %d", code)
	}
	all, _ := f.svc.Cases("diabetes", "")
	got := map[string]*registry.Case{}
	for _, c := range all {
		got[c.Patient] = c
	}
	if c := got[cands[0].Patient]; c.Status != registry.Accepted || c.DecidedBy != "rita" {
		t.Errorf("the acceptance written through the API is mirrored as %+v", c)
	}
	if c := got[cands[1].Patient]; c.Status != registry.Rejected || c.Reason != "gestational diabetes only" {
		t.Errorf("the rejection written through the API is mirrored as %+v", c)
	}
	// The registrar does not register or change patients.
	patient := []byte(`{"resourceType":"Patient","name":[{"family":"Registrarova"}]}`)
	if code, oo := do("POST", "Patient", "rita", access.RoleRegistrar, patient); code != http.StatusForbidden || oo["resourceType"] != "OperationOutcome" {
		t.Errorf("the registrar creates a Patient: %d %v, want 403 OperationOutcome", code, oo["resourceType"])
	}
	if code, _ := do("POST", "Patient", "dana", access.RoleHIMDirector, patient); code != http.StatusCreated {
		t.Errorf("the director creates a Patient: %d, want 201", code)
	}
	// Through the service, only the deciding roles decide.
	for _, tc := range []struct {
		role, want string
	}{
		{access.RoleCoder, custodian.EFORBIDDEN},
		{access.RoleClinician, custodian.EFORBIDDEN},
		{access.RoleRecordAnalyst, custodian.EFORBIDDEN},
		{access.RoleRegistrar, ""},
	} {
		ctx := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "u-" + tc.role, Kind: access.KindUser, Roles: []string{tc.role}})
		_, err := f.svc.Decide(ctx, "diabetes", cands[2].Patient, false, "not a diabetes case", nil)
		if custodian.ErrorCode(err) != tc.want && !(tc.want == "" && err == nil) {
			t.Errorf("%s decides: %v, want %q", tc.role, err, tc.want)
		}
		if _, err := f.svc.RecordFollowUp(ctx, "diabetes", cands[0].Patient, "2025-10-15"); tc.want != "" && custodian.ErrorCode(err) != tc.want {
			t.Errorf("%s records a follow-up: %v, want %q", tc.role, err, tc.want)
		}
	}
	if c, _ := f.svc.Cases("diabetes", registry.Rejected); len(c) != 2 {
		t.Errorf("rejected cases: %d, want 2 (the API's and the registrar's through the service)", len(c))
	}
}
