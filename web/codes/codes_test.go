package codes_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/codeset"
	"github.com/custodian-him/custodian/drg"
	"github.com/custodian-him/custodian/httpauth"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/web"
	"github.com/custodian-him/custodian/web/codes"
)

const password = "correct horse battery staple"

type env struct {
	set *codeset.Set
	g   *drg.Grouper
	wb  *web.Handler
	srv *httptest.Server
}

func newEnv(t *testing.T) *env {
	set, err := codeset.Load()
	if err != nil {
		t.Fatal(err)
	}
	db, st := sqldbtest.OpenStore(t)
	st.AuditLog = db // refused pages are recorded
	e := &env{set: set, g: drg.New(), wb: &web.Handler{Records: st}}
	e.wb.Modules = append(e.wb.Modules, codes.Module(set, e.g, e.wb))
	acc := access.NewService(sqldb.NewAccessStore(db))
	if err := acc.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := acc.CreateUser(custodian.NewContextWithActor(context.Background(), custodian.SystemActor()), "cody", []string{access.RoleCoder}, password); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer((&httpauth.Handler{Service: acc, Home: "/"}).Wrap(e.wb))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) serve(method, path string, form url.Values, roles ...string) *httptest.ResponseRecorder {
	a := &custodian.Actor{ID: "tester", Kind: access.KindUser, Roles: roles}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body).WithContext(custodian.NewContextWithActor(context.Background(), a))
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	rec := httptest.NewRecorder()
	e.wb.ServeHTTP(rec, req)
	return rec
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func TestCodes(t *testing.T) {
	e := newEnv(t)
	coder := access.RoleCoder
	cm, err := e.set.System(codeset.ICD10CM)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("roles", func(t *testing.T) {
		for _, c := range []struct {
			path string
			role string
			want int
		}{
			{"/codes/", coder, 200}, {"/codes/", access.RoleHIMDirector, 200}, {"/codes/", access.RoleClinician, 200},
			{"/codes/", access.RoleRegistrar, 403}, {"/codes/", access.RoleAdministrator, 403}, {"/codes/drg", access.RoleAuditor, 403},
			{"/codes/drg", coder, 200}, {"/codes/nothing", coder, 404},
		} {
			if rec := e.serve("GET", c.path, nil, c.role); rec.Code != c.want {
				t.Errorf("%s as %s: %d, want %d", c.path, c.role, rec.Code, c.want)
			}
		}
	})

	t.Run("search", func(t *testing.T) {
		for _, q := range []string{"T2DM with neuropathy", "CKD 3a", "e11.9"} {
			want, err := cm.Search(q, codeset.SearchOptions{Limit: 50})
			if err != nil || len(want.Hits) == 0 {
				t.Fatalf("%q: %v", q, err)
			}
			body := e.serve("GET", "/codes/?q="+url.QueryEscape(q), nil, coder).Body.String()
			first := regexp.MustCompile(`<td class="code"><a href="/codes/icd10cm/([A-Z0-9]+)">`).FindStringSubmatch(body)
			if first == nil || first[1] != want.Hits[0].Concept.Code() {
				t.Errorf("%q: the first hit is %v, the code set's is %s", q, first, want.Hits[0].Concept.Code())
			}
			if n := strings.Count(body, `<td class="code"><a href=`); n != len(want.Hits) {
				t.Errorf("%q: %d hits shown, want %d", q, n, len(want.Hits))
			}
		}
		pcs := e.serve("GET", "/codes/?system=icd10pcs&q="+url.QueryEscape("appendectomy laparoscopic"), nil, coder).Body.String()
		if !strings.Contains(pcs, `href="/codes/icd10pcs/0DT`) {
			t.Error("a PCS search finds no resection of the appendix")
		}
		if body := e.serve("GET", "/codes/?q="+strings.Repeat("x", 600), nil, coder).Body.String(); !strings.Contains(body, `id="search-error"`) {
			t.Error("an over-long search is not refused with a message")
		}
		if rec := e.serve("GET", "/codes/?q=x&system=snomed", nil, coder); rec.Code != 400 {
			t.Errorf("an unknown code set: %d", rec.Code)
		}
		if rec := e.serve("GET", "/codes/?q=x&date=yesterday", nil, coder); rec.Code != 400 {
			t.Errorf("a malformed date: %d", rec.Code)
		}
	})

	t.Run("concept", func(t *testing.T) {
		c, _ := cm.Lookup("E11.9")
		body := e.serve("GET", "/codes/icd10cm/E11.9", nil, coder).Body.String()
		if !strings.Contains(body, esc(c.Title())) || !strings.Contains(body, "<strong>Billable</strong>") || !strings.Contains(body, `href="/codes/icd10cm/E11"`) {
			t.Errorf("E11.9's page lacks its title, status or parent")
		}
		for _, n := range c.Notes() {
			if n.Kind != codeset.NoteSeventh && !strings.Contains(body, esc(n.Text)) {
				t.Errorf("E11.9's page lacks the note %q", n.Text)
			}
		}
		if !strings.Contains(body, "from E11") && !strings.Contains(body, "from block") && !strings.Contains(body, "from chapter") {
			t.Error("no note says where it is inherited from")
		}
		parent, _ := cm.Lookup("E11")
		body = e.serve("GET", "/codes/icd10cm/E11", nil, coder).Body.String()
		if n := strings.Count(body, `<li><a href="/codes/icd10cm/E11`); n != len(parent.Children()) || !strings.Contains(body, "<strong>Header</strong>") {
			t.Errorf("E11 lists %d codes below, want %d", n, len(parent.Children()))
		}
		if body := e.serve("GET", "/codes/icd10cm/S72.001", nil, coder).Body.String(); !strings.Contains(body, "needs a 7th character") || !strings.Contains(body, `id="seventh"`) {
			t.Error("S72.001 does not say it needs a 7th character")
		}
		rec := e.serve("GET", "/codes/icd10cm/E11.99", nil, coder)
		if rec.Code != 404 || !strings.Contains(rec.Body.String(), "nearest code above") {
			t.Errorf("an unknown code: %d", rec.Code)
		}
	})

	t.Run("drg", func(t *testing.T) {
		form := url.Values{"age": {"72"}, "sex": {"F"}, "status": {"01"}, "version": {"v43.1"}, "pdx": {"j18.9"}, "pdx_poa": {"Y"},
			"sdx": {"N17.9 Y\nE11.9:Y\n\nI10, Y"}, "procedures": {""}}
		var c drg.Claim
		if err := c.ParseFields("72", "F", "01", "J189:Y", "N179:Y|E119:Y|I10:Y", ""); err != nil {
			t.Fatal(err)
		}
		want, err := e.g.Group(&c, drg.Options{Version: "v43.1", Explain: true})
		if err != nil {
			t.Fatal(err)
		}
		body := e.serve("POST", "/codes/drg", form, coder).Body.String()
		if !strings.Contains(body, `<dd id="final-drg">`+strconv.Itoa(want.Final.DRG)+" — ") {
			t.Errorf("the page does not give DRG %d", want.Final.DRG)
		}
		if n := strings.Count(body, "<tr><td class=\"code\">"); n != 4 {
			t.Errorf("%d diagnosis rows, want 4", n)
		}
		if !strings.Contains(body, `id="formula"`) || !strings.Contains(body, "No weights table is loaded") {
			t.Error("the page lacks the formula or the weights notice")
		}
		if want.Explanation.Diagnoses[1].Severity != "" && !strings.Contains(body, "<td>"+want.Explanation.Diagnoses[1].Severity+"</td>") {
			t.Errorf("N17.9's severity %s is not shown", want.Explanation.Diagnoses[1].Severity)
		}
		for _, bad := range []url.Values{{"age": {"old"}, "pdx": {"J18.9"}, "status": {"01"}}, {"age": {"40"}, "pdx": {""}, "status": {"01"}},
			{"age": {"40"}, "pdx": {"J18.9"}, "status": {"01"}, "sdx": {"N17.9 Q"}}, {"age": {"400"}, "pdx": {"J18.9"}, "status": {"01"}}} {
			if body := e.serve("POST", "/codes/drg", bad, coder).Body.String(); !strings.Contains(body, `id="drg-error"`) || strings.Contains(body, `id="result"`) {
				t.Errorf("%v is not refused with a message", bad)
			}
		}
	})

	// Over the real server, the grouping form needs its CSRF token.
	t.Run("csrf", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
		get := func(path string) string {
			resp, err := c.Get(e.srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return string(b)
		}
		m := token.FindStringSubmatch(get("/login"))
		resp, err := c.PostForm(e.srv.URL+"/login", url.Values{"username": {"cody"}, "password": {password}, "csrf_token": {m[1]}})
		if err != nil || resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: %v", err)
		}
		m = token.FindStringSubmatch(get("/codes/drg"))
		form := url.Values{"age": {"50"}, "sex": {"M"}, "status": {"01"}, "pdx": {"I21.4"}}
		resp, err = c.PostForm(e.srv.URL+"/codes/drg", form)
		if err != nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("grouping without the token: %v %v", resp.StatusCode, err)
		}
		form.Set("csrf_token", m[1])
		resp, err = c.PostForm(e.srv.URL+"/codes/drg", form)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("grouping with the token: %v %v", resp.StatusCode, err)
		}
	})
}
