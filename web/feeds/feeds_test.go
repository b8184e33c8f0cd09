package feeds_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/httpauth"
	"github.com/custodian-him/custodian/ingest/hl7v2"
	"github.com/custodian-him/custodian/ingest/mllp"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/web"
	"github.com/custodian-him/custodian/web/feeds"
)

const password = "correct horse battery staple"

var feedActor = &custodian.Actor{ID: "hl7-feed", Kind: "system"}

// adt is a made-up ADT message (no real person).
func adt(event, control, mrn string) []byte {
	return []byte("MSH|^~\\&|ADT|HOSP|CUST|HIM|20250301||ADT^" + event + "|" + control + "|P|2.5.1\r" +
		"EVN|" + event + "|20250301\r" +
		"PID|1||" + mrn + "^^^HOSP^MR||TESTPERSON^ALEX||19800101|F\r" +
		"PV1|1|I|W1^101^A\r")
}

// merge is an A40: refused while no master patient index is connected.
func merge(control string) []byte {
	return []byte("MSH|^~\\&|ADT|HOSP|CUST|HIM|20250301||ADT^A40|" + control + "|P|2.5.1\r" +
		"EVN|A40|20250301\r" +
		"PID|1||M100^^^HOSP^MR||TESTPERSON^ALEX||19800101|F\r" +
		"MRG|M200^^^HOSP^MR\r")
}

type mpi struct{ merges int }

func (m *mpi) ChangeIdentity(context.Context, *hl7v2.IdentityChange) error { m.merges++; return nil }

type env struct {
	st      *store.Store
	wb      *web.Handler
	srv     *httptest.Server
	live    *mllp.Server
	handler *mllp.StoreHandler
	mpi     *mpi
}

// newEnv stores four messages and two dead letters (a merge the feed
// cannot apply yet and an order message it does not take).
func newEnv(t *testing.T) *env {
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
	e := &env{st: st, live: &mllp.Server{}, mpi: &mpi{}}
	e.handler = &mllp.StoreHandler{Store: st, Mapper: hl7v2.NewMapper(nil), Actor: feedActor}
	dl := &mllp.StoreDeadLetters{Store: st, Actor: feedActor}
	for i, raw := range [][]byte{adt("A01", "C1", "P1"), adt("A01", "C2", "P2"), adt("A01", "C3", "P3"), adt("A03", "C4", "P1"),
		merge("C5"), []byte("MSH|^~\\&|LAB|HOSP|CUST|HIM|20250301||ORM^O01|C6|P|2.5.1\rPID|1||P1^^^HOSP^MR\r")} {
		m, err := hl7v2.Parse(raw)
		if err == nil {
			err = e.handler.Handle(ctx, m, raw)
		}
		if err == nil {
			e.live.Accepted.Add(1)
			e.live.Batches.Add(1)
			e.live.Batched.Add(2) // as if each commit had carried two messages
			continue
		}
		if i < 4 {
			t.Fatalf("message %d: %v", i, err)
		}
		e.live.Errors.Add(1)
		l := &mllp.DeadLetter{Raw: raw, Code: hl7v2.AckCode("AE"), Reason: custodian.ErrorMessage(err), Remote: "10.0.0.9:40000", Received: time.Now()}
		if m != nil {
			l.Header = m.Header()
		}
		if err := dl.Put(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	e.live.Duplicates.Add(2)
	acc := access.NewService(sqldb.NewAccessStore(db))
	acc.Audit = st
	if err := acc.Open(ctx); err != nil {
		t.Fatal(err)
	}
	sys := custodian.NewContextWithActor(ctx, custodian.SystemActor())
	for name, roles := range map[string][]string{"dana": {access.RoleHIMDirector}, "ada": {access.RoleAdministrator}} {
		if _, err := acc.CreateUser(sys, name, roles, password); err != nil {
			t.Fatal(err)
		}
	}
	// Replays go through a handler that has the master patient index.
	replayer := &mllp.StoreHandler{Store: st, Mapper: hl7v2.NewMapper(nil), Actor: feedActor, Identity: e.mpi}
	e.wb = &web.Handler{Records: st}
	e.wb.Modules = append(e.wb.Modules, feeds.Module(feeds.Feed{Store: st, Server: e.live, Handler: replayer, Actor: feedActor}, e.wb))
	e.srv = httptest.NewServer((&httpauth.Handler{Service: acc, Home: "/"}).Wrap(e.wb))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) serve(method, path string, roles ...string) *httptest.ResponseRecorder {
	a := &custodian.Actor{ID: "tester", Kind: access.KindUser, Roles: roles}
	req := httptest.NewRequest(method, path, nil).WithContext(custodian.NewContextWithActor(context.Background(), a))
	rec := httptest.NewRecorder()
	e.wb.ServeHTTP(rec, req)
	return rec
}

func TestFeeds(t *testing.T) {
	e := newEnv(t)
	director, admin := access.RoleHIMDirector, access.RoleAdministrator

	t.Run("roles", func(t *testing.T) {
		for _, c := range []struct {
			method, path, role string
			want               int
		}{
			{"GET", "/feeds/", director, 200}, {"GET", "/feeds/", admin, 200}, {"GET", "/feeds/", access.RoleCoder, 403},
			{"GET", "/feeds/", access.RoleRecordAnalyst, 403}, {"POST", "/feeds/replay", admin, 403},
			{"POST", "/feeds/replay", access.RoleClinician, 403}, {"GET", "/feeds/replay", director, 404},
		} {
			if rec := e.serve(c.method, c.path, c.role); rec.Code != c.want {
				t.Errorf("%s %s as %s: %d, want %d", c.method, c.path, c.role, rec.Code, c.want)
			}
		}
	})

	t.Run("director", func(t *testing.T) {
		body := e.serve("GET", "/feeds/", director).Body.String()
		for _, want := range []string{
			`id="received">4<`, `id="refused">2<`, `id="rate">33.33%<`,
			`<th scope="row" class="code">ADT^A01</th><td class="n">3</td><td class="n">0</td>`,
			`<th scope="row" class="code">ADT^A03</th><td class="n">1</td><td class="n">0</td>`,
			`<th scope="row" class="code">ADT^A40</th><td class="n">0</td><td class="n">1</td>`,
			`<td class="code">ORM^O01</td>`, // counted as other, listed as a dead letter
			`<th scope="row" class="code">other</th><td class="n">0</td><td class="n">1</td>`,
			"master patient index", `id="replay"`, "<dt>Accepted (AA)</dt><dd>4</dd>", "<dt>Duplicates</dt><dd>2</dd>",
			`<span id="per-commit">2.0</span> messages stored per commit`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %s", want)
			}
		}
		if strings.Contains(body, "TESTPERSON") || strings.Contains(body, "MSH|") {
			t.Error("the page shows a message's content")
		}
	})

	t.Run("administrator", func(t *testing.T) {
		body := e.serve("GET", "/feeds/", admin).Body.String()
		if !strings.Contains(body, `id="live"`) || strings.Contains(body, `id="types"`) || strings.Contains(body, `id="dead-letters"`) || strings.Contains(body, `id="replay"`) {
			t.Errorf("the administrator's page shows the wrong parts:\n%s", body)
		}
	})

	// Over the real server: the replay needs the form's CSRF token; with
	// it, the merge is stored now and the order message stays refused.
	t.Run("replay", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		get := func(path string) string {
			resp, err := c.Get(e.srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return string(b)
		}
		post := func(path string, form url.Values) (int, string) {
			resp, err := c.PostForm(e.srv.URL+path, form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
		m := token.FindStringSubmatch(get("/login"))
		if code, _ := post("/login", url.Values{"username": {"dana"}, "password": {password}, "csrf_token": {m[1]}}); code != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", code)
		}
		page := get("/feeds/")
		i := strings.Index(page, `action="/feeds/replay"`)
		if i < 0 {
			t.Fatal("no replay form")
		}
		if m = token.FindStringSubmatch(page[i:]); m == nil {
			t.Fatal("no replay form with a CSRF token")
		}
		if code, _ := post("/feeds/replay", url.Values{}); code != http.StatusForbidden || e.mpi.merges != 0 {
			t.Fatalf("a replay without the CSRF token: %d, %d merges", code, e.mpi.merges)
		}
		code, body := post("/feeds/replay", url.Values{"csrf_token": {m[1]}})
		if code != 200 || !strings.Contains(body, "1 message stored now, 1 still refused") || e.mpi.merges != 1 {
			t.Fatalf("replay: %d, %d merges\n%s", code, e.mpi.merges, body)
		}
		if !strings.Contains(body, `id="refused">1<`) || !strings.Contains(body, `id="received">5<`) {
			t.Error("the page after the replay does not count the merge as stored")
		}
		entries, err := e.st.FindAudit(custodian.NewContextWithActor(context.Background(), custodian.SystemActor()), audit.Filter{Actor: "dana", Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		asked := false
		for _, en := range entries {
			asked = asked || strings.Contains(en.Query, "replay")
		}
		if !asked {
			t.Error("the audit trail does not say dana asked for the replay")
		}
	})
}
