package encoder_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/coding"
	"github.com/custodian-him/custodian/drg"
	"github.com/custodian-him/custodian/web/internal/webtest"
)

// patients is the size of the generated hospital of the tests: enough
// for a dozen inpatient stays.
const patients = 30

func TestRoles(t *testing.T) {
	e := newEnv(t, patients)
	list, err := e.q.DNFB(as("cody", access.RoleCoder))
	if err != nil || len(list) == 0 {
		t.Fatalf("DNFB: %d, %v", len(list), err)
	}
	enc := "/coding/encounters/" + strings.TrimPrefix(list[0].Encounter, "Encounter/")
	for _, tc := range []struct {
		path string
		role string
		want int
	}{
		{"/coding/", access.RoleCoder, 200},
		{"/coding/", access.RoleHIMDirector, 200},
		{"/coding/", access.RoleRecordAnalyst, 403},
		{"/coding/", access.RoleClinician, 403},
		{"/coding/", access.RoleROISpecialist, 403},
		{enc, access.RoleCoder, 200},
		{enc, access.RoleHIMDirector, 200},
		{enc, access.RoleRecordAnalyst, 403},
		{enc, access.RolePrivacyOfficer, 403},
		{"/coding/encounters/no-such-stay", access.RoleCoder, 404},
		{"/coding/nothing-here", access.RoleCoder, 404},
		{"/coding/?sort=patient", access.RoleCoder, 200},
		{"/coding/?page=0", access.RoleCoder, 400},
		{"/coding/?page=x", access.RoleCoder, 400},
		{"/coding/?page=2", access.RoleCoder, 404}, // fewer than a page of stays
	} {
		if rec := e.get(tc.path, tc.role); rec.Code != tc.want {
			t.Errorf("GET %s as %s: %d, want %d", tc.path, tc.role, rec.Code, tc.want)
		}
	}
	// A coder lands on the queue; the director on the dashboard.
	if rec := e.get("/", access.RoleCoder); rec.Header().Get("Location") != "/coding/" {
		t.Errorf("a coder lands on %q", rec.Header().Get("Location"))
	}
	if rec := e.get("/", access.RoleHIMDirector); rec.Header().Get("Location") != "/dashboard" {
		t.Errorf("the director lands on %q", rec.Header().Get("Location"))
	}
	// Signed out: sent to sign in. Signed in without a CSRF token: refused.
	jar := &webtest.Client{Base: e.srv.URL, HTTP: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if resp, _ := jar.Get(t, "/coding/"); resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("signed out: %d", resp.StatusCode)
	}
	c := e.signIn(t, "cody")
	resp, _ := c.Post(t, enc, url.Values{"action": {"update"}, "dx_code": {"J18.9"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST without a CSRF token: %d, want 403", resp.StatusCode)
	}
	_, page := c.Get(t, enc)
	resp, _ = c.Post(t, enc, url.Values{"action": {"update"}, "dx_code": {"J18.9"}, "csrf_token": {"forged" + csrf(t, page)}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST with a wrong CSRF token: %d, want 403", resp.StatusCode)
	}
	// A record analyst signed in cannot post either.
	r := e.signIn(t, "rita")
	_, page = r.Get(t, "/patients")
	if resp, _ := r.Post(t, enc, url.Values{"action": {"finalise"}, "csrf_token": {csrf(t, page)}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a record analyst finalising: %d", resp.StatusCode)
	}
}

var rowRE = regexp.MustCompile(`(?s)<tr[^>]*>\s*<td>([^<]*)</td>.*?href="/coding/encounters/([^"]+)"`)

func TestDNFBPage(t *testing.T) {
	e := newEnv(t, patients)
	list, _ := e.q.DNFB(as("cody", access.RoleCoder))
	rec := e.get("/coding/?sort=patient", access.RoleCoder)
	body := rec.Body.String()
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, body)
	}
	if !strings.Contains(body, `<strong>`+strconv.Itoa(len(list))+`</strong> discharged`) {
		t.Errorf("the count %d is not on the page", len(list))
	}
	rows := rowRE.FindAllStringSubmatch(body, -1)
	if len(rows) != len(list) {
		t.Fatalf("%d rows, want %d", len(rows), len(list))
	}
	var names []string
	for _, r := range rows {
		names = append(names, strings.ToLower(r[1]))
		if r[1] == "" || r[1] == "(no name)" {
			t.Errorf("a row without the patient's name: %q", r[0])
		}
		if strings.Contains(r[2], "/") || strings.Contains(r[2], " ") {
			t.Errorf("the link carries more than the encounter id: %q", r[2])
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("sorted by patient: %v", names)
	}
	// Names never in URLs.
	for _, href := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		for _, n := range names {
			for _, w := range strings.Fields(n) {
				if len(w) > 3 && strings.Contains(strings.ToLower(href[1]), w) {
					t.Errorf("a link %q carries the name %q", href[1], n)
				}
			}
		}
	}
	// Oldest first by age (descending days) is the default.
	rec = e.get("/coding/", access.RoleCoder)
	ages := regexp.MustCompile(`<td class="n">(\d+)</td>\s*<td>(?:<span class="tag">draft|uncoded)`).FindAllStringSubmatch(rec.Body.String(), -1)
	var days []int
	for _, a := range ages {
		n, _ := strconv.Atoi(a[1])
		days = append(days, -n)
	}
	if len(days) != len(list) || !slices.IsSorted(days) {
		t.Errorf("default order by age, oldest first: %v", days)
	}
	if strings.Contains(rec.Body.String(), "(no name)") {
		t.Error("the default page lists a stay without its patient's name (read for the rows shown)")
	}
	if rec := e.get("/coding/?sort=age&dir=asc", access.RoleCoder); !strings.Contains(rec.Body.String(), `aria-sort="ascending"`) {
		t.Error("ascending sort not marked")
	}
}

// form is a workspace form as a browser would post it.
func form(page string, action string, dx [][2]string, px [][2]string, extra ...string) url.Values {
	v := url.Values{"action": {action}}
	if token := webtest.FindCSRF(page); token != "" {
		v.Set("csrf_token", token)
	}
	for _, d := range dx {
		v.Add("dx_code", d[0])
		v.Add("dx_poa", d[1])
	}
	for _, p := range px {
		v.Add("px_code", p[0])
		v.Add("px_date", p[1])
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

var (
	dxCodeRE = regexp.MustCompile(`name="dx_code" id="dx-code-\d+" value="([^"]*)"`)
	drgRE    = regexp.MustCompile(`id="drg-code">(\d+)<`)
)

func dxCodes(page string) []string {
	var out []string
	for _, m := range dxCodeRE.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestWorkspaceRoundTrip(t *testing.T) {
	e := newEnv(t, patients)
	cody := as("cody", access.RoleCoder)
	list, _ := e.q.DNFB(cody)
	it := list[0]
	id := strings.TrimPrefix(it.Encounter, "Encounter/")
	path := "/coding/encounters/" + id
	f := e.truth[it.Encounter]
	c := e.signIn(t, "cody")
	_, page := c.Get(t, path)
	// The notes, suggestions with marked evidence, the recorded codes.
	for _, s := range []string{`class="note-text"`, `<mark id="ev-`, `id="suggestions"`, `class="sug selected"`, `id="drg"`, `id="edits"`, "POA_MISSING"} {
		if !strings.Contains(page, s) {
			t.Errorf("the workspace lacks %s", s)
		}
	}
	if got := dxCodes(page); len(got) != len(f.Diagnoses) || got[0] != f.Principal {
		t.Errorf("the abstract starts with %v, want the record's %v", got, f.Diagnoses)
	}
	// Add a row, then remove it: no JS, the form comes back.
	dx := [][2]string{}
	for _, d := range f.Diagnoses {
		dx = append(dx, [2]string{d.Code, ""})
	}
	_, p2 := c.Post(t, path, form(page, "add-dx", dx, nil))
	if got := dxCodes(p2); len(got) != len(dx)+1 || got[len(got)-1] != "" {
		t.Fatalf("after add-dx: %v", got)
	}
	_, p3 := c.Post(t, path, form(p2, "remove-dx:0", dx, nil))
	if got := dxCodes(p3); len(got) != len(dx)-1 || (len(dx) > 1 && got[0] != dx[1][0]) {
		t.Fatalf("after removing the principal: %v", got)
	}
	// Make the last principal.
	_, p4 := c.Post(t, path, form(p3, "principal:"+strconv.Itoa(len(dx)-1), dx, nil))
	if got := dxCodes(p4); got[0] != dx[len(dx)-1][0] {
		t.Fatalf("after principal: %v", got)
	}
	// Code search keeps the form and offers the codes.
	_, p5 := c.Post(t, path, form(p4, "search", dx, nil, "q", "CHF exacerbation", "qsys", "icd10cm"))
	if !strings.Contains(p5, `id="hits"`) || !strings.Contains(p5, `value="add-dx:I50.`) || len(dxCodes(p5)) != len(dx) {
		t.Fatalf("search: hits %v, rows %v", strings.Contains(p5, `id="hits"`), dxCodes(p5))
	}
	_, p6 := c.Post(t, path, form(p5, "add-dx:I50.9", dx, nil, "q", "CHF exacerbation"))
	if got := dxCodes(p6); got[len(got)-1] != "I50.9" {
		t.Fatalf("after adding a searched code: %v", got)
	}
	// An invalid code gets an edit; the DRG says why it cannot group.
	_, p7 := c.Post(t, path, form(p6, "update", [][2]string{{"E11.9", "Y"}, {"ZZZ.99", "Y"}}, nil))
	if !strings.Contains(p7, coding.EditInvalid) {
		t.Error("an invalid code shows no INVALID_CODE edit")
	}
	// Accepting the principal suggestion puts it first with its POA.
	sug := regexp.MustCompile(`value="accept:([^"]+)" class="accept">Accept as principal`).FindStringSubmatch(page)
	if sug == nil {
		t.Fatal("no principal suggestion to accept")
	}
	_, p8 := c.Post(t, path, form(page, "accept:"+sug[1], [][2]string{{"Z79.4", ""}}, nil))
	if got := dxCodes(p8); len(got) != 2 || got[0] != sug[1] {
		t.Fatalf("after accepting %s: %v", sug[1], got)
	}
	if !regexp.MustCompile(`id="dx-poa-0"[^>]*>(?:<option[^>]*>[^<]*</option>)*?<option selected>Y</option>`).MatchString(p8) {
		t.Error("the accepted principal has no POA Y")
	}
	// Unknown actions and rows are bad requests.
	if resp, _ := c.Post(t, path, form(page, "explode", dx, nil)); resp.StatusCode != 400 {
		t.Errorf("an unknown action: %d", resp.StatusCode)
	}
	if resp, _ := c.Post(t, path, form(page, "remove-dx:99", dx, nil)); resp.StatusCode != 400 {
		t.Errorf("removing a row that is not there: %d", resp.StatusCode)
	}
	// Save a draft: stored, read back, still on the DNFB as a draft.
	resp, _ := c.Post(t, path, form(page, "save", dx, nil))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save draft: %d", resp.StatusCode)
	}
	_, back := c.Get(t, resp.Header.Get("Location"))
	if !strings.Contains(back, "Draft saved: Claim/coding-"+id+" version 1") || !slices.Equal(dxCodes(back), dxCodes(page)) {
		t.Fatalf("the draft read back: %v", dxCodes(back))
	}
	_, q := c.Get(t, "/coding/")
	if !strings.Contains(q, `<span class="tag">draft</span>`) {
		t.Error("the DNFB does not show the draft")
	}
}

func TestFinalise(t *testing.T) {
	e := newEnv(t, patients)
	cody := as("cody", access.RoleCoder)
	list, _ := e.q.DNFB(cody)
	it := list[len(list)-1]
	id := strings.TrimPrefix(it.Encounter, "Encounter/")
	path := "/coding/encounters/" + id
	f := e.truth[it.Encounter]
	c := e.signIn(t, "cody")
	_, page := c.Get(t, path)
	var dx, dxNoPOA, px [][2]string
	for _, d := range f.Diagnoses {
		dx = append(dx, [2]string{d.Code, d.POA})
		dxNoPOA = append(dxNoPOA, [2]string{d.Code, ""})
	}
	for _, p := range f.Procedures {
		px = append(px, [2]string{p, it.Admitted.Format(time.DateOnly)})
	}
	// Refused with the error edits shown; nothing stored.
	resp, refused := c.Post(t, path, form(page, "finalise", dxNoPOA, px))
	if resp.StatusCode != 200 || !strings.Contains(refused, `id="refused"`) || !strings.Contains(refused, `data-edit="POA_MISSING"`) {
		t.Fatalf("finalising without POA: %d, refusal shown %v", resp.StatusCode, strings.Contains(refused, `id="refused"`))
	}
	if a, _ := e.q.Abstract(cody, id); a.Status != coding.StatusUncoded {
		t.Fatalf("a refused finalisation stored %s", a.Status)
	}
	// The expected coding finalises; the Claim carries the DRG.
	resp, _ = c.Post(t, path, form(refused, "finalise", dx, px))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("finalise: %d", resp.StatusCode)
	}
	_, done := c.Get(t, resp.Header.Get("Location"))
	a, err := e.q.Abstract(cody, id)
	if err != nil || a.Status != coding.StatusFinal {
		t.Fatalf("after finalising: %+v %v", a, err)
	}
	want := groupTruth(t, a, f, a.DRG.Version)
	if a.DRG.DRG != want {
		t.Errorf("the Claim's DRG %d, the expected coding groups to %d", a.DRG.DRG, want)
	}
	msg := "Finalised: Claim/coding-" + id + " version 1, MS-DRG " + pad3(want)
	if !strings.Contains(done, msg) || !strings.Contains(done, `id="drg-code">`+pad3(want)+`<`) {
		t.Errorf("the page does not say %q", msg)
	}
	// Off the DNFB.
	_, q := c.Get(t, "/coding/")
	if strings.Contains(q, "/coding/encounters/"+id+`"`) {
		t.Error("the finalised encounter is still on the DNFB")
	}
	if !strings.Contains(q, "<strong>"+strconv.Itoa(len(list)-1)+"</strong>") {
		t.Errorf("the DNFB count is not %d", len(list)-1)
	}
}

func pad3(n int) string { s := strconv.Itoa(n); return strings.Repeat("0", max(0, 3-len(s))) + s }

func TestCards(t *testing.T) {
	e := newEnv(t, patients)
	// Productivity counts the coding saved in the last 30 days of the
	// queue's clock, and the store stamps versions with the real time.
	e.q.Now = time.Now
	cody := as("cody", access.RoleCoder)
	list, _ := e.q.DNFB(cody)
	// Finalise one stay with its expected coding.
	it := list[0]
	f := e.truth[it.Encounter]
	var dx []coding.Diagnosis
	for _, d := range f.Diagnoses {
		dx = append(dx, coding.Diagnosis{Code: d.Code, POA: d.POA})
	}
	var px []coding.Procedure
	for _, p := range f.Procedures {
		px = append(px, coding.Procedure{Code: p, Date: it.Admitted.Format(time.DateOnly)})
	}
	fin, err := e.q.Save(cody, it.Encounter, dx, px, true)
	if err != nil {
		t.Fatal(err)
	}
	rec := e.get("/dashboard", access.RoleHIMDirector)
	body := rec.Body.String()
	if rec.Code != 200 {
		t.Fatalf("dashboard: %d", rec.Code)
	}
	for _, s := range []string{
		`id="dnfb-total">` + strconv.Itoa(len(list)-1) + `<`, `id="dnfb-chart"`, `id="coding-chart"`, `id="backlog-uncoded">` + strconv.Itoa(len(list)-1) + `<`,
		`id="no-weights"`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("the dashboard lacks %s", s)
		}
	}
	// The coder's productivity names cody (the card reads as the director).
	if !strings.Contains(body, `<td>cody</td><td class="n">1</td>`) {
		t.Errorf("the productivity table does not show cody's one encounter")
	}
	// With a (made-up) weights table the card shows the case mix index.
	w, err := drg.ReadWeights(strings.NewReader("MS-DRG\tMDC\tTYPE\tMS-DRG Title\tWeights\tGeometric mean LOS\tArithmetic mean LOS\n" +
		pad3(fin.DRG.DRG) + "\t01\tMED\tTest DRG\t1.2345\t3.1\t4.0\n"))
	if err != nil {
		t.Fatal(err)
	}
	e.q.Grouper.Weights = w
	body = e.get("/dashboard", access.RoleHIMDirector).Body.String()
	if !strings.Contains(body, `id="cmi">1.2345<`) || !strings.Contains(body, `id="casemix-chart"`) {
		t.Errorf("the case mix card does not show CMI 1.2345")
	}
}
