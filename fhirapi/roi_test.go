package fhirapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/blob"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/roi"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

func TestROIBinaryExtensionMatches(t *testing.T) {
	if roi.BinaryContentExtension != fhirapi.BinaryContentExtension {
		t.Fatalf("roi writes packet Binaries with %q, fhirapi reads %q", roi.BinaryContentExtension, fhirapi.BinaryContentExtension)
	}
}

// TestROIOperations drives a release through the API as an ROI specialist,
// with the operations registered beside every built-in route.
func TestROIOperations(t *testing.T) {
	registryOnce.Do(func() {
		var err error
		if registry, err = search.NewR4(fhir.R4()); err != nil {
			panic(err)
		}
	})
	ctx := context.Background()
	db := sqldbtest.Open(t)
	if err := db.RegisterParams(ctx, registry.Indexed()); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, fhir.R4(), registry)
	st.Guard, st.AuditLog = access.Guard{}, db
	blobs, err := blob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	svc := &roi.Service{Store: st, Blobs: blobs, Now: func() time.Time { return now }}
	h := (&fhirapi.Handler{Store: st, Types: fhir.R4().ResourceTypes(), Operations: fhirapi.ROIOperations(svc)}).Init()
	rita := &custodian.Actor{ID: "rita", Kind: "user", Roles: []string{access.RoleROISpecialist}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(custodian.NewContextWithActor(r.Context(), rita)))
	}))
	defer srv.Close()
	sys := custodian.NewContextWithActor(ctx, custodian.SystemActor())
	pt, err := st.Create(sys, "Patient", []byte(`{"resourceType":"Patient","name":[{"family":"Okafor","given":["Amara"]}]}`), store.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pid := pt.Resource.ID
	note := `{"resourceType":"DocumentReference","status":"current","type":{"text":"Clinic note"},"subject":{"reference":"Patient/` + pid +
		`"},"date":"2025-05-01T10:00:00Z","content":[{"attachment":{"contentType":"text/plain","data":"Q2xpbmljIHZpc2l0Lg=="}}]}`
	if _, err := st.Create(sys, "DocumentReference", []byte(note), store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	post := func(path string, form url.Values) (int, map[string]any) {
		t.Helper()
		resp, err := http.PostForm(srv.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var v map[string]any
		json.Unmarshal(b, &v)
		return resp.StatusCode, v
	}
	authorize := func(expires string) string {
		status, c := post("/fhir/Consent/$roi-authorize", url.Values{"patient": {pid}, "recipient": {"Baker & Lowe LLP"},
			"recordType": {"DocumentReference"}, "signed": {"2026-01-05"}, "expires": {expires}})
		if status != http.StatusCreated {
			t.Fatalf("authorize: %d %v", status, c)
		}
		return c["id"].(string)
	}
	request := func(consent string) string {
		status, task := post("/fhir/Task/$roi-request", url.Values{"patient": {pid}, "requesterKind": {"attorney"},
			"requesterName": {"Baker & Lowe LLP"}, "purpose": {"HLEGAL"}, "authorization": {consent}, "received": {"2026-03-01"},
			"from": {"2025-01-01"}, "to": {"2025-12-31"}, "recordType": {"DocumentReference"}})
		if status != http.StatusCreated || task["resourceType"] != "Task" {
			t.Fatalf("request: %d %v", status, task)
		}
		return task["id"].(string)
	}
	// An expired authorization: 403 with the reason.
	expired := request(authorize("2026-02-01"))
	status, oo := post("/fhir/Task/"+expired+"/$release", url.Values{"deliveryMethod": {"mail"}})
	if status != http.StatusForbidden || oo["resourceType"] != "OperationOutcome" || !strings.Contains(mustJSON(oo), "expired on 2026-02-01") {
		t.Fatalf("release under an expired authorization: %d %v", status, oo)
	}
	id := request(authorize("2026-12-31"))
	if status, task := post("/fhir/Task/"+id+"/$roi-extend", url.Values{"reason": {"records off site"}}); status != 200 ||
		!strings.Contains(mustJSON(task), "2026-04-30") {
		t.Fatalf("extend: %d %v", status, task)
	}
	status, task := post("/fhir/Task/"+id+"/$release", url.Values{"deliveryMethod": {"mail"}})
	if status != 200 || task["status"] != "completed" || !strings.Contains(mustJSON(task), "packet-sha256") {
		t.Fatalf("release: %d %v", status, task)
	}
	status, regen := post("/fhir/Task/"+id+"/$regenerate", nil)
	if status != 200 || !strings.Contains(mustJSON(regen), `"valueBoolean":true`) {
		t.Fatalf("regenerate: %d %v", status, regen)
	}
	// An attorney's release under authorization is not in the accounting
	// (164.528(a)(1)(iv)); the route answers all the same.
	resp, err := http.Get(srv.URL + "/fhir/Patient/" + pid + "/$accounting")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"Parameters"`) || strings.Contains(string(b), "disclosure") {
		t.Fatalf("accounting: %d %s", resp.StatusCode, b)
	}
	// The built-in routes still answer beside the operations.
	resp, err = http.Get(srv.URL + "/fhir/Task/" + id + "/_history")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("Task history: %d", resp.StatusCode)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
