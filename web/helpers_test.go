package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/httpauth"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
	"github.com/custodian-him/custodian/web"
)

const password = "correct horse battery staple"

// env is the workbench behind httpauth on a real store holding a small
// generated hospital.
type env struct {
	t      testing.TB
	st     *store.Store
	acc    *access.Service
	srv    *httptest.Server
	h      *web.Handler
	system context.Context
	// patient is a generated patient with notes and labs; doc one of their
	// notes; scan a document with an image and a PDF added for the test.
	patient, family, mrn, doc, scan string
}

func newEnv(tb testing.TB, patients int) *env {
	tb.Helper()
	e := openEnv(tb, sqldbtest.Open(tb))
	e.load(patients)
	return e
}

// openEnv wires the store, the users and the server over db.
func openEnv(tb testing.TB, db *sqldb.DB) *env {
	tb.Helper()
	ctx := context.Background()
	defs := fhir.R4()
	reg, err := search.NewR4(defs)
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.RegisterParams(ctx, reg.Indexed()); err != nil {
		tb.Fatal(err)
	}
	st := store.New(db, defs, reg)
	st.AuditLog = db
	st.Guard = access.Guard{} // as the server has it
	acc := access.NewService(sqldb.NewAccessStore(db))
	acc.Audit = st
	if err := acc.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	e := &env{t: tb, st: st, acc: acc, system: custodian.NewContextWithActor(ctx, custodian.SystemActor())}
	for name, roles := range map[string][]string{
		"rita": {access.RoleRecordAnalyst}, "paula": {access.RolePrivacyOfficer}, "dana": {access.RoleHIMDirector},
		"cody": {access.RoleCoder}, "audrey": {access.RoleAuditor}, "ada": {access.RoleAdministrator},
	} {
		if _, err := acc.CreateUser(e.system, name, roles, password); err != nil && custodian.ErrorCode(err) != custodian.ECONFLICT {
			tb.Fatal(err)
		}
	}
	h := &web.Handler{Records: st, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	e.h = h
	auth := &httpauth.Handler{Service: acc, Home: "/"}
	e.srv = httptest.NewServer(auth.Wrap(h))
	tb.Cleanup(e.srv.Close)
	return e
}

// load stores a generated hospital and picks a patient with notes.
func (e *env) load(n int) {
	col := &synth.Collector{}
	if _, err := synth.Generate(context.Background(), synth.Config{Patients: n, Seed: 7}, col); err != nil {
		e.t.Fatal(err)
	}
	var batch []map[string]any
	docs := map[string]string{}
	for i, body := range col.Bodies {
		res, err := store.Decode(body)
		if err != nil {
			e.t.Fatal(err)
		}
		batch = append(batch, res)
		if col.Types[i] == "DocumentReference" {
			id, _ := res["id"].(string)
			subj, _ := res["subject"].(map[string]any)
			ref, _ := subj["reference"].(string)
			if p := strings.TrimPrefix(ref, "Patient/"); docs[p] == "" {
				docs[p] = id
			}
		}
	}
	results, err := e.st.PutBatch(e.system, batch)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil {
			e.t.Fatalf("loading the generated hospital: %v", r.Err)
		}
	}
	// The patient with the fullest record (synth names a person's
	// resources "<patient id>-<kind><n>") who has a note.
	size := map[string]int{}
	for _, id := range col.IDs {
		if p, _, ok := strings.Cut(id, "-"); ok {
			size[p]++
		}
	}
	best := -1
	for i, body := range col.Bodies {
		if col.Types[i] != "Patient" {
			continue
		}
		p, _ := store.Decode(body)
		id := p["id"].(string)
		if docs[id] == "" || size[id] <= best {
			continue
		}
		best = size[id]
		e.patient, e.doc = id, docs[id]
		name := p["name"].([]any)[0].(map[string]any)
		e.family = name["family"].(string)
		for _, ident := range p["identifier"].([]any) {
			m := ident.(map[string]any)
			if m["system"] == "https://custodian.example/fhir/mrn" {
				e.mrn = m["value"].(string)
			}
		}
	}
	if e.patient == "" {
		e.t.Fatal("the generated hospital has no patient with a note")
	}
	e.scan = e.addScan()
	e.moveHouse()
}

// moveHouse records a change of address from the registration feed, so
// the patient's registration has a history.
func (e *env) moveHouse() {
	res, err := e.st.Read(e.system, "Patient", e.patient)
	if err != nil {
		e.t.Fatal(err)
	}
	p, _ := store.Decode(res.Body)
	p["address"] = []any{map[string]any{"use": "home", "line": []any{"12 Harbor Lane"}, "city": "Columbus", "state": "OH", "postalCode": "43004"}}
	body, _ := store.Encode(p)
	feed := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "adt-feed", Kind: "system"})
	if _, err := e.st.Update(feed, "Patient", e.patient, body, store.WriteOptions{}); err != nil {
		e.t.Fatal(err)
	}
}

// addScan stores a scanned document (a PNG and a PDF) for the patient.
func (e *env) addScan() string {
	img := image.NewRGBA(image.Rect(0, 0, 240, 120))
	for y := 0; y < 120; y++ {
		for x := 0; x < 240; x++ {
			c := color.RGBA{250, 250, 245, 255}
			if y%20 < 2 && x > 20 && x < 220 {
				c = color.RGBA{40, 40, 60, 255}
			}
			img.Set(x, y, c)
		}
	}
	var pngBuf bytes.Buffer
	png.Encode(&pngBuf, img)
	doc := map[string]any{
		"resourceType": "DocumentReference", "status": "current", "docStatus": "final",
		"type":    map[string]any{"text": "Scanned outside records"},
		"subject": map[string]any{"reference": "Patient/" + e.patient},
		"date":    "2025-01-15T10:00:00-05:00",
		"author":  []any{map[string]any{"display": "Records intake"}},
		"content": []any{
			map[string]any{"attachment": map[string]any{"contentType": "image/png", "title": "Referral letter (scan)", "data": base64.StdEncoding.EncodeToString(pngBuf.Bytes())}},
			map[string]any{"attachment": map[string]any{"contentType": "application/pdf", "title": "Outside discharge summary", "data": base64.StdEncoding.EncodeToString(minimalPDF())}},
		},
	}
	body, err := store.Encode(doc)
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := e.st.Create(e.system, "DocumentReference", body, store.WriteOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.Resource.ID
}

// minimalPDF is a one-page PDF with one line of text.
func minimalPDF() []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		"", // the content stream, below
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	stream := "BT /F1 14 Tf 20 70 Td (Outside discharge summary - synthetic) Tj ET"
	objs[3] = "<< /Length " + itoa(len(stream)) + " >>\nstream\n" + stream + "\nendstream"
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := []int{}
	for i, o := range objs {
		offsets = append(offsets, b.Len())
		b.WriteString(itoa(i+1) + " 0 obj\n" + o + "\nendobj\n")
	}
	xref := b.Len()
	b.WriteString("xref\n0 " + itoa(len(objs)+1) + "\n0000000000 65535 f \n")
	for _, off := range offsets {
		s := itoa(off)
		b.WriteString(strings.Repeat("0", 10-len(s)) + s + " 00000 n \n")
	}
	b.WriteString("trailer\n<< /Size " + itoa(len(objs)+1) + " /Root 1 0 R >>\nstartxref\n" + itoa(xref) + "\n%%EOF\n")
	return b.Bytes()
}

func itoa(n int) string { return strconv.Itoa(n) }

// client is a browser-like HTTP client signed in as user (no redirects
// followed, so tests see them).
type client struct {
	e    *env
	http *http.Client
	csrf string
}

func (e *env) signIn(user string) *client {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	resp, body := c.get("/login")
	if resp.StatusCode != 200 {
		e.t.Fatalf("GET /login: %d", resp.StatusCode)
	}
	tok := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body)
	if tok == nil {
		e.t.Fatal("no csrf token on the sign-in page")
	}
	resp, _ = c.post("/login", url.Values{"username": {user}, "password": {password}, "csrf_token": {tok[1]}})
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("sign-in as %s: %d", user, resp.StatusCode)
	}
	// The session's CSRF token, from the sign-out form every page has.
	_, body = c.get("/patients")
	if m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body); m != nil {
		c.csrf = m[1]
	}
	return c
}

func (c *client) do(req *http.Request) (*http.Response, string) {
	c.e.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (c *client) get(path string) (*http.Response, string) {
	req, _ := http.NewRequest("GET", c.e.srv.URL+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values) (*http.Response, string) {
	req, _ := http.NewRequest("POST", c.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// postCSRF posts form with the session's CSRF token.
func (c *client) postCSRF(path string, form url.Values) (*http.Response, string) {
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("csrf_token", c.csrf)
	return c.post(path, f)
}

// trail returns the audit entries of actor about the test patient.
func (e *env) trail(actor string) []*audit.Entry {
	e.t.Helper()
	all, err := e.st.FindAudit(e.system, audit.Filter{Actor: actor, Patient: e.patient, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return all
}
