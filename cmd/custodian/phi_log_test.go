package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNoPatientDataInLogs seeds a patient with distinctive names and
// identifiers, exercises every kind of endpoint (successes, refusals,
// garbage and an internal failure) and checks that no log line carries
// any of them, nor a secret.
func TestNoPatientDataInLogs(t *testing.T) {
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	a, err := openApp(ctx, t.TempDir(), "", logger)
	if err != nil {
		t.Fatal(err)
	}
	admin := custodian.NewContextWithActor(ctx, &custodian.Actor{ID: "setup", Kind: "system"})
	cl, secret, err := a.access.CreateClient(admin, "phi-test", []string{"system/*.*"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(logRequests(logger, a.Handler()))
	defer srv.Close()

	const (
		family = "Zzyzxqwerty"
		given  = "Quixotically"
		mrn    = "MRN-8675309-XQ"
		ssn    = "999-12-3456"
		birth  = "1961-07-04"
		reason = "Brokeglass-Sentinel-Reason"
	)
	secrets := []string{family, given, mrn, ssn, birth, reason, secret}

	tok, err := http.PostForm(srv.URL+"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {cl.ID}, "client_secret": {secret}})
	if err != nil {
		t.Fatal(err)
	}
	var token string
	{
		b, _ := io.ReadAll(tok.Body)
		tok.Body.Close()
		_, rest, _ := strings.Cut(string(b), `"access_token":"`)
		token, _, _ = strings.Cut(rest, `"`)
	}
	if token == "" {
		t.Fatal("no token")
	}
	secrets = append(secrets, token)
	do := func(method, path, body string, headers ...string) string {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/fhir+json")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(b)
	}
	pat := `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"` + mrn + `"},{"system":"http://hl7.org/fhir/sid/us-ssn","value":"` + ssn + `"}],
	  "name":[{"family":"` + family + `","given":["` + given + `"]}],"birthDate":"` + birth + `"}`
	created := do("POST", "/fhir/Patient", pat)
	_, rest, _ := strings.Cut(created, `"id":"`)
	pid, _, _ := strings.Cut(rest, `"`)
	do("GET", "/fhir/Patient/"+pid, "")
	do("GET", "/fhir/Patient?family="+family+"&identifier=urn:mrn|"+mrn, "")
	do("POST", "/fhir/Patient/_search", "name="+given, "Content-Type", "application/x-www-form-urlencoded")
	do("GET", "/fhir/Patient/"+mrn, "")                                                 // not found, id in the path
	do("GET", "/fhir/Patient?birthdate=not-"+birth, "")                                 // bad value
	do("GET", "/fhir/Patient?"+family+"="+ssn, "", "Prefer", "handling=strict")         // unknown parameter
	do("POST", "/fhir/Patient", `{"resourceType":"Patient","name":[{"family":"`+family) // malformed JSON
	do("POST", "/fhir/Patient", strings.Replace(pat, birth, family, 1))                 // invalid date
	do("PUT", "/fhir/Patient/"+pid, strings.Replace(pat, `"Patient",`, `"Patient","id":"`+pid+`",`, 1), "If-Match", `W/"9"`)
	do("POST", "/fhir", `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":`+pat+`,"request":{"method":"POST","url":"Patient"}},
	  {"resource":{"resourceType":"Observation","subject":{"reference":"Patient?identifier=`+ssn+`"}},"request":{"method":"POST","url":"Observation"}}]}`)
	do("POST", "/fhir/Patient/"+pid+"/$break-glass", `{"resourceType":"Parameters","parameter":[{"name":"reason","valueString":"`+reason+`"}]}`)
	do("GET", "/fhir/Patient/"+pid+"/_history", "")
	do("GET", "/fhir/AuditEvent?patient="+pid, "")
	do("PATCH", "/fhir/Patient/"+pid, `[{"op":"replace","path":"/birthDate","value":"`+family+`"}]`, "Content-Type", "application/json-patch+json")
	// Failed sign-ins and token requests with patient data as credentials.
	http.PostForm(srv.URL+"/login", url.Values{"username": {family}, "password": {ssn}})
	http.PostForm(srv.URL+"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {mrn}, "client_secret": {ssn}})
	// A request with a forged token that carries a name.
	req, _ := http.NewRequest("GET", srv.URL+"/fhir/Patient?name="+family, nil)
	req.Header.Set("Authorization", "Bearer "+family+"."+given+"."+ssn)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	do("DELETE", "/fhir/Patient/"+pid, "")
	// The token requests, granted and refused, are in the audit trail (the
	// sign-in form post above lacks its CSRF pair, so it is refused before
	// any sign-in is attempted).
	signins, err := a.store.FindAudit(admin, audit.Filter{Action: audit.ActionSignIn})
	if err != nil {
		t.Fatal(err)
	}
	var failed int
	for _, e := range signins {
		if e.Outcome == "failed" {
			failed++
		}
	}
	if failed != 1 || len(signins) != 2 {
		t.Fatalf("sign-in audit entries: %d, failed %d; want the token and the failed token request", len(signins), failed)
	}
	// An internal failure: the database goes away under the server.
	a.db.Close()
	do("GET", "/fhir/Patient?family="+family, "")
	do("POST", "/fhir/Patient", pat)

	out := logs.String()
	if !strings.Contains(out, "status=500") {
		t.Fatalf("the internal failure was not logged; the test did not exercise it:\n%s", out)
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			for _, line := range strings.Split(out, "\n") {
				if strings.Contains(line, s) {
					t.Errorf("log line carries %q: %s", s, line)
				}
			}
		}
	}
	t.Logf("%d log lines checked", strings.Count(out, "\n"))
}
