package httpauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custodian-him/custodian/access"
)

// TestLogsHoldNoSecrets runs every route, good and bad, and then looks for
// each secret in everything that was logged.
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser("alice", "coder")
	id, secret := e.addClient("feed", "system/*.read")
	tok := e.token(id, secret)
	adminPW, _, err := e.svc.Bootstrap(e.admin, "")
	if err != nil {
		t.Fatal(err)
	}
	wrongPW := "wrong-password-7f3a9c"
	secrets := []string{password, secret, tok, wrongPW, adminPW}

	b := e.browser()
	e.signIn(b, "alice", wrongPW)
	for range 5 { // to the lock, which logs a warning
		e.signIn(e.browser(), "alice", wrongPW)
	}
	e.clock.Add(16 * 60 * 1e9)
	e.signIn(b, "alice", password)
	session := e.cookie(b, sessionCookie)
	r := do(t, b, "GET", e.url("/x"), nil)
	csrf := csrfFromBody(t, r.body)
	secrets = append(secrets, session, csrf)
	do(t, b, "POST", e.url("/fhir/Patient"), strings.NewReader("{}"), "Content-Type", "application/fhir+json")
	postForm(t, b, e.url("/password"), url.Values{"csrf_token": {csrf}, "current": {wrongPW}, "new": {"x"}, "confirm": {"y"}})
	e.signIn(e.browser(), "admin", adminPW)
	do(t, http.DefaultClient, "GET", e.url("/fhir/Patient"), nil, "Authorization", "Bearer "+tok)
	do(t, http.DefaultClient, "GET", e.url("/fhir/Patient"), nil, "Authorization", "Bearer "+tok+"x")
	postForm(t, http.DefaultClient, e.url("/oauth/token"), url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret + "x"}})
	postForm(t, http.DefaultClient, e.url("/oauth/token"), url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "scope": {"system/*.write"}})
	do(t, http.DefaultClient, "GET", e.url("/fhir/Patient"), nil, "Cookie", sessionCookie+"="+session+"x")
	postForm(t, b, e.url("/logout"), url.Values{"csrf_token": {csrf}})

	// Make the store fail, so the error paths log too.
	e.svc.Store = failingStore{e.svc.Store}
	e.signIn(e.browser(), "alice", password)
	do(t, http.DefaultClient, "GET", e.url("/fhir/Patient"), nil, "Cookie", sessionCookie+"="+session)
	postForm(t, http.DefaultClient, e.url("/oauth/token"), url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}})

	logs := e.logs.String()
	if !strings.Contains(logs, "level=") {
		t.Fatal("nothing was logged; the test proves nothing")
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("a secret (%d chars) is in the log:\n%s", len(s), logs)
		}
	}
}

// failingStore fails every lookup, as a broken database would.
type failingStore struct{ access.Store }

var errDown = errors.New("database is down")

func (failingStore) FindUserByName(context.Context, string) (*access.User, error) {
	return nil, errDown
}
func (failingStore) FindSession(context.Context, []byte) (*access.Session, error) {
	return nil, errDown
}
func (failingStore) FindClientByID(context.Context, string) (*access.Client, error) {
	return nil, errDown
}
