package release_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/roi"
	"github.com/custodian-him/custodian/web/release"
)

func TestRoles(t *testing.T) {
	e := newEnv(t)
	rq := e.submit(e.authorize(nil).ID, nil)
	tests := []struct {
		name, path string
		roles      []string
		want       int
	}{
		{"specialist's queue", "/roi/queue", []string{access.RoleROISpecialist}, 200},
		{"director's queue", "/roi/queue", []string{access.RoleHIMDirector}, 200},
		{"privacy officer has no queue", "/roi/queue", []string{access.RolePrivacyOfficer}, 403},
		{"coder has no queue", "/roi/queue", []string{access.RoleCoder}, 403},
		{"coder has no request", "/roi/requests/" + rq.ID, []string{access.RoleCoder}, 403},
		{"specialist's request", "/roi/requests/" + rq.ID, []string{access.RoleROISpecialist}, 200},
		{"privacy officer's accounting", "/roi/accounting?patient=" + e.patient, []string{access.RolePrivacyOfficer}, 200},
		{"director's accounting", "/roi/accounting?patient=" + e.patient, []string{access.RoleHIMDirector}, 200},
		{"coder has no accounting", "/roi/accounting", []string{access.RoleCoder}, 403},
		{"auditor has no new request", "/roi/new", []string{access.RoleAuditor}, 403},
		{"no such request", "/roi/requests/nope", []string{access.RoleROISpecialist}, 404},
		{"no such page", "/roi/elsewhere", []string{access.RoleROISpecialist}, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.serve("GET", tc.path, nil, tc.roles...)
			if rec.Code != tc.want {
				t.Errorf("GET %s as %v: %d, want %d", tc.path, tc.roles, rec.Code, tc.want)
			}
		})
	}
	// The navigation offers the pages to the roles that have them, and the
	// specialist lands on the queue.
	rec := e.serve("GET", "/", nil, access.RoleROISpecialist)
	if loc := rec.Header().Get("Location"); loc != release.PathQueue {
		t.Errorf("the specialist lands on %q", loc)
	}
	rec = e.serve("GET", "/roi/accounting", nil, access.RolePrivacyOfficer)
	if body := rec.Body.String(); !strings.Contains(body, `href="/roi/accounting"`) || strings.Contains(body, `href="/roi/queue"`) {
		t.Errorf("the privacy officer's navigation:\n%s", body)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	rq := e.submit(e.authorize(nil).ID, nil)
	c := e.signIn(t, "rita")
	for _, tok := range []string{"", "forged"} {
		resp, _ := c.post(t, "/roi/requests/"+rq.ID+"/deny", url.Values{"reason": {"no"}, "csrf_token": {tok}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a POST with the CSRF token %q: %d, want 403", tok, resp.StatusCode)
		}
	}
	if got, _ := e.svc.Get(specialist(), rq.ID); got.Status != roi.Requested {
		t.Errorf("after refused POSTs the request is %s", got.Status)
	}
	// Every form the pages show carries the token.
	for _, path := range []string{"/roi/requests/" + rq.ID, "/roi/new", "/roi/new?patient=" + e.patient, "/roi/authorizations/new?patient=" + e.patient, "/roi/accounting"} {
		_, body := c.get(t, path)
		forms := regexp.MustCompile(`(?s)<form method="post".*?</form>`).FindAllString(body, -1)
		if len(forms) == 0 {
			t.Errorf("%s has no POST form", path)
		}
		for _, f := range forms {
			if !strings.Contains(f, `name="csrf_token" value="`+c.csrf+`"`) {
				t.Errorf("%s: a form without the CSRF token:\n%s", path, f)
			}
		}
	}
}

// TestWalk: the specialist finds the patient, enters the authorization,
// records the request, narrows it, extends it, releases it, opens the
// packet, regenerates it, and reads the accounting.
func TestWalk(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, "rita")

	// The patient is found by a POST; the result links by id only.
	resp, body := c.post(t, "/roi/authorizations/new", url.Values{"name": {"Okafor"}})
	if resp.StatusCode != 200 || !strings.Contains(body, `href="/roi/authorizations/new?patient=`+e.patient+`"`) {
		t.Fatalf("patient search: %d\n%s", resp.StatusCode, body)
	}
	resp, body = c.post(t, "/roi/new", url.Values{})
	if resp.StatusCode != 400 || !strings.Contains(body, "Enter a name") {
		t.Errorf("an empty patient search: %d", resp.StatusCode)
	}

	// An authorization with its expiry before its signature is refused
	// beside the form, with the fields kept.
	auth := url.Values{"patient": {e.patient}, "recipient": {"Baker & Lowe LLP"}, "signed": {"2026-02-01"}, "expires": {"2026-01-01"},
		"from": {"2025-01-01"}, "to": {"2025-12-31"}, "type": {"DocumentReference", "Condition"}, "purpose": {"HLEGAL"}}
	resp, body = c.post(t, "/roi/authorizations/new", auth)
	if resp.StatusCode != 400 || !strings.Contains(body, "expires before it was signed") || !strings.Contains(body, `value="Baker &amp; Lowe LLP"`) {
		t.Errorf("a bad authorization: %d\n%s", resp.StatusCode, body)
	}
	auth.Set("expires", "2026-08-01")
	resp, _ = c.post(t, "/roi/authorizations/new", auth)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Path != release.PathNew || loc.Query().Get("patient") != e.patient {
		t.Fatalf("the authorization: %d to %q", resp.StatusCode, loc)
	}
	consent := loc.Query().Get("authorization")
	if a, err := e.svc.Authorization(specialist(), consent); err != nil || a.Recipient != "Baker & Lowe LLP" || len(a.Types) != 2 {
		t.Fatalf("the stored authorization: %+v, %v", a, err)
	}
	_, body = c.get(t, loc.String())
	if !strings.Contains(body, `id="auth-`+consent+`" name="authorization" value="`+consent+`" checked`) || !strings.Contains(body, "Amara Okafor") {
		t.Errorf("the request form does not offer the new authorization:\n%s", body)
	}

	// The request, asking for more than the authorization covers.
	req := url.Values{"patient": {e.patient}, "kind": {"attorney"}, "name": {"Baker & Lowe LLP"}, "purpose": {"HLEGAL"}, "basis": {"authorization"},
		"authorization": {consent}, "received": {"2026-03-02"}, "from": {"2024-01-01"}, "to": {"2025-12-31"},
		"type": {"DocumentReference", "Condition", "Observation"}}
	resp, _ = c.post(t, "/roi/new", req)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the request: %d", resp.StatusCode)
	}
	id := strings.TrimPrefix(resp.Header.Get("Location"), "/roi/requests/")
	rq, err := e.svc.Get(specialist(), id)
	if err != nil || rq.RequesterName != "Baker & Lowe LLP" || rq.Authorization != consent || rq.Due != day("2026-04-01") {
		t.Fatalf("the stored request: %+v, %v", rq, err)
	}

	// The check shows what blocks the release before it is tried.
	_, body = c.get(t, "/roi/requests/"+id)
	for _, want := range []string{`id="blocked"`, "The selection starts before 2025-01-01", "does not cover results", "Baker &amp; Lowe LLP", `id="auth-state">valid`} {
		if !strings.Contains(body, want) {
			t.Errorf("the detail lacks %q", want)
		}
	}
	resp, body = c.post(t, "/roi/requests/"+id+"/release", url.Values{"method": {"mail"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `id="action-error"`) || !strings.Contains(body, "narrow the date range") {
		t.Errorf("a release beyond the authorization: %d\n%s", resp.StatusCode, body)
	}

	// Narrowed, it passes.
	resp, _ = c.post(t, "/roi/requests/"+id+"/review", url.Values{"from": {"2025-01-01"}, "to": {"2025-12-31"}, "type": {"DocumentReference", "Condition"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("review: %d", resp.StatusCode)
	}
	_, body = c.get(t, "/roi/requests/"+id+"?done=reviewed")
	if strings.Contains(body, `id="blocked"`) || strings.Contains(body, `<li class="fail"`) || !strings.Contains(body, "in-review") {
		t.Errorf("after narrowing:\n%s", body)
	}

	// One extension, with its reason; a second is refused beside the page.
	resp, _ = c.post(t, "/roi/requests/"+id+"/extend", url.Values{"reason": {"records held off site"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("extend: %d", resp.StatusCode)
	}
	resp, body = c.post(t, "/roi/requests/"+id+"/extend", url.Values{"reason": {"again"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "already extended once") || strings.Contains(body, `id="extend-reason"`) {
		t.Errorf("a second extension: %d", resp.StatusCode)
	}
	if rq, _ = e.svc.Get(specialist(), id); rq.Due != day("2026-05-01") {
		t.Errorf("extended due date %s", rq.Due)
	}

	// Release: the packet, its links and what was left out, in detail.
	resp, _ = c.post(t, "/roi/requests/"+id+"/release", url.Values{"method": {"portal"}, "recipient": {"Baker & Lowe LLP"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("release: %d", resp.StatusCode)
	}
	_, body = c.get(t, "/roi/requests/"+id+"?done=released")
	for _, want := range []string{"fulfilled", `id="packet-links"`, "substance use disorder treatment records (42 CFR Part 2), not authorized", "outside the date range", "portal to Baker &amp; Lowe LLP"} {
		if !strings.Contains(body, want) {
			t.Errorf("the released request lacks %q", want)
		}
	}
	if strings.Contains(body, `id="release-form"`) {
		t.Error("a fulfilled request still offers release")
	}
	href := regexp.MustCompile(`<a href="(/fhir/Binary/[^"]+)" type="application/pdf"`).FindStringSubmatch(body)
	if href == nil {
		t.Fatalf("no link to the packet's PDF:\n%s", body)
	}
	resp, pdf := c.get(t, href[1])
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf, "%PDF-") {
		t.Errorf("the packet link: %d %s %.8q", resp.StatusCode, resp.Header.Get("Content-Type"), pdf)
	}

	// Regenerated from the pinned versions, it is the same.
	resp, body = c.post(t, "/roi/requests/"+id+"/regenerate", url.Values{})
	if resp.StatusCode != 200 || !strings.Contains(body, "<strong>Identical.</strong>") {
		t.Errorf("regenerate: %d\n%s", resp.StatusCode, body)
	}
	// A release under the patient's authorization is excluded from the
	// accounting (164.528(a)(1)(iv)).
	_, body = c.get(t, "/roi/accounting?patient="+e.patient)
	if !strings.Contains(body, "under the patient&#39;s authorization") || !strings.Contains(body, "from <strong>2020-03-10</strong>") {
		t.Errorf("the accounting:\n%s", body)
	}
}

func TestAccounting(t *testing.T) {
	e := newEnv(t)
	rq := e.submit("", func(r *roi.Request) {
		r.RequesterKind, r.RequesterName, r.Purpose, r.Basis, r.LegalAuthority = roi.CourtOrder, "Clerk of the Superior Court", "HLEGAL", roi.BasisCourtOrder, "Order 2026-CV-118"
		r.Authorization = ""
	})
	if _, _, err := e.svc.Release(specialist(), rq.ID, roi.Delivery{Method: "mail"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, query string
		want        int
		listed      bool
	}{
		{"six years by default", "", 200, true},
		{"a period around the release", "&from=2026-03-01&to=2026-03-31", 200, true},
		{"a period before it", "&from=2025-01-01&to=2025-12-31", 200, false},
		{"a bad date", "&from=March", 400, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.serve("GET", "/roi/accounting?patient="+e.patient+tc.query, nil, access.RolePrivacyOfficer)
			body := rec.Body.String()
			if rec.Code != tc.want {
				t.Fatalf("%d, want %d\n%s", rec.Code, tc.want, body)
			}
			if got := strings.Contains(body, "Clerk of the Superior Court"); got != tc.listed {
				t.Errorf("the court's disclosure listed: %v, want %v", got, tc.listed)
			}
			if tc.listed && !strings.Contains(body, "release: "+rq.Number) {
				t.Errorf("the disclosure does not name the request")
			}
		})
	}
	// The search for the patient is a POST; a result links by id only.
	rec := e.serve("POST", "/roi/accounting", url.Values{"identifier": {"MRN-4471"}}, access.RolePrivacyOfficer)
	if !strings.Contains(rec.Body.String(), `href="/roi/accounting?patient=`+e.patient+`"`) {
		t.Errorf("the accounting's patient search:\n%s", rec.Body.String())
	}
}

// TestActions: denial and cancellation need a reason; a revoked or expired
// authorization blocks release with its reason.
func TestActions(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, "rita")
	a := e.authorize(nil)
	tests := []struct {
		name, action string
		form         url.Values
		want         int
		status       roi.Status
		text         string
	}{
		{"deny without a reason", "deny", url.Values{}, 400, roi.Requested, "say why the request is denied"},
		{"cancel without a reason", "cancel", url.Values{"reason": {"  "}}, 400, roi.Requested, "say why the request is cancelled"},
		{"deny", "deny", url.Values{"reason": {"not a valid authorization"}}, 303, roi.Denied, ""},
		{"cancel", "cancel", url.Values{"reason": {"withdrawn by the requester"}}, 303, roi.Cancelled, ""},
		{"release by pigeon", "release", url.Values{"method": {"pigeon"}}, 400, roi.Requested, "the delivery method must be one of"},
		{"no such action", "shred", url.Values{}, 404, roi.Requested, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rq := e.submit(a.ID, nil)
			resp, body := c.post(t, "/roi/requests/"+rq.ID+"/"+tc.action, tc.form)
			if resp.StatusCode != tc.want || !strings.Contains(body, tc.text) {
				t.Errorf("%d, want %d with %q\n%s", resp.StatusCode, tc.want, tc.text, body)
			}
			if got, _ := e.svc.Get(specialist(), rq.ID); got.Status != tc.status {
				t.Errorf("status %s, want %s", got.Status, tc.status)
			}
		})
	}

	t.Run("expired", func(t *testing.T) {
		old := e.authorize(func(x *roi.Authorization) { x.Signed, x.Expires = day("2025-01-01"), day("2026-01-31") })
		rq := e.submit(old.ID, nil)
		_, body := c.get(t, "/roi/requests/"+rq.ID)
		if !strings.Contains(body, `id="auth-state">expired`) || !strings.Contains(body, "The authorization is expired") {
			t.Errorf("an expired authorization:\n%s", body)
		}
		resp, body := c.post(t, "/roi/requests/"+rq.ID+"/release", url.Values{"method": {"mail"}})
		if resp.StatusCode != 403 || !strings.Contains(body, "expired on 2026-01-31") {
			t.Errorf("release under an expired authorization: %d", resp.StatusCode)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		x := e.authorize(nil)
		rq := e.submit(x.ID, nil)
		resp, _ := c.post(t, "/roi/authorizations/"+x.ID+"/revoke", url.Values{"request": {rq.ID}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/roi/requests/"+rq.ID+"?done=revoked" {
			t.Fatalf("revoke: %d to %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, body := c.post(t, "/roi/requests/"+rq.ID+"/release", url.Values{"method": {"mail"}})
		if resp.StatusCode != 403 || !strings.Contains(body, "has been revoked by the patient") || !strings.Contains(body, `id="auth-state">revoked`) {
			t.Errorf("release under a revoked authorization: %d\n%s", resp.StatusCode, body)
		}
	})
}

func TestQueue(t *testing.T) {
	e := newEnv(t)
	a := e.authorize(nil)
	late := e.submit(a.ID, func(r *roi.Request) { r.Received = day("2026-01-20") })
	soon := e.submit(a.ID, func(r *roi.Request) { r.Received = day("2026-02-12") })
	fresh := e.submit(a.ID, nil)
	denied := e.submit(a.ID, nil)
	if _, err := e.svc.Deny(specialist(), denied.ID, "duplicate"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, query string
		want        []string
		not         []string
	}{
		{"open", "", []string{late.Number, soon.Number, fresh.Number}, []string{denied.Number}},
		{"overdue", "?overdue=1", []string{late.Number}, []string{soon.Number, fresh.Number}},
		{"denied", "?status=denied", []string{denied.Number}, []string{late.Number}},
		{"all", "?status=all", []string{late.Number, denied.Number}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.serve("GET", "/roi/queue"+tc.query, nil, access.RoleROISpecialist)
			body := rec.Body.String()
			for _, n := range tc.want {
				if !strings.Contains(body, n) {
					t.Errorf("lacks %s", n)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(body, n) {
					t.Errorf("lists %s", n)
				}
			}
		})
	}
	body := e.serve("GET", "/roi/queue", nil, access.RoleROISpecialist).Body.String()
	// The earliest due first; overdue and nearly due rows marked.
	if i, j := strings.Index(body, late.Number), strings.Index(body, fresh.Number); i > j {
		t.Error("the queue is not in due order")
	}
	if !regexp.MustCompile(`<tr class="overdue">\s*<td class="nw"><a href="/roi/requests/` + late.ID).MatchString(body) {
		t.Errorf("the overdue request is not marked:\n%s", body)
	}
	if !regexp.MustCompile(`<tr class="soon">\s*<td class="nw"><a href="/roi/requests/` + soon.ID).MatchString(body) {
		t.Errorf("the nearly due request is not marked")
	}
	if !strings.Contains(body, "Amara Okafor") {
		t.Error("the queue does not name the patient")
	}
	if rec := e.serve("GET", "/roi/queue?status=shredded", nil, access.RoleROISpecialist); rec.Code != 400 {
		t.Errorf("an unknown status: %d", rec.Code)
	}
	// The director's dashboard card counts them.
	body = e.serve("GET", "/dashboard", nil, access.RoleHIMDirector).Body.String()
	if !strings.Contains(body, `<strong id="roi-open">3</strong>`) || !strings.Contains(body, "1 overdue") {
		t.Errorf("the dashboard card:\n%s", body)
	}
}

func TestQueuePages(t *testing.T) {
	e := newEnv(t)
	a := e.authorize(nil)
	for range 201 {
		e.submit(a.ID, nil)
	}
	body := e.serve("GET", "/roi/queue", nil, access.RoleROISpecialist).Body.String()
	next := regexp.MustCompile(`href="(/roi/queue\?[^"]*)" rel="next"`).FindStringSubmatch(body)
	if n := strings.Count(body, `href="/roi/requests/`); n != 100 || !strings.Contains(body, "201 requests; page 1 shows 100") || next == nil {
		t.Fatalf("page 1 lists %d requests:\n%s", n, body)
	}
	seen := map[string]bool{}
	collect := func(body string) {
		for _, m := range regexp.MustCompile(`href="/roi/requests/([^"/]+)"`).FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Errorf("request %s listed twice", m[1])
			}
			seen[m[1]] = true
		}
	}
	collect(body)
	page2 := html.UnescapeString(next[1])
	body = e.serve("GET", page2, nil, access.RoleROISpecialist).Body.String()
	collect(body)
	next = regexp.MustCompile(`href="(/roi/queue\?[^"]*)" rel="next"`).FindStringSubmatch(body)
	if n := strings.Count(body, `href="/roi/requests/`); n != 100 || !strings.Contains(body, "page 2 shows 100") || next == nil {
		t.Fatalf("page 2 lists %d requests:\n%s", n, body)
	}
	body = e.serve("GET", html.UnescapeString(next[1]), nil, access.RoleROISpecialist).Body.String()
	collect(body)
	prev := regexp.MustCompile(`href="(/roi/queue\?[^"]*)" rel="prev"`).FindStringSubmatch(body)
	if n := strings.Count(body, `href="/roi/requests/`); n != 1 || !strings.Contains(body, "page 3 shows 1") || prev == nil || strings.Contains(body, `rel="next"`) {
		t.Errorf("page 3 lists %d requests", n)
	}
	if len(seen) != 201 {
		t.Errorf("three pages listed %d distinct requests, want 201", len(seen))
	}
	// Back from page 3 is page 2 again, and back from it the first page.
	if got := html.UnescapeString(prev[1]); got != page2 {
		t.Errorf("back from page 3 goes to %s, want %s", got, page2)
	}
	body = e.serve("GET", page2, nil, access.RoleROISpecialist).Body.String()
	prev = regexp.MustCompile(`href="(/roi/queue\?[^"]*)" rel="prev"`).FindStringSubmatch(body)
	if prev == nil || html.UnescapeString(prev[1]) != "/roi/queue?status=open" {
		t.Errorf("back from page 2: %v", prev)
	}
	if rec := e.serve("GET", "/roi/queue?back=x", nil, access.RoleROISpecialist); rec.Code != 400 {
		t.Errorf("back without a cursor: %d", rec.Code)
	}
	if rec := e.serve("GET", "/roi/queue?cursor=%21%21", nil, access.RoleROISpecialist); rec.Code != 400 {
		t.Errorf("a broken cursor: %d", rec.Code)
	}
}

// TestPatientRequest: the patient's own request needs the identity
// verification, and no authorization.
func TestPatientRequest(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, "rita")
	form := url.Values{"patient": {e.patient}, "kind": {"patient"}, "name": {"Amara Okafor"}, "purpose": {"PATRQT"}, "basis": {""},
		"received": {"2026-03-09"}, "type": {"DocumentReference"}}
	resp, body := c.post(t, "/roi/new", form)
	if resp.StatusCode != 400 || !strings.Contains(body, "needs the identity verification recorded") || !strings.Contains(body, `value="Amara Okafor"`) {
		t.Errorf("without the identity verification: %d\n%s", resp.StatusCode, body)
	}
	form.Set("verified", "driver's licence checked at the desk")
	resp, _ = c.post(t, "/roi/new", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the patient's request: %d", resp.StatusCode)
	}
	id := strings.TrimPrefix(resp.Header.Get("Location"), "/roi/requests/")
	rq, err := e.svc.Get(specialist(), id)
	if err != nil || rq.Basis != roi.BasisIndividual || rq.IdentityVerified != "driver's licence checked at the desk" {
		t.Fatalf("stored: %+v, %v", rq, err)
	}
	_, body = c.get(t, "/roi/requests/"+id)
	if !strings.Contains(body, "None needed for this legal basis") || strings.Contains(body, `<li class="fail"`) {
		t.Errorf("the patient's request page:\n%s", body)
	}
	// Psychotherapy notes are outside the right of access: the check says
	// so before release, and the release is refused.
	resp, _ = c.post(t, "/roi/requests/"+id+"/review", url.Values{"type": {"DocumentReference"}, "category": {roi.PsychotherapyNotes}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("review: %d", resp.StatusCode)
	}
	_, body = c.get(t, "/roi/requests/"+id)
	if !strings.Contains(body, `id="blocked"`) || !strings.Contains(body, "does not extend to psychotherapy notes") {
		t.Errorf("the check of psychotherapy notes:\n%s", body)
	}
	resp, _ = c.post(t, "/roi/requests/"+id+"/release", url.Values{"method": {"pickup"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("release of psychotherapy notes to the patient: %d", resp.StatusCode)
	}
}

// TestRestrictedPatient: a request for a patient whose record the
// specialist may not read is still worked, without the patient's details.
func TestRestrictedPatient(t *testing.T) {
	e := newEnv(t)
	vip := e.create(`{"resourceType":"Patient","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"V"}]},` +
		`"name":[{"family":"Famous","given":["Very"]}],"birthDate":"1960-01-01"}`)
	rq, err := e.svc.Submit(e.sys, &roi.Request{Patient: vip, RequesterKind: roi.CourtOrder, RequesterName: "Clerk", Purpose: "HLEGAL",
		LegalAuthority: "Order 7", Types: []string{"DocumentReference"}, Received: day("2026-03-01")})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/roi/requests/" + rq.ID, "/roi/queue"} {
		rec := e.serve("GET", path, nil, access.RoleROISpecialist)
		body := rec.Body.String()
		if rec.Code != 200 || strings.Contains(body, "Famous") || !strings.Contains(strings.ToLower(body), "restricted record") {
			t.Errorf("%s: %d\n%s", path, rec.Code, body)
		}
	}
}

// TestCheckAgreesWithRelease: the check the page shows before release
// blocks exactly the releases roi refuses.
func TestCheckAgreesWithRelease(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, "rita")
	tests := []struct {
		name string
		auth func(a *roi.Authorization)
		req  func(r *roi.Request)
		ok   bool
	}{
		{"within the authorization", nil, nil, true},
		{"expired", func(a *roi.Authorization) { a.Signed, a.Expires = day("2025-01-01"), day("2026-03-09") }, nil, false},
		{"expires today", func(a *roi.Authorization) { a.Expires = day("2026-03-10") }, nil, true},
		{"signed after today", func(a *roi.Authorization) { a.Signed = day("2026-03-11") }, nil, false},
		{"another recipient", nil, func(r *roi.Request) { r.RequesterName = "Someone Else LLP" }, false},
		{"recipient in other case", nil, func(r *roi.Request) { r.RequesterName = "baker & lowe llp" }, true},
		{"another purpose", nil, func(r *roi.Request) { r.Purpose = "COVERAGE" }, false},
		{"any purpose", func(a *roi.Authorization) { a.Purposes = nil }, func(r *roi.Request) { r.Purpose = "COVERAGE" }, true},
		{"records too early", nil, func(r *roi.Request) { r.From = day("2024-12-31") }, false},
		{"open start", nil, func(r *roi.Request) { r.From = time.Time{} }, false},
		{"records too late", nil, func(r *roi.Request) { r.To = day("2026-01-01") }, false},
		{"a type not covered", nil, func(r *roi.Request) { r.Types = append(r.Types, "Observation") }, false},
		{"every type covered", func(a *roi.Authorization) { a.Types = nil }, func(r *roi.Request) { r.Types = append(r.Types, "Observation") }, true},
		{"a category not named", nil, func(r *roi.Request) { r.Categories = []string{roi.SubstanceUse} }, false},
		{"a category named", func(a *roi.Authorization) { a.Categories = []string{roi.SubstanceUse} }, func(r *roi.Request) { r.Categories = []string{roi.SubstanceUse} }, true},
		{"tpo with a category", nil, func(r *roi.Request) {
			r.RequesterKind, r.Purpose, r.Basis, r.Authorization, r.Categories = roi.Provider, "TREAT", roi.BasisTPO, "", []string{roi.HIV}
		}, false},
		{"tpo", nil, func(r *roi.Request) {
			r.RequesterKind, r.Purpose, r.Basis, r.Authorization = roi.Provider, "TREAT", roi.BasisTPO, ""
		}, true},
		{"court order with a category", nil, func(r *roi.Request) {
			r.RequesterKind, r.Basis, r.Authorization, r.LegalAuthority, r.Categories = roi.CourtOrder, roi.BasisCourtOrder, "", "Order 9", []string{roi.HIV}
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := e.authorize(tc.auth)
			rq := e.submit(a.ID, tc.req)
			_, body := c.get(t, "/roi/requests/"+rq.ID)
			blocked := strings.Contains(body, `id="blocked"`)
			resp, page := c.post(t, "/roi/requests/"+rq.ID+"/release", url.Values{"method": {"mail"}})
			released := resp.StatusCode == http.StatusSeeOther
			if !released && resp.StatusCode != http.StatusForbidden {
				t.Fatalf("release: %d\n%s", resp.StatusCode, page)
			}
			if released != tc.ok || blocked == released {
				t.Errorf("the page blocks: %v; roi releases: %v; want %v\n%s", blocked, released, tc.ok, page)
			}
		})
	}
}

// TestSensitivePacket: a packet holding records of a sensitive category
// carries its label, so the page says why the specialist cannot open it.
func TestSensitivePacket(t *testing.T) {
	e := newEnv(t)
	a := e.authorize(func(a *roi.Authorization) { a.Categories = []string{roi.SubstanceUse} })
	rq := e.submit(a.ID, func(r *roi.Request) { r.Categories = []string{roi.SubstanceUse} })
	c := e.signIn(t, "rita")
	if resp, body := c.post(t, "/roi/requests/"+rq.ID+"/release", url.Values{"method": {"mail"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("release: %d\n%s", resp.StatusCode, body)
	}
	_, body := c.get(t, "/roi/requests/"+rq.ID)
	if !strings.Contains(body, "only after breaking the glass") || strings.Contains(body, `id="packet-links"`) {
		t.Errorf("the packet of sensitive records:\n%s", body)
	}
	if strings.Contains(body, "not authorized") {
		t.Error("the named category is reported as left out")
	}
}
