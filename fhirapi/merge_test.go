package fhirapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/mpi/identity"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

func TestPatientMergeOperations(t *testing.T) {
	sys := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	db := sqldbtest.Open(t)
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RegisterParams(sys, reg.Indexed()); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, fhir.R4(), reg)
	st.Guard, st.AuditLog = access.Guard{}, db
	for id, name := range map[string]string{"keep": "Okafor", "dup": "Okafour"} {
		body := `{"resourceType":"Patient","id":"` + id + `","name":[{"family":"` + name + `","given":["Ada"]}],"birthDate":"1970-01-02"}`
		if _, err := st.Update(sys, "Patient", id, []byte(body), store.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	obs := `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/dup"}}`
	if _, err := st.Update(sys, "Observation", "o1", []byte(obs), store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &identity.Service{Store: st}
	h := (&fhirapi.Handler{Store: st, Types: fhir.R4().ResourceTypes(), Operations: fhirapi.MergeOperations(svc)}).Init()
	var role string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := &custodian.Actor{ID: "u-" + role, Kind: "user", Roles: []string{role}}
		h.ServeHTTP(w, r.WithContext(custodian.NewContextWithActor(r.Context(), a)))
	}))
	defer srv.Close()
	post := func(path, body string) (int, map[string]any) {
		resp, err := http.Post(srv.URL+path, "application/fhir+json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out map[string]any
		json.Unmarshal(b, &out)
		return resp.StatusCode, out
	}
	params := func(src, dst string) string {
		return `{"resourceType":"Parameters","parameter":[{"name":"source-patient","valueReference":{"reference":"` + src +
			`"}},{"name":"target-patient","valueReference":{"reference":"` + dst + `"}}]}`
	}
	cases := []struct {
		role, body string
		status     int
	}{
		{access.RoleCoder, params("Patient/dup", "Patient/keep"), http.StatusForbidden},
		{access.RoleHIMDirector, params("Observation/o1", "Patient/keep"), http.StatusBadRequest},
		{access.RoleHIMDirector, params("Patient/dup", "Patient/dup"), http.StatusBadRequest},
		{access.RoleHIMDirector, params("Patient/dup", "Patient/nobody"), http.StatusNotFound},
		{access.RoleHIMDirector, `{"resourceType":"Parameters","parameter":[{"name":"result-patient","valueString":"x"}]}`, http.StatusBadRequest},
	}
	for _, c := range cases {
		role = c.role
		if code, out := post("/fhir/Patient/$merge", c.body); code != c.status {
			t.Errorf("%s %s: %d %v, want %d", c.role, c.body, code, out, c.status)
		}
	}
	role = access.RoleHIMDirector
	code, out := post("/fhir/Patient/$merge", params("Patient/dup", "Patient/keep"))
	if code != http.StatusOK {
		t.Fatalf("merge: %d %v", code, out)
	}
	var task string
	for _, p := range out["parameter"].([]any) {
		pm := p.(map[string]any)
		if pm["name"] == "task" {
			task = pm["valueReference"].(map[string]any)["reference"].(string)
		}
	}
	r, err := st.Read(sys, "Observation", "o1")
	if err != nil || !strings.Contains(string(r.Body), `"Patient/keep"`) {
		t.Fatalf("the Observation did not move: %s %v", r.Body, err)
	}
	if code, out := post("/fhir/"+task+"/$unmerge", ""); code != http.StatusOK {
		t.Fatalf("unmerge %s: %d %v", task, code, out)
	}
	if r, _ := st.Read(sys, "Observation", "o1"); !strings.Contains(string(r.Body), `"Patient/dup"`) {
		t.Errorf("the Observation did not return: %s", r.Body)
	}
	if code, _ := post("/fhir/"+task+"/$unmerge", ""); code != http.StatusConflict {
		t.Errorf("second unmerge: %d, want 409", code)
	}
	if code, _ := post("/fhir/"+task+"/$not-duplicate", `{"resourceType":"Parameters"}`); code != http.StatusBadRequest {
		t.Errorf("not-duplicate on a merge Task: %d, want 400", code)
	}
}
