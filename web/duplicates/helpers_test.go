package duplicates_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/httpauth"
	"github.com/custodian-him/custodian/mpi/identity"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
	"github.com/custodian-him/custodian/web"
	"github.com/custodian-him/custodian/web/duplicates"
	"github.com/custodian-him/custodian/web/internal/webtest"
)

const password = "correct horse battery staple"

// env is a small generated hospital in a real store, with the live index
// and the candidate queue filled from the generator's duplicate
// registrations, behind the workbench and httpauth.
type env struct {
	t   testing.TB
	st  *store.Store
	svc *identity.Service
	col *synth.Collector
	wb  *web.Handler
	srv *httptest.Server
	sys context.Context
}

func newEnv(t testing.TB, patients int) *env {
	t.Helper()
	ctx := context.Background()
	defs := fhir.R4()
	reg, err := search.NewR4(defs)
	if err != nil {
		t.Fatal(err)
	}
	db := sqldbtest.Open(t)
	if err := db.RegisterParams(ctx, reg.Indexed()); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, defs, reg)
	st.AuditLog = db
	st.Guard = access.Guard{}
	e := &env{t: t, st: st, sys: custodian.NewContextWithActor(ctx, custodian.SystemActor()), col: &synth.Collector{}}
	if _, err := synth.Generate(ctx, synth.Config{Patients: patients, Seed: 5}, e.col); err != nil {
		t.Fatal(err)
	}
	var batch []map[string]any
	var pats []string
	for i, b := range e.col.Bodies {
		if e.col.Types[i] == "Observation" && !strings.Contains(string(b), "vital-signs") {
			continue // laboratory results: many, and the pages only count them
		}
		m, err := store.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if e.col.Types[i] == "Patient" {
			pats = append(pats, e.col.IDs[i])
		}
		batch = append(batch, m)
	}
	res, err := st.PutBatch(e.sys, batch)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	ix, err := fhirapi.BuildMatchIndex(e.sys, st)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = &identity.Service{Store: st, Index: ix}
	st.Watchers = []store.Watcher{fhirapi.MatchWatcher(ix, nil), e.svc.Watcher()}
	e.svc.Enqueue(pats...)
	if s, err := e.svc.Sync(e.sys); err != nil {
		t.Fatal(err)
	} else if s.Candidates == 0 {
		t.Fatalf("the generated hospital gave no duplicate candidate: %+v", s)
	}
	acc := access.NewService(sqldb.NewAccessStore(db))
	acc.Audit = st
	if err := acc.Open(ctx); err != nil {
		t.Fatal(err)
	}
	for name, roles := range map[string][]string{
		"dana": {access.RoleHIMDirector}, "cody": {access.RoleCoder}, "reg": {access.RoleRegistrar},
	} {
		if _, err := acc.CreateUser(e.sys, name, roles, password); err != nil {
			t.Fatal(err)
		}
	}
	e.wb = &web.Handler{Records: st, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	e.wb.Modules = append(e.wb.Modules, duplicates.Module(e.svc, e.wb))
	auth := &httpauth.Handler{Service: acc, Home: "/"}
	e.srv = httptest.NewServer(auth.Wrap(e.wb))
	t.Cleanup(e.srv.Close)
	return e
}

// candidates returns the candidate Tasks as the system sees them.
func (e *env) candidates(t testing.TB) []map[string]any {
	t.Helper()
	q, err := e.st.ParseQueryString("Task", "code="+identity.System+"|"+identity.CodeCandidate)
	if err != nil {
		t.Fatal(err)
	}
	q.Count = 1000
	page, err := e.st.Search(e.sys, q)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, r := range page.Resources {
		m, err := store.Decode(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		m["id"] = r.ID
		out = append(out, m)
	}
	return out
}

// pair returns an open candidate Task's id and its two patients' ids.
func (e *env) pair(t testing.TB, skip ...string) (task, a, b string) {
	t.Helper()
	for _, c := range e.candidates(t) {
		id := c["id"].(string)
		if c["status"] != "requested" || strings.Contains(strings.Join(skip, " "), id) {
			continue
		}
		_, a = store.SplitReference(c["focus"].(map[string]any)["reference"].(string))
		for _, in := range c["input"].([]any) {
			im := in.(map[string]any)
			if im["type"].(map[string]any)["text"] == "other-patient" {
				_, b = store.SplitReference(im["valueReference"].(map[string]any)["reference"].(string))
			}
		}
		return id, a, b
	}
	t.Fatal("no open candidate left")
	return
}

func (e *env) read(t *testing.T, typ, id string) map[string]any {
	t.Helper()
	r, err := e.st.Read(e.sys, typ, id)
	if err != nil {
		t.Fatal(err)
	}
	m, err := store.Decode(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// client is a signed-in browser-like client of the real server, with a
// CSRF token of its session.
type client struct {
	*webtest.Client
	csrf string
}

func (e *env) signIn(t *testing.T, user string) *client {
	t.Helper()
	c := &client{Client: webtest.SignIn(t, e.srv.URL, user, password)}
	_, body := c.Get(t, "/patients")
	c.csrf = webtest.FindCSRF(body)
	return c
}

func (c *client) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	return c.Get(t, path)
}

func (c *client) post(t *testing.T, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	return c.Post(t, path, form)
}

// postForm posts form with the client's CSRF token.
func (c *client) postForm(t *testing.T, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", c.csrf)
	return c.Post(t, path, form)
}

func mustJSON(v any) string { b, _ := store.Encode(v.(map[string]any)); return string(b) }

func itoa(n int) string { return strconv.Itoa(n) }

func openTasks(ts []map[string]any) []map[string]any {
	var out []map[string]any
	for _, t := range ts {
		if t["status"] == "requested" {
			out = append(out, t)
		}
	}
	return out
}
