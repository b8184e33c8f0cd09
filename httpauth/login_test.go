package httpauth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/httpauth"
)

const sessionCookie = "custodian_session"

func TestSignInFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser("alice", "coder")
	b := e.browser()

	// A page without a session sends the browser to sign in, and back.
	r := do(t, b, "GET", e.url("/worklist?x=1"), nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login?next=%2Fworklist%3Fx%3D1" {
		t.Fatalf("unsigned page: %d %q", r.status, r.header.Get("Location"))
	}
	form := do(t, b, "GET", e.url("/login?next=%2Fworklist%3Fx%3D1"), nil)
	m := csrfInputRE.FindStringSubmatch(form.body)
	r = postForm(t, b, e.url("/login"), url.Values{"username": {"alice"}, "password": {password}, "csrf_token": {m[1]}, "next": {"/worklist?x=1"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/worklist?x=1" {
		t.Fatalf("sign-in: %d %q %s", r.status, r.header.Get("Location"), r.body)
	}
	setCookie := strings.Join(r.header.Values("Set-Cookie"), "\n")
	if !regexp.MustCompile(`custodian_session=[^;]+; Path=/; Max-Age=43200; HttpOnly; SameSite=Lax`).MatchString(setCookie) {
		t.Errorf("session cookie attributes: %s", setCookie)
	}
	r = do(t, b, "GET", e.url("/worklist"), nil, "X-Purpose-Of-Use", "HOPERAT")
	a := actorOf(t, r)
	if a.ID != "alice" || a.Kind != "user" || a.Roles[0] != "coder" || a.PurposeOfUse != "HOPERAT" || a.Address != "127.0.0.1" {
		t.Errorf("actor %+v", a)
	}
	// The account page, then sign out.
	r = do(t, b, "GET", e.url("/account"), nil)
	if r.status != 200 || !strings.Contains(r.body, `<dd id="account-user">alice</dd>`) {
		t.Fatalf("account: %d %s", r.status, r.body)
	}
	csrf := csrfInputRE.FindStringSubmatch(r.body)[1]
	old := e.cookie(b, sessionCookie)
	r = postForm(t, b, e.url("/logout"), url.Values{"csrf_token": {csrf}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Fatalf("logout: %d", r.status)
	}
	// The old cookie is dead on the server, not just in this browser.
	r = do(t, http.DefaultClient, "GET", e.url("/fhir/Patient"), nil, "Cookie", sessionCookie+"="+old)
	if r.status != http.StatusUnauthorized {
		t.Errorf("signed-out session still works: %d", r.status)
	}
}

func TestOpenRedirect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser("alice", "coder")
	for _, next := range []string{"//evil.example/", "https://evil.example/", `/\evil.example`, "javascript:alert(1)", "/login"} {
		b := e.browser()
		form := do(t, b, "GET", e.url("/login"), nil)
		m := csrfInputRE.FindStringSubmatch(form.body)
		r := postForm(t, b, e.url("/login"), url.Values{"username": {"alice"}, "password": {password}, "csrf_token": {m[1]}, "next": {next}})
		if r.header.Get("Location") != "/account" {
			t.Errorf("next=%q led to %q", next, r.header.Get("Location"))
		}
	}
}

func TestSessionFixation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser("alice", "coder")
	e.addUser("mallory", "coder")

	// An attacker plants a session id of their choosing, or their own real
	// session, in the victim's browser; signing in must not keep either.
	for _, planted := range []string{"attacker-chosen-id", ""} {
		b := e.browser()
		if planted == "" {
			e.signIn(b, "mallory", password)
			planted = e.cookie(b, sessionCookie)
		} else {
			u, _ := url.Parse(e.srv.URL)
			b.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: planted, Path: "/"}})
		}
		if r := e.signIn(b, "alice", password); r.status != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", r.status)
		}
		now := e.cookie(b, sessionCookie)
		if now == "" || now == planted {
			t.Fatalf("the session id did not change at sign-in (planted %q)", planted)
		}
		// The planted id does not carry alice's sign-in.
		r := do(t, http.DefaultClient, "GET", e.url("/fhir/Patient"), nil, "Cookie", sessionCookie+"="+planted)
		if r.status != http.StatusUnauthorized {
			t.Errorf("planted session %q works after the victim signed in: %d %s", planted, r.status, r.body)
		}
		if a := actorOf(t, do(t, b, "GET", e.url("/x"), nil)); a.ID != "alice" {
			t.Errorf("signed in as %q", a.ID)
		}
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser("alice", "coder")
	b := e.browser()
	e.signIn(b, "alice", password)
	r := do(t, b, "GET", e.url("/x"), nil)
	token := csrfFromBody(t, r.body)

	tests := []struct {
		name   string
		method string
		path   string
		body   string
		header []string
		status int
	}{
		{"form post without token", "POST", "/worklist", "a=1", []string{"Content-Type", "application/x-www-form-urlencoded"}, 403},
		{"form post with wrong token", "POST", "/worklist", "a=1&csrf_token=" + token[:len(token)-2] + "xx", []string{"Content-Type", "application/x-www-form-urlencoded"}, 403},
		{"form post with token", "POST", "/worklist", "a=1&csrf_token=" + url.QueryEscape(token), []string{"Content-Type", "application/x-www-form-urlencoded"}, 200},
		{"FHIR write by cookie without token", "POST", "/fhir/Patient", `{"resourceType":"Patient"}`, []string{"Content-Type", "application/fhir+json"}, 403},
		{"FHIR write text/plain (cross-site form)", "POST", "/fhir/Patient", `{"resourceType":"Patient"}`, []string{"Content-Type", "text/plain"}, 403},
		{"FHIR write by cookie with header", "POST", "/fhir/Patient", `{"resourceType":"Patient"}`, []string{"Content-Type", "application/fhir+json", "X-CSRF-Token", token}, 200},
		{"delete without token", "DELETE", "/fhir/Patient/1", "", nil, 403},
		{"logout without token", "POST", "/logout", "", []string{"Content-Type", "application/x-www-form-urlencoded"}, 403},
		{"get needs no token", "GET", "/fhir/Patient", "", nil, 200},
	}
	for _, tt := range tests {
		e.mu.Lock()
		before := e.writes
		e.mu.Unlock()
		r := do(t, b, tt.method, e.url(tt.path), strings.NewReader(tt.body), tt.header...)
		if r.status != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, r.status, r.body, tt.status)
		}
		e.mu.Lock()
		reached := e.writes - before
		e.mu.Unlock()
		if tt.status == 403 && reached != 0 {
			t.Errorf("%s: the refused request reached the application", tt.name)
		}
		if tt.status == 403 && strings.HasPrefix(tt.path, "/fhir/") && !strings.Contains(r.body, `"code":"forbidden"`) {
			t.Errorf("%s: not an OperationOutcome: %s", tt.name, r.body)
		}
	}
	// The sign-in form has its own check (double submit).
	b2 := e.browser()
	r = postForm(t, b2, e.url("/login"), url.Values{"username": {"alice"}, "password": {password}})
	if r.status != 403 || e.cookie(b2, sessionCookie) != "" {
		t.Errorf("sign-in without the form's token: %d", r.status)
	}
	do(t, b2, "GET", e.url("/login"), nil)
	r = postForm(t, b2, e.url("/login"), url.Values{"username": {"alice"}, "password": {password}, "csrf_token": {"guess"}})
	if r.status != 403 || e.cookie(b2, sessionCookie) != "" {
		t.Errorf("sign-in with a wrong form token: %d", r.status)
	}
	// A bearer client needs no CSRF token (browsers do not send bearer tokens by themselves).
	id, secret := e.addClient("feed", "system/*.cruds")
	if r := do(t, http.DefaultClient, "POST", e.url("/fhir/Patient"), strings.NewReader("{}"), "Authorization", "Bearer "+e.token(id, secret)); r.status != 200 {
		t.Errorf("bearer write: %d", r.status)
	}
}

func csrfFromBody(t *testing.T, body string) string {
	t.Helper()
	m := regexp.MustCompile(`"csrf":"([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf in %s", body)
	}
	return m[1]
}

func TestBruteForce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser("alice", "coder")
	b := e.browser()
	for i := range 5 {
		r := e.signIn(b, "alice", "not the password "+string(rune('a'+i)))
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, `role="alert"`) {
			t.Fatalf("attempt %d: %d", i, r.status)
		}
	}
	// Locked: the right password fails too, with the same answer.
	r := e.signIn(b, "alice", password)
	if r.status != http.StatusUnauthorized || e.cookie(b, sessionCookie) != "" {
		t.Fatalf("locked account: %d", r.status)
	}
	e.clock.Add(15*time.Minute + time.Second)
	if r := e.signIn(b, "alice", password); r.status != http.StatusSeeOther {
		t.Fatalf("after the lock: %d %s", r.status, r.body)
	}
	// The address throttle: many failures from one address, any names.
	e.svc.AddressFailures = 8
	for i := range 8 {
		e.signIn(e.browser(), "user"+string(rune('a'+i)), "a password guess")
	}
	if r := e.signIn(e.browser(), "alice", password); r.status != http.StatusTooManyRequests {
		t.Errorf("noisy address: %d", r.status)
	}
}

func TestMustChangePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pw, _, err := e.svc.Bootstrap(e.admin, "")
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	r := e.signIn(b, "admin", pw)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/password" {
		t.Fatalf("must-change sign-in went to %q", r.header.Get("Location"))
	}
	// Nothing else until the password is changed.
	if r := do(t, b, "GET", e.url("/fhir/Patient"), nil); r.status != 403 {
		t.Errorf("FHIR before changing: %d", r.status)
	}
	if r := do(t, b, "GET", e.url("/account"), nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/password" {
		t.Errorf("page before changing: %d %q", r.status, r.header.Get("Location"))
	}
	page := do(t, b, "GET", e.url("/password"), nil)
	if page.status != 200 || !strings.Contains(page.body, `id="must-change"`) {
		t.Fatalf("password page: %d", page.status)
	}
	csrf := csrfInputRE.FindStringSubmatch(page.body)[1]
	r = postForm(t, b, e.url("/password"), url.Values{"csrf_token": {csrf}, "current": {pw}, "new": {"short"}, "confirm": {"short"}})
	if r.status != 400 || !strings.Contains(r.body, "at least 12") {
		t.Errorf("short new password: %d", r.status)
	}
	r = postForm(t, b, e.url("/password"), url.Values{"csrf_token": {csrf}, "current": {pw}, "new": {"a new admin password"}, "confirm": {"a new admin password"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login?changed=1" {
		t.Fatalf("change: %d %s", r.status, r.body)
	}
	if r := e.signIn(e.browser(), "admin", "a new admin password"); r.header.Get("Location") != "/account" {
		t.Errorf("after the change: %d %q", r.status, r.header.Get("Location"))
	}
}

// TestPagesAreAccessible checks that every visible form control has a
// label, the page has a language and a heading, and errors are announced.
func TestPagesAreAccessible(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser("alice", "coder")
	b := e.browser()
	bad := e.signIn(b, "alice", "a wrong password")
	e.signIn(b, "alice", password)
	pages := map[string]string{
		"login":    do(t, e.browser(), "GET", e.url("/login"), nil).body,
		"bad":      bad.body,
		"password": do(t, b, "GET", e.url("/password"), nil).body,
		"account":  do(t, b, "GET", e.url("/account"), nil).body,
	}
	inputRE := regexp.MustCompile(`<input ([^>]*)>`)
	idRE := regexp.MustCompile(`\bid="([^"]+)"`)
	for name, body := range pages {
		if !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, "<h1>") || !strings.Contains(body, "<title>") {
			t.Errorf("%s: no language, title or heading", name)
		}
		for _, in := range inputRE.FindAllStringSubmatch(body, -1) {
			if strings.Contains(in[1], `type="hidden"`) {
				continue
			}
			id := idRE.FindStringSubmatch(in[1])
			if id == nil || !strings.Contains(body, `<label for="`+id[1]+`">`) {
				t.Errorf("%s: input without a label: %s", name, in[0])
			}
		}
	}
	if !strings.Contains(bad.body, `role="alert"`) || !strings.Contains(bad.body, `aria-describedby="form-error"`) {
		t.Error("the sign-in error is not announced or tied to the fields")
	}
	if !strings.Contains(pages["login"], `autocomplete="current-password"`) || strings.Contains(bad.body, "a wrong password") {
		t.Error("password field: no autocomplete, or the wrong password is echoed")
	}
}

// TestSecureCookies: behind TLS (or when told), cookies are Secure and
// take the __Host- prefix.
func TestSecureCookies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser("alice", "coder")
	h := &httpauth.Handler{Service: e.svc, SecureCookies: true}
	srv := httptest.NewServer(h.Wrap(http.NotFoundHandler()))
	defer srv.Close()
	b := e.browser()
	form := do(t, b, "GET", srv.URL+"/login", nil)
	if sc := form.header.Get("Set-Cookie"); !strings.HasPrefix(sc, "__Host-custodian_login=") || !strings.Contains(sc, "; Secure") || !strings.Contains(sc, "SameSite=Strict") {
		t.Errorf("login cookie: %s", sc)
	}
	m := csrfInputRE.FindStringSubmatch(form.body)
	// The jar will not send Secure cookies over http; send it by hand.
	r := postForm(t, e.browser(), srv.URL+"/login", url.Values{"username": {"alice"}, "password": {password}, "csrf_token": {m[1]}},
		"Cookie", "__Host-custodian_login="+m[1])
	sc := strings.Join(r.header.Values("Set-Cookie"), "\n")
	if r.status != http.StatusSeeOther || !regexp.MustCompile(`__Host-custodian_session=[^;]+; Path=/; Max-Age=43200; HttpOnly; Secure; SameSite=Lax`).MatchString(sc) {
		t.Errorf("session cookie: %d %s", r.status, sc)
	}
}
