package encoder_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/codeset"
	"github.com/custodian-him/custodian/coding"
	"github.com/custodian-him/custodian/drg"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/httpauth"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
	"github.com/custodian-him/custodian/web"
	"github.com/custodian-him/custodian/web/encoder"
	"github.com/custodian-him/custodian/web/internal/webtest"
)

const password = "correct horse battery staple"

// asOf is the clock of the queue: the generated hospital's last day.
var asOf = time.Date(2025, 9, 30, 12, 0, 0, 0, time.UTC)

var (
	setOnce sync.Once
	codes   *codeset.Set
	sugg    *coding.Suggester
)

// loaded returns the code sets and the suggester, loaded once for all tests.
func loaded(t testing.TB) (*codeset.Set, *coding.Suggester) {
	t.Helper()
	setOnce.Do(func() {
		var err error
		if codes, err = codeset.Load(); err != nil {
			t.Fatal(err)
		}
		if sugg, err = coding.NewSuggester(codes); err != nil {
			t.Fatal(err)
		}
	})
	if codes == nil || sugg == nil {
		t.Fatal("the code sets did not load")
	}
	return codes, sugg
}

// env is a small generated hospital in a real store with the coding
// pages in the workbench behind httpauth.
type env struct {
	st    *store.Store
	q     *coding.Queue
	wb    *web.Handler
	srv   *httptest.Server
	truth map[string]*synth.Fact // the expected coding by "Encounter/id"
}

func newEnv(t testing.TB, patients int) *env {
	t.Helper()
	ctx := context.Background()
	set, s := loaded(t)
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
	sys := custodian.NewContextWithActor(ctx, custodian.SystemActor())
	col := &synth.Collector{}
	if _, err := synth.Generate(ctx, synth.Config{Patients: patients, Seed: 11}, col); err != nil {
		t.Fatal(err)
	}
	var batch []map[string]any
	for i, b := range col.Bodies {
		if col.Types[i] == "Observation" || col.Types[i] == "ImagingStudy" || col.Types[i] == "MedicationRequest" {
			continue // many, and the coding pages read none of them
		}
		m, err := store.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, m)
	}
	res, err := st.PutBatch(sys, batch)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	e := &env{st: st, truth: map[string]*synth.Fact{}}
	for i := range col.Facts {
		if f := &col.Facts[i]; f.Kind == synth.FactCoding {
			e.truth[f.Encounter] = f
		}
	}
	if e.q, err = coding.NewQueue(st, set, drg.New()); err != nil {
		t.Fatal(err)
	}
	e.q.Now = func() time.Time { return asOf }
	acc := access.NewService(sqldb.NewAccessStore(db))
	acc.Audit = st
	if err := acc.Open(ctx); err != nil {
		t.Fatal(err)
	}
	for name, roles := range map[string][]string{
		"cody": {access.RoleCoder}, "dana": {access.RoleHIMDirector}, "rita": {access.RoleRecordAnalyst}, "carl": {access.RoleClinician},
	} {
		if _, err := acc.CreateUser(sys, name, roles, password); err != nil {
			t.Fatal(err)
		}
	}
	e.wb = &web.Handler{Records: st, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), Now: func() time.Time { return asOf }}
	e.wb.Modules = append(e.wb.Modules, encoder.Module(e.wb, e.q, s, set, encoder.KeepFor(0)))
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

// csrf is the CSRF token in a page.
func csrf(t *testing.T, body string) string {
	t.Helper()
	return webtest.CSRF(t, body)
}

// groupTruth groups the generator's expected coding of an encounter.
func groupTruth(t testing.TB, a *coding.Abstract, f *synth.Fact, version string) int {
	t.Helper()
	c := drg.Claim{Age: a.Age, Sex: a.Sex[0], DischargeStatus: a.DischargeStatus}
	conv := func(d synth.DxPOA) drg.Diagnosis {
		poa := byte('1')
		if d.POA != "" {
			poa = d.POA[0]
		}
		return drg.Diagnosis{Code: strings.ReplaceAll(d.Code, ".", ""), POA: poa}
	}
	c.PDx = conv(f.Diagnoses[0])
	for _, d := range f.Diagnoses[1:] {
		c.SDx = append(c.SDx, conv(d))
	}
	c.Procedures = f.Procedures
	res, err := drg.New().Group(&c, drg.Options{Version: version})
	if err != nil {
		t.Fatal(err)
	}
	return res.Final.DRG
}
