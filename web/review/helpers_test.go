package review_test

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
	"github.com/custodian-him/custodian/chart"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/httpauth"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
	"github.com/custodian-him/custodian/web"
	"github.com/custodian-him/custodian/web/internal/webtest"
	"github.com/custodian-him/custodian/web/review"
)

const password = "correct horse battery staple"

// asOf is the generated hospital's last day: the clock of the review.
var asOf = time.Date(2025, 9, 30, 12, 0, 0, 0, time.UTC)

// env is a generated hospital in a real store, reviewed by a chart
// reviewer, behind the workbench and httpauth.
type env struct {
	t   testing.TB
	st  *store.Store
	rv  *chart.Reviewer
	wb  *web.Handler
	srv *httptest.Server
	sys context.Context
	// stripped is the stay whose admission source was removed; unsigned
	// the note whose signature was.
	stripped, unsigned string
}

func newEnv(t testing.TB, patients int) *env {
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
	e := &env{t: t, st: st, sys: custodian.NewContextWithActor(ctx, custodian.SystemActor())}
	col := &synth.Collector{}
	if _, err := synth.Generate(ctx, synth.Config{Patients: patients, Seed: 11}, col); err != nil {
		t.Fatal(err)
	}
	var batch []map[string]any
	for i, b := range col.Bodies {
		if col.Types[i] == "Observation" && !strings.Contains(string(b), "vital-signs") {
			continue // laboratory results: many, and no rule here reads them
		}
		m, err := store.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		// One stay loses its admission source: a deficiency no clinician
		// owns, for the analyst to assign.
		if hosp, ok := m["hospitalization"].(map[string]any); ok && e.stripped == "" && discharged(m) {
			if _, ok := hosp["admitSource"]; ok {
				delete(hosp, "admitSource")
				e.stripped = "Encounter/" + col.IDs[i]
			}
		}
		// One signed note of that stay loses its signature: a
		// deficiency about a note, whatever else the sample holds.
		if col.Types[i] == "DocumentReference" && e.unsigned == "" && m["authenticator"] != nil && m["docStatus"] == "final" &&
			e.stripped != "" && strings.Contains(string(b), `"`+e.stripped+`"`) {
			delete(m, "authenticator")
			m["docStatus"] = "preliminary"
			e.unsigned = "DocumentReference/" + col.IDs[i]
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
	e.rv = chart.NewReviewer(st)
	e.rv.Now = func() time.Time { return asOf }
	if err := e.rv.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if sum, err := e.rv.Review(ctx, time.Time{}, asOf); err != nil {
		t.Fatal(err)
	} else {
		t.Logf("review: %+v", sum)
	}
	acc := access.NewService(sqldb.NewAccessStore(db))
	acc.Audit = st
	if err := acc.Open(ctx); err != nil {
		t.Fatal(err)
	}
	for name, roles := range map[string][]string{
		"rita": {access.RoleRecordAnalyst}, "dana": {access.RoleHIMDirector}, "carl": {access.RoleClinician},
		"cody": {access.RoleCoder}, "ada": {access.RoleAdministrator},
	} {
		if _, err := acc.CreateUser(e.sys, name, roles, password); err != nil {
			t.Fatal(err)
		}
	}
	e.wb = &web.Handler{Records: st, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)), Now: func() time.Time { return asOf }}
	e.wb.Modules = append(e.wb.Modules, review.Module(e.rv, e.wb))
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
	req := httptest.NewRequest("GET", path, nil).WithContext(as("tester", roles...))
	rec := httptest.NewRecorder()
	e.wb.ServeHTTP(rec, req)
	return rec
}

// signIn signs user in to the real server with a browser-like client.
func (e *env) signIn(t *testing.T, user string) *webtest.Client {
	t.Helper()
	return webtest.SignIn(t, e.srv.URL, user, password)
}

func discharged(enc map[string]any) bool {
	p, _ := enc["period"].(map[string]any)
	return p != nil && p["end"] != nil
}
