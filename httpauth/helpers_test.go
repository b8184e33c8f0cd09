package httpauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/httpauth"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// env is a Handler over a real database in front of an application that
// reports the actor it was given.
type env struct {
	t      *testing.T
	svc    *access.Service
	db     *sqldb.DB
	clock  *clock
	logs   *syncBuffer
	srv    *httptest.Server
	admin  context.Context
	writes int // requests that reached the application with an unsafe method
	mu     sync.Mutex
}

const password = "correct horse battery staple"

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db := sqldbtest.Open(t)
	e := &env{t: t, db: db, clock: &clock{t: time.Now()}, logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.svc = access.NewService(sqldb.NewAccessStore(db))
	e.svc.Now = e.clock.Now
	e.svc.Logger = logger
	if err := e.svc.Open(ctx); err != nil {
		t.Fatal(err)
	}
	e.admin = custodian.NewContextWithActor(ctx, custodian.SystemActor())
	h := &httpauth.Handler{Service: e.svc, Logger: logger, Home: "/account"}
	app := http.NewServeMux()
	app.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a := custodian.ActorFromContext(r.Context())
		if r.Method != http.MethodGet {
			e.mu.Lock()
			e.writes++
			e.mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"actor": a, "csrf": httpauth.CSRFToken(r)})
	})
	e.srv = httptest.NewServer(h.Wrap(app))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) url(path string) string { return e.srv.URL + path }

func (e *env) addUser(name string, roles ...string) {
	e.t.Helper()
	if _, err := e.svc.CreateUser(e.admin, name, roles, password); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) addClient(name string, scopes ...string) (id, secret string) {
	e.t.Helper()
	cl, secret, err := e.svc.CreateClient(e.admin, name, scopes, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return cl.ID, secret
}

// browser is an HTTP client with cookies that does not follow redirects.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, c *http.Client, method, u string, body io.Reader, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values, header ...string) response {
	t.Helper()
	return do(t, c, http.MethodPost, u, strings.NewReader(form.Encode()), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)...)
}

var csrfInputRE = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)

// signIn fetches the form and signs in, returning the response.
func (e *env) signIn(c *http.Client, name, pw string) response {
	e.t.Helper()
	form := do(e.t, c, http.MethodGet, e.url("/login"), nil)
	m := csrfInputRE.FindStringSubmatch(form.body)
	if m == nil {
		e.t.Fatalf("no CSRF token in the sign-in form:\n%s", form.body)
	}
	return postForm(e.t, c, e.url("/login"), url.Values{"username": {name}, "password": {pw}, "csrf_token": {m[1]}})
}

func (e *env) cookie(c *http.Client, name string) string {
	u, _ := url.Parse(e.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// actorOf decodes the actor the application saw.
func actorOf(t *testing.T, r response) *custodian.Actor {
	t.Helper()
	var v struct {
		Actor *custodian.Actor
		CSRF  string
	}
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || v.Actor == nil {
		t.Fatalf("status %d, no actor in %q: %v", r.status, r.body, err)
	}
	return v.Actor
}

func (e *env) token(id, secret string) string {
	e.t.Helper()
	r := postForm(e.t, http.DefaultClient, e.url("/oauth/token"), url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}})
	var v struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || r.status != 200 || v.AccessToken == "" {
		e.t.Fatalf("token: %d %s", r.status, r.body)
	}
	return v.AccessToken
}
