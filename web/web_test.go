package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/store"
)

func TestPagesAndAuthorization(t *testing.T) {
	e := newEnv(t, 6)
	rita := e.signIn("rita")
	for _, tc := range []struct {
		name, path string
		want       int
		contains   string
	}{
		{"landing", "/", http.StatusSeeOther, ""},
		{"search form", "/patients", 200, `<label for="name">Name</label>`},
		{"chart", "/patients/" + e.patient, 200, e.family},
		{"note", "/patients/" + e.patient + "/documents/" + e.doc, 200, "<pre class=\"note-text\""},
		{"scan", "/patients/" + e.patient + "/documents/" + e.scan, 200, `<object class="pdf" data="/patients/`},
		{"history", "/patients/" + e.patient + "/history", 200, "12 Harbor Lane"},
		{"style", "/static/web.css", 200, "--accent"},
		{"no such patient", "/patients/nobody-here", 404, "Not found"},
		{"bad id", "/patients/a%20b", 404, ""},
		{"document of another patient", "/patients/" + e.patient + "x/documents/" + e.doc, 404, ""},
		{"audit for an analyst", "/audit", 403, "Not allowed"},
		{"access report for an analyst", "/patients/" + e.patient + "/access", 403, ""},
		{"dashboard for an analyst", "/dashboard", 403, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := rita.get(tc.path)
			if resp.StatusCode != tc.want {
				t.Fatalf("GET %s: status %d, want %d", tc.path, resp.StatusCode, tc.want)
			}
			if !strings.Contains(body, tc.contains) {
				t.Errorf("GET %s: the page lacks %q", tc.path, tc.contains)
			}
		})
	}
	if resp, _ := rita.get("/"); resp.Header.Get("Location") != "/patients" {
		t.Errorf("a record analyst lands on %q, want /patients", resp.Header.Get("Location"))
	}

	t.Run("attachments", func(t *testing.T) {
		resp, body := rita.get("/patients/" + e.patient + "/documents/" + e.scan + "/content/0")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(body, "\x89PNG") {
			t.Errorf("image: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		resp, body = rita.get("/patients/" + e.patient + "/documents/" + e.scan + "/content/1")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(body, "%PDF") {
			t.Errorf("pdf: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if resp, _ := rita.get("/patients/" + e.patient + "/documents/" + e.scan + "/content/2"); resp.StatusCode != 404 {
			t.Errorf("a missing attachment: %d, want 404", resp.StatusCode)
		}
		// Content kept as a Binary is fetched from the FHIR API's Binary read.
		bin, err := e.st.Create(e.system, "Binary", []byte(`{"resourceType":"Binary","contentType":"text/plain","data":"U2Nhbm5lZCBub3RlIHRleHQ="}`), store.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ref, err := e.st.Create(e.system, "DocumentReference", []byte(`{"resourceType":"DocumentReference","status":"current",
			"subject":{"reference":"Patient/`+e.patient+`"},"content":[{"attachment":{"contentType":"text/plain","url":"Binary/`+bin.Resource.ID+`"}},
			{"attachment":{"contentType":"image/png","url":"Binary/`+bin.Resource.ID+`"}}]}`), store.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, body := rita.get("/patients/" + e.patient + "/documents/" + ref.Resource.ID); !strings.Contains(body, "Scanned note text") {
			t.Error("the text of a Binary attachment is not shown")
		}
		resp, _ = rita.get("/patients/" + e.patient + "/documents/" + ref.Resource.ID + "/content/1")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/fhir/Binary/"+bin.Resource.ID {
			t.Errorf("an image kept as a Binary: %d to %q, want the FHIR API's Binary read", resp.StatusCode, resp.Header.Get("Location"))
		}
		// HTML is never rendered from a document: a download, sandboxed.
		out, err := e.st.Create(e.system, "DocumentReference", []byte(`{"resourceType":"DocumentReference","status":"current",
			"subject":{"reference":"Patient/`+e.patient+`"},"content":[{"attachment":{"contentType":"text/html","data":"PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="}}]}`), store.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		resp, body = rita.get("/patients/" + e.patient + "/documents/" + out.Resource.ID + "/content/0")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") ||
			!strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") || resp.Header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("an HTML attachment: %d %q %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), resp.Header.Get("Content-Security-Policy"))
		}
		if _, body = rita.get("/patients/" + e.patient + "/documents/" + out.Resource.ID); strings.Contains(body, "<script>") || !strings.Contains(body, "shown only as a download") {
			t.Error("the page of an HTML document does not offer it as a download only")
		}
	})

	t.Run("search", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			form url.Values
			want int
			has  string
		}{
			{"by family name", url.Values{"name": {e.family}}, 200, "/patients/" + e.patient},
			{"by MRN", url.Values{"identifier": {e.mrn}}, 200, "/patients/" + e.patient},
			{"by nothing", url.Values{}, 400, "Enter a name"},
			{"by a bad date", url.Values{"birthdate": {"15/01/1970"}}, 400, "YYYY-MM-DD"},
			{"no match", url.Values{"identifier": {"no-such-identifier"}}, 200, "No patient matches"},
		} {
			resp, body := rita.postCSRF("/patients", tc.form)
			if resp.StatusCode != tc.want || !strings.Contains(body, tc.has) {
				t.Errorf("%s: status %d (want %d), has %q: %v", tc.name, resp.StatusCode, tc.want, tc.has, strings.Contains(body, tc.has))
			}
		}
	})

	t.Run("CSRF", func(t *testing.T) {
		resp, _ := rita.post("/patients", url.Values{"name": {e.family}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a search without the CSRF token: %d, want 403", resp.StatusCode)
		}
		resp, _ = rita.post("/patients", url.Values{"name": {e.family}, "csrf_token": {"forged"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a search with a wrong CSRF token: %d, want 403", resp.StatusCode)
		}
	})

	t.Run("unauthenticated", func(t *testing.T) {
		anon := &client{e: e, http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		for _, p := range []string{"/", "/patients", "/patients/" + e.patient, "/audit", "/dashboard"} {
			resp, _ := anon.get(p)
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
				t.Errorf("GET %s without a session: %d to %q, want a redirect to /login", p, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		if resp, _ := anon.post("/patients", url.Values{"name": {e.family}}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST /patients without a session: %d, want 401", resp.StatusCode)
		}
	})

	t.Run("chart views are audited", func(t *testing.T) {
		var reads, searches int
		for _, en := range e.trail("rita") {
			switch {
			case en.Action == audit.ActionRead && contains(en.Resources, "Patient/"+e.patient):
				reads++
			case en.Action == audit.ActionSearch && strings.HasPrefix(en.Query, "Observation?"):
				searches++
			}
		}
		if reads == 0 || searches == 0 {
			t.Errorf("rita's chart views left %d patient reads and %d lab searches in the trail", reads, searches)
		}
	})

	t.Run("sensitive records and break-the-glass", func(t *testing.T) {
		cond := `{"resourceType":"Condition","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]},
			"subject":{"reference":"Patient/` + e.patient + `"},"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}],
			"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
			"code":{"text":"Psychiatric problem only the glass opens"}}`
		if _, err := e.st.Create(e.system, "Condition", []byte(cond), store.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		clara := e.signIn("cody")
		if _, body := clara.get("/patients/" + e.patient); strings.Contains(body, "only the glass opens") {
			t.Fatal("a coder sees a sensitive problem without breaking the glass")
		}
		if resp, _ := clara.postCSRF("/patients/"+e.patient+"/break-glass", url.Values{"reason": {"Coding query on the psychiatric stay"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("break-the-glass: %d", resp.StatusCode)
		}
		if _, body := clara.get("/patients/" + e.patient + "?glass=open"); !strings.Contains(body, "only the glass opens") || !strings.Contains(body, `id="glass-notice"`) {
			t.Error("after breaking the glass the coder still does not see the sensitive problem")
		}
		var flagged bool
		for _, en := range e.trail("cody") {
			if en.Action == audit.ActionSearch && en.BreakGlass && en.Reason == "Coding query on the psychiatric stay" {
				flagged = true
			}
		}
		if !flagged {
			t.Error("the chart view under the glass is not flagged in the trail")
		}
	})

	t.Run("roles", func(t *testing.T) {
		cody := e.signIn("cody")
		if resp, _ := cody.get("/audit"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a coder opening the audit log: %d, want 403", resp.StatusCode)
		}
		if resp, _ := cody.get("/audit/break-glass"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a coder opening the break-the-glass review: %d, want 403", resp.StatusCode)
		}
		if _, body := cody.get("/patients"); strings.Contains(body, `href="/audit"`) {
			t.Error("a coder is offered the audit log in the navigation")
		}
		// The refusals, found by the trail's outcome filter.
		for _, outcome := range []string{"forbidden", "failure"} {
			_, body := e.signIn("paula").postCSRF("/audit", url.Values{"outcome": {outcome}})
			if !strings.Contains(body, "<td>cody<br>") || strings.Contains(body, "<td>success</td>") {
				t.Errorf("the audit log filtered to %s:\n%s", outcome, body)
			}
		}
		audrey := e.signIn("audrey")
		if resp, _ := audrey.get("/"); resp.Header.Get("Location") != "/audit" {
			t.Errorf("an auditor lands on %q", resp.Header.Get("Location"))
		}
		if resp, body := audrey.get("/audit"); resp.StatusCode != 200 || !strings.Contains(body, "rita") {
			t.Errorf("the auditor's audit log: %d, lists rita: %v", resp.StatusCode, strings.Contains(body, "rita"))
		}
		// An auditor reads the trail, not the record.
		if resp, _ := audrey.get("/patients/" + e.patient); resp.StatusCode != http.StatusForbidden {
			t.Errorf("an auditor opening a chart: %d, want 403", resp.StatusCode)
		}
		dana := e.signIn("dana")
		if resp, _ := dana.get("/"); resp.Header.Get("Location") != "/dashboard" {
			t.Errorf("the director lands on %q", resp.Header.Get("Location"))
		}
		resp, body := dana.get("/dashboard")
		if resp.StatusCode != 200 || !strings.Contains(body, "Available when the coding module is installed") {
			t.Errorf("the director's dashboard: %d", resp.StatusCode)
		}
		if resp, body := rita.postCSRF("/patients/"+e.patient+"/break-glass", url.Values{"reason": {"too short"}}); resp.StatusCode != 400 {
			t.Errorf("break-the-glass with a short reason: %d, want 400\n%s", resp.StatusCode, body)
		}
		if resp, body := rita.postCSRF("/patients/"+e.patient+"/break-glass", url.Values{"reason": {"Emergency: unresponsive in the ED"}}); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("break-the-glass: %d, want 303\n%s", resp.StatusCode, body)
		}
		paula := e.signIn("paula")
		if resp, body := paula.get("/audit/break-glass"); resp.StatusCode != 200 || !strings.Contains(body, "Emergency: unresponsive in the ED") || !strings.Contains(body, e.family) {
			t.Errorf("the break-the-glass review: %d, shows the reason: %v\n%s", resp.StatusCode, strings.Contains(body, "Emergency: unresponsive"), body)
		}
		if resp, body := paula.get("/dashboard"); resp.StatusCode != 200 || !strings.Contains(body, "Break-the-glass per day") {
			t.Errorf("the privacy officer's dashboard: %d, has the alerts: %v", resp.StatusCode, strings.Contains(body, "Break-the-glass per day"))
		}
		if resp, body := paula.get("/patients/" + e.patient + "/access"); resp.StatusCode != 200 || !strings.Contains(body, "rita") {
			t.Errorf("the access report: %d, names rita: %v", resp.StatusCode, strings.Contains(body, "rita"))
		}
		if resp, _ := paula.get("/"); resp.Header.Get("Location") != "/audit/break-glass" {
			t.Errorf("the privacy officer lands on %q", resp.Header.Get("Location"))
		}
		resp, body = paula.postCSRF("/audit", url.Values{"actor": {"rita"}, "patient": {e.patient}, "action": {"read"}})
		if resp.StatusCode != 200 || !strings.Contains(body, "DocumentReference/"+e.doc) {
			t.Errorf("the audit log filtered to rita's reads of the patient: %d, lists the note read: %v", resp.StatusCode, strings.Contains(body, "DocumentReference/"+e.doc))
		}
		resp, _ = paula.postCSRF("/audit", url.Values{"from": {"2025-02-30"}})
		if resp.StatusCode != 400 {
			t.Errorf("a bad date in the audit filter: %d, want 400", resp.StatusCode)
		}
		resp, body = paula.postCSRF("/audit", url.Values{"outcome": {"forbidden"}})
		if resp.StatusCode != 200 || !strings.Contains(body, "cody") || strings.Contains(body, "<td>success</td>") {
			t.Errorf("the refusals: %d, list cody: %v", resp.StatusCode, strings.Contains(body, "cody"))
		}
	})
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
