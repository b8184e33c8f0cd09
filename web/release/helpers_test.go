package release_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/blob"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/httpauth"
	"github.com/custodian-him/custodian/roi"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/web"
	"github.com/custodian-him/custodian/web/internal/webtest"
	"github.com/custodian-him/custodian/web/release"
)

const password = "correct horse battery staple"

// clock is the tests' today.
var clock = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

var (
	regOnce sync.Once
	reg     *search.Registry
)

// env is one patient's chart in a real store, roi over it, and the
// workbench with the release pages behind httpauth, with the FHIR API's
// Binary read at /fhir/ as in the binary.
type env struct {
	t       testing.TB
	st      *store.Store
	svc     *roi.Service
	wb      *web.Handler
	srv     *httptest.Server
	sys     context.Context
	patient string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	regOnce.Do(func() {
		var err error
		if reg, err = search.NewR4(fhir.R4()); err != nil {
			panic(err)
		}
	})
	db := sqldbtest.Open(t)
	if err := db.RegisterParams(ctx, reg.Indexed()); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, fhir.R4(), reg)
	st.AuditLog, st.Guard = db, access.Guard{}
	blobs, err := blob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, sys: custodian.NewContextWithActor(ctx, custodian.SystemActor())}
	e.svc = &roi.Service{Store: st, Blobs: blobs, Organization: "Riverside General Hospital", Now: func() time.Time { return clock }}
	e.patient = e.create(`{"resourceType":"Patient","name":[{"use":"official","family":"Okafor","given":["Amara"]}],"birthDate":"1971-04-02","gender":"female",` +
		`"identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"system":"https://custodian.example/fhir/mrn","value":"MRN-4471"}]}`)
	e.create(note("2025-06-01", "Discharge summary", "Admitted for community acquired pneumonia.", ""))
	e.create(note("2025-09-15", "Clinic note", "Follow-up visit, lungs clear.", ""))
	e.create(note("2019-02-01", "Clinic note", "Old visit.", ""))
	e.create(note("2025-07-20", "Substance use treatment note", "Methadone maintenance.", "ETHUD"))
	e.create(`{"resourceType":"Condition","subject":{"reference":"Patient/PATIENT"},"recordedDate":"2025-06-01",` +
		`"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J18.9","display":"Pneumonia, unspecified organism"}]}}`)

	acc := access.NewService(sqldb.NewAccessStore(db))
	acc.Audit = st
	if err := acc.Open(ctx); err != nil {
		t.Fatal(err)
	}
	for name, roles := range users {
		if _, err := acc.CreateUser(e.sys, name, roles, password); err != nil {
			t.Fatal(err)
		}
	}
	e.wb = &web.Handler{Records: st, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)), Now: func() time.Time { return clock }}
	e.wb.Modules = append(e.wb.Modules, release.Module(e.svc, e.wb))
	bins := &fhirapi.Binaries{Store: st, Blobs: blobs}
	mux := http.NewServeMux()
	mux.Handle("/fhir/", bins.Wrap(http.NotFoundHandler()))
	mux.Handle("/", e.wb)
	auth := &httpauth.Handler{Service: acc, Home: "/"}
	e.srv = httptest.NewServer(auth.Wrap(mux))
	t.Cleanup(e.srv.Close)
	return e
}

// users are the workbench's users and their roles.
var users = map[string][]string{
	"rita": {access.RoleROISpecialist}, "dana": {access.RoleHIMDirector}, "paula": {access.RolePrivacyOfficer},
	"cody": {access.RoleCoder},
}

func (e *env) create(body string) string {
	e.t.Helper()
	body = strings.ReplaceAll(body, "PATIENT", e.patient)
	var v struct{ ResourceType string }
	json.Unmarshal([]byte(body), &v)
	out, err := e.st.Create(e.sys, v.ResourceType, []byte(body), store.WriteOptions{})
	if err != nil {
		e.t.Fatalf("create %s: %v", v.ResourceType, err)
	}
	return out.Resource.ID
}

// note is a text/plain DocumentReference; security is a v3 ActCode
// meta.security label, or "".
func note(date, title, text, security string) string {
	meta := ""
	if security != "" {
		meta = `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"` + security + `"}]},`
	}
	return `{"resourceType":"DocumentReference",` + meta + `"status":"current","docStatus":"final","type":{"text":"` + title + `"},` +
		`"subject":{"reference":"Patient/PATIENT"},"date":"` + date + `T10:00:00Z","author":[{"display":"Dr. Lena Marsh"}],` +
		`"content":[{"attachment":{"contentType":"text/plain","data":"` + base64.StdEncoding.EncodeToString([]byte(text)) + `"}}]}`
}

func specialist() context.Context {
	return custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "rita", Kind: access.KindUser, Roles: []string{access.RoleROISpecialist}})
}

// authorize stores the attorney's authorization, changed by mod.
func (e *env) authorize(mod func(a *roi.Authorization)) *roi.Authorization {
	e.t.Helper()
	a := &roi.Authorization{Patient: e.patient, Recipient: "Baker & Lowe LLP", Purposes: []string{"HLEGAL"},
		From: day("2025-01-01"), To: day("2025-12-31"), Types: []string{"DocumentReference", "Condition"},
		Signed: day("2026-02-01"), Expires: day("2026-08-01")}
	if mod != nil {
		mod(a)
	}
	out, err := e.svc.Authorize(specialist(), a)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// submit stores the attorney's request under authorization a, changed by
// mod.
func (e *env) submit(a string, mod func(r *roi.Request)) *roi.Request {
	e.t.Helper()
	r := &roi.Request{Patient: e.patient, RequesterKind: roi.Attorney, RequesterName: "Baker & Lowe LLP", Purpose: "HLEGAL", Authorization: a,
		From: day("2025-01-01"), To: day("2025-12-31"), Types: []string{"DocumentReference", "Condition"}, Received: day("2026-03-02")}
	if mod != nil {
		mod(r)
	}
	out, err := e.svc.Submit(specialist(), r)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// serve serves a request to the workbench directly, as a user with roles.
func (e *env) serve(method, path string, form url.Values, roles ...string) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body).WithContext(custodian.NewContextWithActor(context.Background(),
		&custodian.Actor{ID: "tester", Kind: access.KindUser, Roles: roles}))
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	rec := httptest.NewRecorder()
	e.wb.ServeHTTP(rec, req)
	return rec
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
	_, body := c.Get(t, "/roi/queue")
	if c.csrf = webtest.FindCSRF(body); c.csrf == "" {
		t.Fatalf("no CSRF token on the queue of %s:\n%s", user, body)
	}
	return c
}

func (c *client) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	return c.Get(t, path)
}

// post posts form with the session's CSRF token (unless form sets one).
func (c *client) post(t *testing.T, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	if _, ok := form["csrf_token"]; !ok && c.csrf != "" {
		form.Set("csrf_token", c.csrf)
	}
	return c.Post(t, path, form)
}
