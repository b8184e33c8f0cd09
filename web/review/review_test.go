package review_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/chart"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/web"
	"github.com/custodian-him/custodian/web/review"
)

var rowRE = regexp.MustCompile(`(?s)<tr(?: class="delinquent")?>\s*<td class="n">`)

// rows counts the deficiencies a list page shows.
func rows(body string) int { return len(rowRE.FindAllString(body, -1)) }

// TestPages checks each page against the reviewer's own answers: who may
// open it, what it lists, how the filters narrow it, and the report's
// figures.
func TestPages(t *testing.T) {
	e := newEnv(t, 60)
	all := e.rv.Queue(chart.QueueFilter{})
	if len(all) < 5 {
		t.Fatalf("the test hospital has %d open deficiencies; the tests need a few", len(all))
	}
	analyst, director, clinician := access.RoleRecordAnalyst, access.RoleHIMDirector, access.RoleClinician

	t.Run("roles", func(t *testing.T) {
		for _, c := range []struct {
			path string
			role string
			want int
		}{
			{"/review/queue", analyst, 200}, {"/review/queue", director, 200}, {"/review/queue", clinician, 403},
			{"/review/queue", access.RoleCoder, 403}, {"/review/queue", access.RoleAdministrator, 403},
			{"/review/report", analyst, 200}, {"/review/report", director, 200}, {"/review/report", clinician, 403},
			{"/review/clinician", clinician, 200}, {"/review/clinician", analyst, 200}, {"/review/clinician", access.RoleCoder, 403},
			{"/review/nothing", analyst, 404}, {"/review/", analyst, 303},
		} {
			if rec := e.get(c.path, c.role); rec.Code != c.want {
				t.Errorf("%s as %s: %d, want %d", c.path, c.role, rec.Code, c.want)
			}
		}
		for role, want := range map[string]string{analyst: "/review/queue", clinician: "/review/clinician", director: "/dashboard"} {
			if got := e.get("/", role).Header().Get("Location"); got != want {
				t.Errorf("%s lands on %q, want %q", role, got, want)
			}
		}
		if body := e.get("/patients", access.RoleCoder).Body.String(); strings.Contains(body, "/review/") {
			t.Error("a coder is offered the review pages")
		}
	})

	t.Run("queue", func(t *testing.T) {
		body := e.get("/review/queue", analyst).Body.String()
		if n := rows(body); n != len(all) {
			t.Errorf("the queue shows %d deficiencies, the reviewer has %d", n, len(all))
		}
		for _, it := range all {
			pid := strings.TrimPrefix(it.Patient, "Patient/")
			for _, want := range []string{`href="/patients/` + pid + `"`, esc(it.Evidence), esc(it.Clear), esc(it.Title), "rule " + it.Rule} {
				if !strings.Contains(body, want) {
					t.Errorf("the queue lacks %q of %s", want, it.Key)
				}
			}
			if doc, ok := strings.CutPrefix(it.Focus, "DocumentReference/"); ok && !strings.Contains(body, `/patients/`+pid+`/documents/`+doc) {
				t.Errorf("no link to the note of %s", it.Key)
			}
		}
		if strings.Contains(body, "Restricted record") {
			t.Error("an analyst is told a patient's record is restricted")
		}
	})

	t.Run("filters", func(t *testing.T) {
		kind := all[0].Kind
		want := e.rv.Queue(chart.QueueFilter{Kind: kind})
		body := e.get("/review/queue?kind="+url.QueryEscape(kind), analyst).Body.String()
		if n := rows(body); n != len(want) || n == len(all) {
			t.Errorf("kind %s: %d rows, want %d (of %d)", kind, n, len(want), len(all))
		}
		// Unassigned: the stay this test stripped of its admission source,
		// and whatever the generator left without an attending.
		unassigned := e.rv.Queue(chart.QueueFilter{Unassigned: true})
		body = e.get("/review/queue?unassigned=1", analyst).Body.String()
		if n := rows(body); n != len(unassigned) || n == 0 || !strings.Contains(body, "unassigned") || !strings.Contains(body, "admission source") {
			t.Errorf("unassigned: %d rows, want %d, among them the stay without its admission source (%s)", n, len(unassigned), e.stripped)
		}
		for _, it := range unassigned {
			if it.Owner != "" {
				t.Errorf("%s is listed as unassigned but belongs to %s", it.Key, it.Owner)
			}
		}
		for _, sort := range []string{"due", "owner", "service"} {
			if n := rows(e.get("/review/queue?sort="+sort, analyst).Body.String()); n != len(all) {
				t.Errorf("sorted by %s: %d rows", sort, n)
			}
		}
		for _, bad := range []string{"sort=random", "owner=Patient%2F1", "page=0", "page=x"} {
			if rec := e.get("/review/queue?"+bad, analyst); rec.Code != 400 {
				t.Errorf("%s: %d, want 400", bad, rec.Code)
			}
		}
	})

	t.Run("clinician", func(t *testing.T) {
		owner := ""
		for _, it := range all {
			if it.Owner != "" {
				owner = it.Owner
				break
			}
		}
		want := e.rv.ClinicianList(owner)
		body := e.get("/review/clinician?owner="+url.QueryEscape(owner), clinician).Body.String()
		if n := rows(body); n != len(want) || n == 0 {
			t.Errorf("%s's list: %d rows, want %d", owner, n, len(want))
		}
		if !strings.Contains(body, "not yet linked") {
			t.Error("a clinician is not told why they choose themselves")
		}
		if !strings.Contains(body, `<option value="`+owner+`" selected>`) {
			t.Error("the chosen clinician is not selected in the picker")
		}
		if rec := e.get("/review/clinician?owner=x", clinician); rec.Code != 400 {
			t.Errorf("a malformed clinician: %d", rec.Code)
		}
	})

	t.Run("report", func(t *testing.T) {
		body := e.get("/review/report?from=2024-10&to=2025-09", director).Body.String()
		months := e.rv.Delinquency(time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 9, 30, 23, 0, 0, 0, time.UTC), time.UTC)
		if len(months) != 12 {
			t.Fatalf("the reviewer gives %d months", len(months))
		}
		rowsRE := regexp.MustCompile(`<tr><th scope="row">(\d{4}-\d\d)</th><td class="n">(\d+)</td><td class="n">(\d+)</td>`)
		got := rowsRE.FindAllStringSubmatch(body, -1)
		if len(got) != 12 {
			t.Fatalf("the report has %d month rows", len(got))
		}
		some := false
		for i, m := range months {
			if got[i][1] != m.Month || got[i][2] != itoa(m.Discharges) || got[i][3] != itoa(m.Delinquent) {
				t.Errorf("month %d: %v, want %s %d %d", i, got[i][1:], m.Month, m.Discharges, m.Delinquent)
			}
			some = some || m.Delinquent > 0
		}
		if !some {
			t.Error("no month has a delinquent record: the test shows nothing")
		}
		if !strings.Contains(body, `<svg class="chart"`) || !strings.Contains(body, `id="tallies"`) {
			t.Error("the report lacks its chart or its tallies")
		}
		for _, x := range e.rv.Tallies() {
			if x.Owner != "" && !strings.Contains(body, strings.TrimPrefix(x.Owner, "Practitioner/")+`">`) {
				t.Errorf("the tallies lack %s", x.Owner)
			}
		}
		for _, bad := range []string{"from=2025-13", "from=2025-09&to=2024-01", "to=yesterday", "from=1990-01&to=2025-01"} {
			if rec := e.get("/review/report?"+bad, analyst); rec.Code != 400 {
				t.Errorf("%s: %d, want 400", bad, rec.Code)
			}
		}
	})

	t.Run("dashboard card", func(t *testing.T) {
		delinquent := map[string]bool{}
		for _, it := range all {
			if it.Delinquent {
				delinquent[it.Encounter] = true
			}
		}
		body := e.get("/dashboard", director).Body.String()
		if !strings.Contains(body, `<strong id="delinquent-records">`+itoa(len(delinquent))+`</strong>`) {
			t.Errorf("the dashboard's card does not say %d delinquent records", len(delinquent))
		}
		if strings.Contains(e.get("/dashboard", access.RolePrivacyOfficer).Body.String(), "delinquent-records") {
			t.Error("the privacy officer's dashboard has the chart completion card")
		}
	})

	// Over the real server: the analyst's view of the queue is in the
	// audit trail as a search of the patients it lists.
	t.Run("audited", func(t *testing.T) {
		c := e.signIn(t, "rita")
		resp, body := c.Get(t, "/review/queue")
		if resp.StatusCode != 200 || rows(body) != len(all) {
			t.Fatalf("queue over the server: %d, %d rows", resp.StatusCode, rows(body))
		}
		entries, err := e.st.FindAudit(e.sys, audit.Filter{Actor: "rita", Patient: strings.TrimPrefix(all[0].Patient, "Patient/"), Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			t.Error("the queue's view of a patient is not in the audit trail")
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

// esc is how html/template writes s in text.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// hiding is the store as a user who may not see one patient's record
// sees it: searches leave that record out.
type hiding struct {
	web.Records
	patient string
}

func (h hiding) Search(ctx context.Context, q *store.Query) (*store.SearchPage, error) {
	p, err := h.Records.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	out := *p
	out.Resources = nil
	for _, r := range p.Resources {
		if !(r.Type == "Patient" && r.ID == h.patient) {
			out.Resources = append(out.Resources, r)
		}
	}
	return &out, nil
}

// A deficiency of a record the user may not see is listed without its
// evidence, with a link to the chart (where the glass can be broken).
func TestRestrictedRecord(t *testing.T) {
	e := newEnv(t, 60)
	all := e.rv.Queue(chart.QueueFilter{})
	hidden := all[0]
	pid := strings.TrimPrefix(hidden.Patient, "Patient/")
	wb := &web.Handler{Records: hiding{e.st, pid}}
	wb.Modules = []web.Module{review.Module(e.rv, wb)}
	req := httptest.NewRequest("GET", "/review/queue", nil).WithContext(as("rita", access.RoleRecordAnalyst))
	rec := httptest.NewRecorder()
	wb.ServeHTTP(rec, req)
	body := rec.Body.String()
	if !strings.Contains(body, `<a href="/patients/`+pid+`">Restricted record</a>`) {
		t.Error("the hidden patient's deficiency does not say the record is restricted")
	}
	for _, it := range all {
		if it.Patient == hidden.Patient && strings.Contains(body, esc(it.Evidence)) {
			t.Errorf("the evidence of %s is shown", it.Key)
		}
	}
	if n := strings.Count(body, "Withheld:"); n != countOf(all, hidden.Patient) {
		t.Errorf("%d deficiencies withheld, want %d", n, countOf(all, hidden.Patient))
	}
}

func countOf(items []*chart.Item, patient string) int {
	n := 0
	for _, it := range items {
		if it.Patient == patient {
			n++
		}
	}
	return n
}
