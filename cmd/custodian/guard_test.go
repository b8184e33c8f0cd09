package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custodian-him/custodian/store"
)

// TestServeEnforcesRolesAndLabels runs the real server: the role table
// decides what each signed-in user may read and write, and records with a
// sensitive label stay hidden unless role and purpose of use allow them.
func TestServeEnforcesRolesAndLabels(t *testing.T) {
	ctx := context.Background()
	a, err := openApp(ctx, t.TempDir(), "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	sys := systemCtx()
	for _, r := range []struct{ typ, id, body string }{
		{"Patient", "p1", `{"resourceType":"Patient","id":"p1","name":[{"family":"Open"}]}`},
		{"Condition", "c1", `{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"text":"asthma"}}`},
		{"Condition", "c2", `{"resourceType":"Condition","id":"c2","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"ETH"}]},"subject":{"reference":"Patient/p1"},"code":{"text":"alcohol use disorder"}}`},
	} {
		if _, err := a.store.Update(sys, r.typ, r.id, []byte(r.body), store.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	session := func(name, role string) string {
		if _, err := a.access.CreateUser(sys, name, []string{role}, "a long enough password"); err != nil {
			t.Fatal(err)
		}
		in, err := a.access.SignIn(ctx, name, "a long enough password", "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		return in.SessionID
	}
	do := func(method, path, sess, purpose, body string) (int, string) {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, srv.URL+path, rd)
		req.Header.Set("Cookie", "custodian_session="+sess)
		if purpose != "" {
			req.Header.Set("X-Purpose-Of-Use", purpose)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/fhir+json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	coder, auditor, admin, clin := session("cody", "coder"), session("audrey", "auditor"), session("adam", "administrator"), session("clara", "clinician")

	cases := []struct {
		name, method, path, sess, purpose string
		status                            int
		has, lacks                        string
	}{
		{"coder reads a Patient", "GET", "/fhir/Patient/p1", coder, "", 200, "Open", ""},
		{"coder searches Conditions: the labelled one is hidden", "GET", "/fhir/Condition?subject=Patient/p1", coder, "", 200, "asthma", "alcohol"},
		// A hidden record does not exist for those who may not see it.
		{"coder reads the labelled Condition", "GET", "/fhir/Condition/c2", coder, "", 404, "", "alcohol"},
		{"clinician treating sees it", "GET", "/fhir/Condition/c2", clin, "TREAT", 200, "alcohol", ""},
		{"clinician without a treatment purpose does not", "GET", "/fhir/Condition/c2", clin, "", 404, "", "alcohol"},
		{"auditor reads no Patient", "GET", "/fhir/Patient/p1", auditor, "", 403, "", "Open"},
		{"auditor reads the audit trail", "GET", "/fhir/AuditEvent?_count=1", auditor, "", 200, "AuditEvent", ""},
		{"coder reads no audit trail", "GET", "/fhir/AuditEvent", coder, "", 403, "", ""},
		{"administrator reads no Patient", "GET", "/fhir/Patient/p1", admin, "", 403, "", "Open"},
		{"coder writes no Condition", "PUT", "/fhir/Condition/c1", coder, "", 403, "", ""},
	}
	for _, c := range cases {
		body := ""
		if c.method == "PUT" {
			body = `{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"text":"changed"}}`
		}
		status, got := do(c.method, c.path, c.sess, c.purpose, body)
		if status != c.status || c.has != "" && !strings.Contains(got, c.has) || c.lacks != "" && strings.Contains(got, c.lacks) {
			t.Errorf("%s: %d, want %d: %.300s", c.name, status, c.status, got)
		}
	}
}

// TestWorkbenchMounted: the served app puts the workbench at /, behind
// sign-in, with its style sheet public.
func TestWorkbenchMounted(t *testing.T) {
	ctx := context.Background()
	a, err := openApp(ctx, t.TempDir(), "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path, sess string) (int, string, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if sess != "" {
			req.Header.Set("Cookie", "custodian_session="+sess)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}
	if s, loc, _ := get("/", ""); s != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Errorf("/ without a session: %d %s", s, loc)
	}
	if s, _, b := get("/login", ""); s != 200 || !strings.Contains(b, "web.css") {
		t.Errorf("sign-in page: %d, styled: %v", s, strings.Contains(b, "web.css"))
	}
	if _, err := a.access.CreateUser(systemCtx(), "cody", []string{"coder"}, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	in, err := a.access.SignIn(ctx, "cody", "a long enough password", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	s, loc, _ := get("/", in.SessionID)
	if s != http.StatusSeeOther || loc != "/coding/" {
		t.Errorf("a coder's landing page: %d %s", s, loc)
	}
	if s, _, b := get("/patients", in.SessionID); s != 200 || !strings.Contains(b, "<form") {
		t.Errorf("patient search page: %d", s)
	}
	if s, _, b := get("/codes/?q=pneumonia&system=icd10cm", in.SessionID); s != 200 || !strings.Contains(b, "J18.9") {
		t.Errorf("code search page: %d", s)
	}
	// Until startWork has read the DNFB, its page says so.
	if s, _, _ := get("/coding/", in.SessionID); s != http.StatusServiceUnavailable {
		t.Errorf("DNFB page before the queue is read: %d, want 503", s)
	}
	if err := a.queue.List.Seed(systemCtx(), a.store); err != nil {
		t.Fatal(err)
	}
	if s, _, b := get("/coding/", in.SessionID); s != 200 || !strings.Contains(b, "discharged, not final coded") {
		t.Errorf("DNFB page: %d", s)
	}
	for _, p := range []string{"/roi/queue", "/audit", "/duplicates/queue", "/outcomes/measures/"} {
		if s, _, _ := get(p, in.SessionID); s != http.StatusForbidden {
			t.Errorf("a coder opened %s: %d", p, s)
		}
	}
}
