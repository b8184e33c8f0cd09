package outcomes_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/httpauth"
	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/registry"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
	"github.com/custodian-him/custodian/web"
	"github.com/custodian-him/custodian/web/internal/webtest"
	"github.com/custodian-him/custodian/web/outcomes"
)

const password = "correct horse battery staple"

// asOf is the clock: the generated hospital's last day.
var asOf = time.Date(2025, 9, 30, 12, 0, 0, 0, time.UTC)

// env is a small generated hospital in a real store, with the measures'
// record and the registries kept by their watchers, and the outcomes
// pages in the workbench behind httpauth.
type env struct {
	st  *store.Store
	rec *measure.Record
	reg *registry.Service
	wb  *web.Handler
	srv *httptest.Server
}

func newEnv(t testing.TB, patients int) *env {
	t.Helper()
	ctx := context.Background()
	defs := fhir.R4()
	sr, err := search.NewR4(defs)
	if err != nil {
		t.Fatal(err)
	}
	db := sqldbtest.Open(t)
	if err := db.RegisterParams(ctx, sr.Indexed()); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, defs, sr)
	st.AuditLog = db
	st.Guard = access.Guard{}
	sys := custodian.NewContextWithActor(ctx, custodian.SystemActor())
	e := &env{st: st, rec: measure.NewRecord()}
	regs, err := registry.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	e.reg = &registry.Service{Record: e.rec, Store: st, Definitions: regs, Now: func() time.Time { return asOf }}
	st.Watchers = append(st.Watchers, e.rec.Watcher(), e.reg.Watcher())
	if err := e.reg.Load(sys); err != nil {
		t.Fatal(err)
	}
	col := &synth.Collector{}
	if _, err := synth.Generate(ctx, synth.Config{Patients: patients, Seed: 21}, col); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	var batch []map[string]any
	for i, b := range col.Bodies {
		if !kept(col.Types[i], b, regs) {
			continue
		}
		m, err := store.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, m)
	}
	for i := 0; i < len(batch); i += 2000 {
		res, err := st.PutBatch(sys, batch[i:min(i+2000, len(batch))])
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}
	t.Logf("generated and stored %d resources in %s", len(batch), time.Since(t0))
	t0 = time.Now()
	if _, err := e.reg.FindAll(sys, ""); err != nil {
		t.Fatal(err)
	}
	t.Logf("registry case finding: %s", time.Since(t0))
	acc := access.NewService(sqldb.NewAccessStore(db))
	acc.Audit = st
	if err := acc.Open(ctx); err != nil {
		t.Fatal(err)
	}
	for name, roles := range map[string][]string{
		"dana": {access.RoleHIMDirector}, "rita": {access.RoleRegistrar}, "carl": {access.RoleClinician}, "pria": {access.RolePrivacyOfficer},
	} {
		if _, err := acc.CreateUser(sys, name, roles, password); err != nil {
			t.Fatal(err)
		}
	}
	e.wb = &web.Handler{Records: st, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), Now: func() time.Time { return asOf }}
	e.wb.Modules = append(e.wb.Modules, outcomes.Module(outcomes.Config{
		Web: e.wb, Record: e.rec, Registry: e.reg, Patients: st, Now: func() time.Time { return asOf },
	}))
	auth := &httpauth.Handler{Service: acc, Home: "/"}
	e.srv = httptest.NewServer(auth.Wrap(e.wb))
	t.Cleanup(e.srv.Close)
	return e
}

// as returns a request context acting as a user with roles.
func as(user string, roles ...string) context.Context {
	return custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: user, Kind: access.KindUser, Roles: roles})
}

// get serves path to the workbench directly, as a user with roles.
func (e *env) get(path string, roles ...string) *httptest.ResponseRecorder {
	ctx := context.Background()
	if roles != nil {
		ctx = as("tester", roles...)
	}
	req := httptest.NewRequest("GET", path, nil).WithContext(ctx)
	rec := httptest.NewRecorder()
	e.wb.ServeHTTP(rec, req)
	return rec
}

// signIn signs user in to the real server with a browser-like client.
func (e *env) signIn(t *testing.T, user string) *webtest.Client {
	t.Helper()
	return webtest.SignIn(t, e.srv.URL, user, password)
}

// csrf is the CSRF token in a page.
func csrf(t *testing.T, body string) string {
	t.Helper()
	return webtest.CSRF(t, body)
}

// kept says which generated resources the tests store: what the measures
// and registries read (Observations only of the codes they look at).
func kept(typ string, body []byte, regs []*registry.Definition) bool {
	switch typ {
	case "Patient", "Encounter", "Condition", "Procedure", "Practitioner":
		return true
	case "Observation":
		codes := append(append([]string{}, measure.HbA1cCodes...), measure.BPPanelCodes...)
		for _, d := range regs {
			for _, l := range d.Criteria.Labs {
				codes = append(codes, l.Code)
			}
		}
		for _, c := range codes {
			if strings.Contains(string(body), `"`+c+`"`) {
				return true
			}
		}
	}
	return false
}
