package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/audit"
)

// TestServedOperations: the operations other packages provide are wired
// into the served API behind authentication: terminology, DRG grouping,
// Bulk Data export and attachments, and chart review runs beside them.
func TestServedOperations(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := openApp(ctx, t.TempDir(), "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	stop, err := a.startWork(ctx, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()

	cl, secret, err := a.access.CreateClient(systemCtx(), "ops", []string{"system/*.read", "system/*.write"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(srv.URL+"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {cl.ID}, "client_secret": {secret}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	do := func(method, path, ctype, body string, hdr ...string) (int, http.Header, string) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, srv.URL+path, rd)
		if tok.AccessToken != "" {
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}

	if s, _, b := do("GET", "/fhir/CodeSystem/$lookup?system=http://hl7.org/fhir/sid/icd-10-cm&code=E11.9", "", ""); s != 200 || !strings.Contains(b, "Type 2 diabetes mellitus without complications") {
		t.Errorf("$lookup: %d %.300s", s, b)
	}
	// Heart failure with acute kidney failure (a CC): DRG 292.
	if s, _, b := do("GET", "/fhir/Claim/$drg?age=70&sex=M&dischargeStatus=01&pdx=I5023&sdx=N179", "", ""); s != 200 || !strings.Contains(b, `"finalDRG","valueString":"292"`) {
		t.Errorf("$drg: %d %.500s", s, b)
	}
	if s, _, b := do("GET", "/fhir/metadata", "", ""); s != 200 || !strings.Contains(b, `"name":"lookup"`) || !strings.Contains(b, `"name":"export"`) || !strings.Contains(b, `"name":"accounting"`) || !strings.Contains(b, `"name":"suggest-codes"`) {
		t.Errorf("CapabilityStatement lacks the operations: %d", s)
	}
	if s, _, b := do("POST", "/fhir/DocumentReference/$suggest-codes", "application/fhir+json",
		`{"resourceType":"Parameters","parameter":[{"name":"text","valueString":"Assessment: community acquired pneumonia. Denies chest pain."}]}`); s != 200 || !strings.Contains(b, "J18") || strings.Contains(b, "R07") {
		t.Errorf("$suggest-codes: %d %.400s", s, b)
	}
	s, h, b := do("POST", "/fhir/Binary", "application/pdf", "%PDF-1.4 scanned consent form")
	if s != 201 {
		t.Fatalf("Binary upload: %d %s", s, b)
	}
	loc := strings.TrimPrefix(h.Get("Location"), srv.URL)
	if i := strings.Index(loc, "/_history"); i > 0 {
		loc = loc[:i]
	}
	if s, _, b := do("GET", loc, "", "", "Accept", "application/pdf", "Range", "bytes=0-7"); s != 206 || b != "%PDF-1.4" {
		t.Errorf("Binary range read %s: %d %q", loc, s, b)
	}
	s, h, b = do("GET", "/fhir/$export?_type=Binary", "", "", "Prefer", "respond-async")
	if s != 202 || h.Get("Content-Location") == "" {
		t.Fatalf("$export kick-off: %d %s", s, b)
	}
	status := strings.TrimPrefix(h.Get("Content-Location"), srv.URL)
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, _, b = do("GET", status, "", "")
		if s == 200 {
			if !strings.Contains(b, `"type":"Binary"`) {
				t.Errorf("export manifest: %s", b)
			}
			break
		}
		if s != 202 || time.Now().After(deadline) {
			t.Fatalf("export status: %d %s", s, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Token :below and :above follow the ICD-10-CM hierarchy.
	for i, code := range []string{"E11.22", "E11.9", "I10", "E11"} {
		body := `{"resourceType":"Condition","id":"dx` + string(rune('0'+i)) + `","subject":{"reference":"Patient/p"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"` + code + `"}]}}`
		if s, _, b := do("PUT", "/fhir/Condition/dx"+string(rune('0'+i)), "application/fhir+json", body); s != 201 {
			t.Fatalf("create %s: %d %s", code, s, b)
		}
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"code:below=http://hl7.org/fhir/sid/icd-10-cm|E11", []string{"dx0", "dx1", "dx3"}},
		{"code:below=http://hl7.org/fhir/sid/icd-10-cm|E11.2", []string{"dx0"}},
		{"code:above=http://hl7.org/fhir/sid/icd-10-cm|E11.22", []string{"dx0", "dx3"}},
	} {
		s, _, b := do("GET", "/fhir/Condition?_sort=_id&"+c.query, "", "")
		var got []string
		for _, id := range []string{"dx0", "dx1", "dx2", "dx3"} {
			if strings.Contains(b, `"id":"`+id+`"`) {
				got = append(got, id)
			}
		}
		if s != 200 || strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: %d %v, want %v", c.query, s, got, c.want)
		}
	}
	if s, _, _ := do("GET", "/fhir/Condition?code:below=http://snomed.info/sct|73211009", "", ""); s != 400 {
		t.Errorf(":below on a system without a known hierarchy: %d, want 400", s)
	}
	// $match finds a registration written since serving began (the watcher
	// keeps the index current).
	pat := `{"resourceType":"Patient","id":"m1","name":[{"family":"Quillfeather","given":["Marisol"]}],"gender":"female","birthDate":"1961-04-17",
		"address":[{"line":["14 Larkspur Way"],"city":"Dayton","postalCode":"45402"}],"telecom":[{"system":"phone","value":"555-201-7788"}]}`
	if s, _, b := do("PUT", "/fhir/Patient/m1", "application/fhir+json", pat); s != 201 {
		t.Fatalf("create patient: %d %s", s, b)
	}
	probe := `{"resourceType":"Parameters","parameter":[{"name":"resource","resource":{"resourceType":"Patient","name":[{"family":"Quilfeather","given":["Marisol"]}],"gender":"female","birthDate":"1961-04-17","address":[{"line":["14 Larkspur Way"],"city":"Dayton","postalCode":"45402"}]}}]}`
	if s, _, b := do("POST", "/fhir/Patient/$match", "application/fhir+json", probe); s != 200 || !strings.Contains(b, `"id":"m1"`) {
		t.Errorf("$match: %d %.400s", s, b)
	}
	// Patient/$merge moves the retired registration's records.
	do("PUT", "/fhir/Patient/m2", "application/fhir+json", `{"resourceType":"Patient","id":"m2","name":[{"family":"Quillfeather","given":["Marisol"]}],"birthDate":"1961-04-17"}`)
	do("PUT", "/fhir/Condition/mc", "application/fhir+json", `{"resourceType":"Condition","id":"mc","subject":{"reference":"Patient/m2"},"code":{"text":"asthma"}}`)
	merge := `{"resourceType":"Parameters","parameter":[{"name":"source-patient","valueReference":{"reference":"Patient/m2"}},{"name":"target-patient","valueReference":{"reference":"Patient/m1"}}]}`
	if s, _, b := do("POST", "/fhir/Patient/$merge", "application/fhir+json", merge); s != 200 {
		t.Errorf("$merge: %d %.400s", s, b)
	}
	if s, _, b := do("GET", "/fhir/Condition/mc", "", ""); s != 200 || !strings.Contains(b, `"reference":"Patient/m1"`) {
		t.Errorf("after $merge the Condition is %d %.300s", s, b)
	}
	// Measures answer once the record is read (503 until then).
	for deadline := time.Now().Add(30 * time.Second); ; {
		s, _, b := do("GET", "/fhir/Measure/$evaluate-measure?measure=readmission-30day&periodStart=2020-01-01&periodEnd=2026-12-31", "", "")
		if s == 200 {
			if !strings.Contains(b, `"resourceType":"MeasureReport"`) {
				t.Errorf("$evaluate-measure: %.300s", b)
			}
			break
		}
		if s != 503 || time.Now().After(deadline) {
			t.Fatalf("$evaluate-measure: %d %.300s", s, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The services' whole-record reads at start are in the audit trail.
	entries, err := a.store.FindAudit(systemCtx(), audit.Filter{Action: audit.ActionSearch, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	bulk := map[string]bool{}
	for _, e := range entries {
		if strings.Contains(e.Query, "(bulk read: ") {
			bulk[e.Query] = true
		}
	}
	for _, want := range []string{"Patient (bulk read: master patient index)", "Encounter (bulk read: quality measures and registries)"} {
		if !bulk[want] {
			t.Errorf("no audit entry %q among %v", want, bulk)
		}
	}
	tok.AccessToken = ""
	if s, _, _ := do("GET", "/fhir/CodeSystem/$lookup?system=http://hl7.org/fhir/sid/icd-10-cm&code=E11.9", "", ""); s != 401 {
		t.Errorf("$lookup without a token: %d", s)
	}
}
