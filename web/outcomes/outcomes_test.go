package outcomes_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/registry"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/web"
	"github.com/custodian-him/custodian/web/internal/webtest"
	"github.com/custodian-him/custodian/web/outcomes"
)

// TestReading runs the tests that only read over one generated hospital.
func TestReading(t *testing.T) {
	e := newEnv(t, 300)
	t.Run("NumbersEqualEvaluate", func(t *testing.T) { numbersEqualEvaluate(t, e) })
	t.Run("StratumDrillDown", func(t *testing.T) { stratumDrillDown(t, e) })
	t.Run("Cards", func(t *testing.T) { cards(t, e) })
}

func TestRoles(t *testing.T) {
	e := newEnv(t, 40)
	paths := []string{"/outcomes/measures/", "/outcomes/measures/readmission-30day", "/outcomes/measures/readmission-30day/cases?population=denominator",
		"/outcomes/registries/", "/outcomes/registries/diabetes", "/outcomes/registries/diabetes/export.csv", "/outcomes/registries/diabetes/export.json"}
	for _, tc := range []struct {
		name  string
		roles []string
		want  int
	}{
		{"director", []string{access.RoleHIMDirector}, http.StatusOK},
		// The registrar is the disease registrar: the registries are its
		// work, the measures its neighbours.
		{"registrar", []string{access.RoleRegistrar}, http.StatusOK},
		{"clinician", []string{access.RoleClinician}, http.StatusForbidden},
		{"privacy officer", []string{access.RolePrivacyOfficer}, http.StatusForbidden},
		{"coder", []string{access.RoleCoder}, http.StatusForbidden},
		{"nobody", nil, http.StatusUnauthorized},
	} {
		for _, p := range paths {
			if got := e.get(p, tc.roles...).Code; got != tc.want {
				t.Errorf("%s GET %s: %d, want %d", tc.name, p, got, tc.want)
			}
		}
	}
	// Offering a role the pages does not get it past the role table (the
	// auditor reads no clinical record); a coder offered the registry
	// pages reads them but does not decide cases, which stays with the
	// registrar and the director.
	wb := &web.Handler{Records: e.st, Now: func() time.Time { return asOf }}
	wb.Modules = append(wb.Modules, outcomes.Module(outcomes.Config{Web: wb, Record: e.rec, Registry: e.reg, Patients: e.st,
		RegistryRoles: []string{access.RoleAuditor, access.RoleCoder, access.RoleHIMDirector}, MeasureRoles: []string{access.RoleClinician}}))
	cands, err := e.reg.Cases("diabetes", registry.Candidate)
	if err != nil || len(cands) == 0 {
		t.Fatalf("diabetes candidates: %v, %d", err, len(cands))
	}
	decide := url.Values{"patient": {cands[0].Patient}, "action": {"accept"}}.Encode()
	for _, tc := range []struct {
		method, path, role string
		want               int
	}{
		{"GET", "/outcomes/registries/diabetes", access.RoleAuditor, http.StatusForbidden},
		{"GET", "/outcomes/registries/diabetes", access.RoleHIMDirector, http.StatusOK},
		{"GET", "/outcomes/registries/diabetes", access.RoleCoder, http.StatusOK},
		{"GET", "/outcomes/registries/diabetes", access.RoleRegistrar, http.StatusForbidden},
		{"POST", "/outcomes/registries/diabetes/decide", access.RoleCoder, http.StatusForbidden},
		{"GET", "/outcomes/measures/", access.RoleClinician, http.StatusOK},
		{"GET", "/outcomes/measures/", access.RoleHIMDirector, http.StatusForbidden},
	} {
		var req *http.Request
		if tc.method == "POST" {
			req = httptest.NewRequest("POST", tc.path, strings.NewReader(decide))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req = httptest.NewRequest("GET", tc.path, nil)
		}
		rec := httptest.NewRecorder()
		wb.ServeHTTP(rec, req.WithContext(as("tester", tc.role)))
		if rec.Code != tc.want {
			t.Errorf("configured roles: %s %s %s: %d, want %d", tc.role, tc.method, tc.path, rec.Code, tc.want)
		}
		if tc.role == access.RoleCoder && tc.method == "GET" && strings.Contains(rec.Body.String(), `value="accept"`) {
			t.Errorf("the coder is offered the accept button")
		}
	}
	if got, _ := e.reg.Cases("diabetes", registry.Accepted); len(got) != 0 {
		t.Errorf("a refused decision accepted %d cases", len(got))
	}
	// While the record is read at start the pages say so (503) and the
	// dashboard card waits.
	loading := measure.NewRecord()
	loading.MarkLoading()
	wl := &web.Handler{Records: e.st, Now: func() time.Time { return asOf }}
	wl.Modules = append(wl.Modules, outcomes.Module(outcomes.Config{Web: wl, Record: loading, Registry: &registry.Service{Record: loading, Store: e.st}, Patients: e.st}))
	for _, path := range []string{"/outcomes/measures/", "/outcomes/measures/length-of-stay", "/outcomes/registries/"} {
		req := httptest.NewRequest("GET", path, nil).WithContext(as("tester", access.RoleHIMDirector))
		rec := httptest.NewRecorder()
		wl.ServeHTTP(rec, req)
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "still being read") {
			t.Errorf("loading: GET %s: %d", path, rec.Code)
		}
	}
	req := httptest.NewRequest("GET", "/dashboard", nil).WithContext(as("tester", access.RoleHIMDirector))
	rec := httptest.NewRecorder()
	wl.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "being read for the measures") {
		t.Errorf("loading: the dashboard %d does not say the measures are being read", rec.Code)
	}
	for _, p := range []string{"/outcomes/measures/nope", "/outcomes/registries/nope", "/outcomes/elsewhere"} {
		if got := e.get(p, access.RoleHIMDirector).Code; got != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, got)
		}
	}
	for _, p := range []string{"/outcomes/measures/?from=2025-13-01", "/outcomes/measures/length-of-stay?from=2025-05-01&to=2025-01-01",
		"/outcomes/measures/readmission-30day/cases?population=nope", "/outcomes/measures/readmission-30day/cases?population=numerator&stratifier=colour&value=x",
		"/outcomes/measures/readmission-30day/cases?population=numerator&page=0"} {
		if got := e.get(p, access.RoleHIMDirector).Code; got != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", p, got)
		}
	}
}

var (
	cellRE = regexp.MustCompile(`data-measure="([^"]+)">([^<]*)<`)
	bigRE  = regexp.MustCompile(`<p class="big" id="([a-z]+)">([^<]*)</p>`)
	rowRE  = regexp.MustCompile(`<tr><th scope="row">([^<]*)</th><td class="num">([^<]*)</td><td class="num">([^<]*)</td><td class="num">([^<]*)</td>`)
	linkRE = regexp.MustCompile(`<a href="/patients/([^"]+)">`)
	totRE  = regexp.MustCompile(`<strong id="total">(\d+)</strong>`)
)

// rateText is how the pages write a result's score.
func rateText(def *measure.Definition, score float64, has bool) string {
	switch {
	case !has:
		return "—"
	case def.Scoring == measure.Proportion:
		return fmt.Sprintf("%.1f%%", score*100)
	}
	return strconv.FormatFloat(score, 'f', 2, 64) + " days"
}

func count(pops []measure.PopulationResult, code string) int {
	for _, p := range pops {
		if p.Code == code {
			return p.Count
		}
	}
	return 0
}

// TestNumbersEqualEvaluate checks every number the measure pages show
// against measure.Evaluate over the same record and period.
func numbersEqualEvaluate(t *testing.T, e *env) {
	ctx := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	listed := 0
	defer func() { t.Logf("%d listed patients checked", listed) }()
	for _, per := range [][2]string{{"2022-10-01", "2025-09-30"}, {"2024-01-01", "2024-06-30"}} {
		q := url.Values{"from": {per[0]}, "to": {per[1]}}.Encode()
		period, err := measure.NewPeriod(per[0], per[1])
		if err != nil {
			t.Fatal(err)
		}
		list := e.get("/outcomes/measures/?"+q, access.RoleHIMDirector)
		if list.Code != http.StatusOK {
			t.Fatalf("measure list: %d", list.Code)
		}
		shown := map[string]string{}
		for _, m := range cellRE.FindAllStringSubmatch(list.Body.String(), -1) {
			shown[m[1]] = html.UnescapeString(m[2])
		}
		for _, def := range measure.Builtins() {
			res, err := measure.Evaluate(ctx, e.rec, def, period, measure.Options{Lists: true})
			if err != nil {
				t.Fatal(err)
			}
			want := rateText(def, res.Score, res.HasScore)
			if shown[def.ID] != want {
				t.Errorf("%s %s: the list shows %q, Evaluate gives %q", def.ID, q, shown[def.ID], want)
			}
			page := e.get("/outcomes/measures/"+def.ID+"?"+q, access.RoleHIMDirector)
			if page.Code != http.StatusOK {
				t.Fatalf("%s: %d", def.ID, page.Code)
			}
			body := page.Body.String()
			big := map[string]string{}
			for _, m := range bigRE.FindAllStringSubmatch(body, -1) {
				big[m[1]] = html.UnescapeString(m[2])
			}
			denPop, exPop := measure.Denominator, measure.DenominatorExclusion
			if def.Scoring != measure.Proportion {
				denPop, exPop = measure.MeasurePopulation, measure.MeasurePopulationExclusion
			}
			den := count(res.Populations, denPop) - count(res.Populations, exPop)
			if big["score"] != want || big["denominator"] != strconv.Itoa(den) || big["excluded"] != strconv.Itoa(count(res.Populations, exPop)) {
				t.Errorf("%s %s: the page shows %v; Evaluate gives score %s, denominator %d, excluded %d", def.ID, q, big, want, den, count(res.Populations, exPop))
			}
			if def.Scoring == measure.Proportion && big["numerator"] != strconv.Itoa(res.Count(measure.Numerator)) {
				t.Errorf("%s %s: numerator %s, Evaluate gives %d", def.ID, q, big["numerator"], res.Count(measure.Numerator))
			}
			// Every stratum row: rate, numerator and denominator.
			rows := map[string][]string{}
			for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
				rows[html.UnescapeString(m[1])] = []string{html.UnescapeString(m[2]), m[3], m[4]}
			}
			for _, s := range res.Strata {
				for _, st := range s.Strata {
					got, ok := rows[st.Value]
					if !ok {
						t.Errorf("%s: stratum %s=%s is not on the page", def.ID, s.Code, st.Value)
						continue
					}
					// Values shared by two stratifiers (unknown) are
					// checked by the first table's row only.
					if s.Code != "month" && st.Value == "unknown" {
						continue
					}
					num := "—"
					if def.Scoring == measure.Proportion {
						num = strconv.Itoa(count(st.Populations, measure.Numerator))
					}
					wantRow := []string{rateText(def, st.Score, st.HasScore), num, strconv.Itoa(count(st.Populations, denPop) - count(st.Populations, exPop))}
					if strings.Join(got, "|") != strings.Join(wantRow, "|") {
						t.Errorf("%s %s: stratum %s=%s shows %v, Evaluate gives %v", def.ID, q, s.Code, st.Value, got, wantRow)
					}
				}
			}
			// The drill-down lists exactly the cases behind the numbers,
			// less those of patients with sensitive records, which the
			// director may not see.
			hidden, err := measure.Evaluate(ctx, e.rec, def, period, measure.Options{Lists: true, HideRestricted: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, pop := range []string{measure.Numerator, denPop} {
				if res.Count(pop) < 0 {
					continue
				}
				cases := hidden.Cases(pop)
				lp := e.get("/outcomes/measures/"+def.ID+"/cases?population="+pop+"&"+q, access.RoleHIMDirector)
				if lp.Code != http.StatusOK {
					t.Fatalf("%s %s list: %d", def.ID, pop, lp.Code)
				}
				lb := lp.Body.String()
				if m := totRE.FindStringSubmatch(lb); m == nil || m[1] != strconv.Itoa(len(cases)) {
					t.Errorf("%s %s %s: the list says %v, Evaluate lists %d", def.ID, pop, q, m, len(cases))
				}
				links := linkRE.FindAllStringSubmatch(lb, -1)
				if want := min(len(cases), 100); len(links) != want {
					t.Errorf("%s %s: %d patients listed on the first page, want %d", def.ID, pop, len(links), want)
				}
				listed += len(links)
				for i, m := range links {
					if i < len(cases) && m[1] != cases[i].Patient {
						t.Errorf("%s %s: row %d is Patient/%s, Evaluate has Patient/%s", def.ID, pop, i, m[1], cases[i].Patient)
						break
					}
				}
				if strings.Contains(lb, "(name not available)") || strings.Contains(lb, "(no Patient resource)") {
					t.Errorf("%s %s: a patient's name is missing from the list", def.ID, pop)
				}
			}
		}
	}
}

// TestStratumDrillDown follows a stratum's link to its patients.
func stratumDrillDown(t *testing.T, e *env) {
	ctx := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	def := measure.Find(measure.Builtins(), "mortality-inpatient")
	period, _ := measure.NewPeriod("2022-10-01", "2025-09-30")
	res, err := measure.Evaluate(ctx, e.rec, def, period, measure.Options{Lists: true})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, c := range res.Cases(measure.Numerator) {
		if c.Strata[2] == "male" { // BySex is the third stratifier
			want++
		}
	}
	rec := e.get("/outcomes/measures/mortality-inpatient/cases?population=numerator&from=2022-10-01&to=2025-09-30&stratifier=sex&value=male", access.RoleHIMDirector)
	if m := totRE.FindStringSubmatch(rec.Body.String()); rec.Code != http.StatusOK || m == nil || m[1] != strconv.Itoa(want) {
		t.Fatalf("male deaths: %d %v, want %d", rec.Code, m, want)
	}
}

// TestDecisions accepts and rejects candidates through the real server,
// with and without the CSRF token, and exports what was accepted.
func TestDecisions(t *testing.T) {
	e := newEnv(t, 120)
	cands, err := e.reg.Cases("diabetes", registry.Candidate)
	if err != nil {
		t.Fatal(err)
	}
	if len(cands) < 5 {
		t.Fatalf("the generated hospital has %d diabetes candidates; the test needs 5", len(cands))
	}
	c := e.signIn(t, "dana")
	resp, body := c.Get(t, "/outcomes/registries/diabetes")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-patient="`+cands[0].Patient+`"`) {
		t.Fatalf("registry page: %d, candidate %s listed: %v", resp.StatusCode, cands[0].Patient, strings.Contains(body, cands[0].Patient))
	}
	token := csrf(t, body)
	accept := url.Values{"patient": {cands[0].Patient}, "action": {"accept"}}
	if resp, _ := c.Post(t, "/outcomes/registries/diabetes/decide", accept); resp.StatusCode != http.StatusForbidden {
		t.Errorf("accept without the CSRF token: %d, want 403", resp.StatusCode)
	}
	accept.Set("csrf_token", "x"+token)
	if resp, _ := c.Post(t, "/outcomes/registries/diabetes/decide", accept); resp.StatusCode != http.StatusForbidden {
		t.Errorf("accept with a wrong CSRF token: %d, want 403", resp.StatusCode)
	}
	if got, _ := e.reg.Cases("diabetes", registry.Accepted); len(got) != 0 {
		t.Fatalf("a refused form accepted %d cases", len(got))
	}
	accept.Set("csrf_token", token)
	resp, _ = c.Post(t, "/outcomes/registries/diabetes/decide", accept)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/outcomes/registries/diabetes?done=accepted" {
		t.Fatalf("accept: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	reject := url.Values{"patient": {cands[1].Patient}, "action": {"reject"}, "csrf_token": {token}}
	if resp, body := c.Post(t, "/outcomes/registries/diabetes/decide", reject); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "reason") {
		t.Errorf("reject without a reason: %d", resp.StatusCode)
	}
	reject.Set("reason", "gestational diabetes only")
	if resp, _ := c.Post(t, "/outcomes/registries/diabetes/decide", reject); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("reject: %d", resp.StatusCode)
	}
	acc, _ := e.reg.Cases("diabetes", registry.Accepted)
	rej, _ := e.reg.Cases("diabetes", registry.Rejected)
	if len(acc) != 1 || acc[0].Patient != cands[0].Patient || acc[0].DecidedBy != "dana" || len(rej) != 1 || rej[0].Reason != "gestational diabetes only" {
		t.Fatalf("decisions kept: accepted %+v, rejected %+v", acc, rej)
	}
	_, body = c.Get(t, "/outcomes/registries/diabetes?done=accepted")
	if !strings.Contains(body, `id="accepted">1<`) || !strings.Contains(body, `id="rejected">1<`) || !strings.Contains(body, `id="candidates">`+strconv.Itoa(len(cands)-2)+`<`) ||
		strings.Contains(body, `data-patient="`+cands[0].Patient+`"`) {
		t.Errorf("the registry page after the decisions does not show them: %s", bigRE.FindAllString(body, -1))
	}
	if resp, body := c.Post(t, "/outcomes/registries/diabetes/decide", url.Values{"patient": {"nobody"}, "action": {"accept"}, "csrf_token": {token}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("accept a patient who is no case: %d %s", resp.StatusCode, body[:min(200, len(body))])
	}
	// The case form: the record's fields filled, the registrar's saved.
	resp, body = c.Get(t, "/outcomes/registries/diabetes/cases/"+cands[0].Patient)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="field-footExam"`) || !strings.Contains(body, `id="status">accepted<`) {
		t.Fatalf("case form: %d", resp.StatusCode)
	}
	save := url.Values{"patient": {cands[0].Patient}, "action": {"save"}, "csrf_token": {token}, "field-footExam": {"yes"}, "field-retinopathyScreened": {" no "}}
	if resp, _ := c.Post(t, "/outcomes/registries/diabetes/decide", save); resp.StatusCode != http.StatusSeeOther ||
		resp.Header.Get("Location") != "/outcomes/registries/diabetes/cases/"+cands[0].Patient+"?done=saved" {
		t.Fatalf("save the form: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if acc, _ := e.reg.Cases("diabetes", registry.Accepted); len(acc) != 1 || acc[0].Fields["footExam"] != "yes" || acc[0].Fields["retinopathyScreened"] != "no" {
		t.Errorf("the form's fields were not kept: %+v", acc)
	}
	if resp, _ := c.Get(t, "/outcomes/registries/diabetes/cases/nobody"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the case form of no case: %d", resp.StatusCode)
	}
	// A follow-up is recorded for an accepted case only.
	fu := url.Values{"patient": {cands[0].Patient}, "action": {"follow-up"}, "csrf_token": {token}}
	if resp, _ := c.Post(t, "/outcomes/registries/diabetes/decide", fu); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("follow-up: %d", resp.StatusCode)
	}
	if acc, _ := e.reg.Cases("diabetes", registry.Accepted); len(acc) != 1 || strings.Join(acc[0].FollowUps, ",") != "2025-09-30" {
		t.Errorf("follow-up kept: %+v", acc)
	}
	fu.Set("patient", cands[2].Patient)
	if resp, _ := c.Post(t, "/outcomes/registries/diabetes/decide", fu); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("follow-up of a candidate: %d, want 422", resp.StatusCode)
	}
	// Exports carry the accepted case only.
	resp, body = c.Get(t, "/outcomes/registries/diabetes/export.csv")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if resp.StatusCode != http.StatusOK || err != nil || len(rows) != 2 || rows[0][0] != "patient" || rows[1][0] != cands[0].Patient || rows[1][1] != "accepted" {
		t.Errorf("CSV export: %d %v %v", resp.StatusCode, err, rows)
	}
	resp, body = c.Get(t, "/outcomes/registries/diabetes/export.json")
	var b struct {
		ResourceType string
		Entry        []struct{ Resource map[string]any }
	}
	if err := json.Unmarshal([]byte(body), &b); resp.StatusCode != http.StatusOK || err != nil || b.ResourceType != "Bundle" || len(b.Entry) != 2 || b.Entry[0].Resource["resourceType"] != "Group" {
		t.Errorf("FHIR export: %d %v %+v", resp.StatusCode, err, b)
	}
	// The registrar lands on the registries, and accepts and rejects
	// cases and records a follow-up as the director does.
	r := e.signIn(t, "rita")
	if resp, _ := r.Get(t, "/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/outcomes/registries/" {
		t.Fatalf("the registrar's landing page: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if body := mustGet(t, r, "/outcomes/registries/"); !strings.Contains(body, `href="/outcomes/registries/diabetes"`) {
		t.Fatal("the registrar's registries page lists no diabetes registry")
	}
	_, body = r.Get(t, "/outcomes/registries/diabetes")
	rtoken := csrf(t, body)
	if !strings.Contains(body, `data-patient="`+cands[2].Patient+`"`) || !strings.Contains(body, `value="accept"`) {
		t.Fatalf("the registrar is not offered the candidate %s", cands[2].Patient)
	}
	if resp, _ := r.Post(t, "/outcomes/registries/diabetes/decide", url.Values{"patient": {cands[2].Patient}, "action": {"accept"}, "csrf_token": {rtoken}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("registrar's acceptance: %d, want 303", resp.StatusCode)
	}
	if resp, _ := r.Post(t, "/outcomes/registries/diabetes/decide", url.Values{"patient": {cands[3].Patient}, "action": {"reject"}, "reason": {"history of diabetes only"}, "csrf_token": {rtoken}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("registrar's rejection: %d, want 303", resp.StatusCode)
	}
	if resp, _ := r.Post(t, "/outcomes/registries/diabetes/decide", url.Values{"patient": {cands[2].Patient}, "action": {"follow-up"}, "csrf_token": {rtoken}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("registrar's follow-up: %d, want 303", resp.StatusCode)
	}
	byPatient := map[string]*registry.Case{}
	all, _ := e.reg.Cases("diabetes", "")
	for _, c := range all {
		byPatient[c.Patient] = c
	}
	if c := byPatient[cands[2].Patient]; c == nil || c.Status != registry.Accepted || c.DecidedBy != "rita" || len(c.FollowUps) != 1 {
		t.Errorf("the registrar's acceptance was kept as %+v", c)
	}
	if c := byPatient[cands[3].Patient]; c == nil || c.Status != registry.Rejected || c.DecidedBy != "rita" || c.Reason != "history of diabetes only" {
		t.Errorf("the registrar's rejection was kept as %+v", c)
	}
	// The clinician may not decide.
	cl := e.signIn(t, "carl")
	if resp, _ := cl.Post(t, "/outcomes/registries/diabetes/decide", url.Values{"patient": {cands[4].Patient}, "action": {"accept"}, "csrf_token": {csrf(t, mustGet(t, cl, "/patients"))}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("clinician's decision: %d, want 403", resp.StatusCode)
	}
}

func mustGet(t *testing.T, c *webtest.Client, path string) string {
	t.Helper()
	resp, body := c.Get(t, path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	return body
}

// TestCards checks the dashboard's outcomes cards against Evaluate and
// the registries' counts, and that other roles do not get the figures.
func cards(t *testing.T, e *env) {
	ctx := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	rec := e.get("/dashboard", access.RoleHIMDirector)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, "Outcome measures, last 12 months") || !strings.Contains(body, "Registries") {
		t.Fatalf("dashboard: %d", rec.Code)
	}
	period, _ := measure.NewPeriod("2024-10-01", "2025-09-30")
	shown := map[string]string{}
	for _, m := range cellRE.FindAllStringSubmatch(body, -1) {
		shown[m[1]] = html.UnescapeString(m[2])
	}
	for _, id := range []string{"readmission-30day", "mortality-inpatient", "length-of-stay"} {
		def := measure.Find(measure.Builtins(), id)
		res, err := measure.Evaluate(ctx, e.rec, def, period, measure.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if want := rateText(def, res.Score, res.HasScore); shown[id] != want {
			t.Errorf("card %s: %q, Evaluate gives %q", id, shown[id], want)
		}
	}
	for _, id := range []string{"cancer", "diabetes", "stroke"} {
		want := strconv.Itoa(e.reg.Counts(id)[registry.Accepted])
		if !strings.Contains(body, `data-registry="`+id+`">`+want+`<`) {
			t.Errorf("card: registry %s does not show %s accepted", id, want)
		}
	}
	pb := e.get("/dashboard", access.RolePrivacyOfficer).Body.String()
	if strings.Contains(pb, "data-measure=") || strings.Contains(pb, "data-registry=") {
		t.Errorf("the privacy officer's dashboard shows outcome figures")
	}
}

// TestRestricted: a patient with a sensitive record stays in the counts
// but leaves the director's patient list, which says so.
func TestRestricted(t *testing.T) {
	e := newEnv(t, 60)
	sys := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	def := measure.Find(measure.Builtins(), "length-of-stay")
	period, _ := measure.NewPeriod("2022-10-01", "2025-09-30")
	res, err := measure.Evaluate(sys, e.rec, def, period, measure.Options{Lists: true})
	if err != nil {
		t.Fatal(err)
	}
	cases := res.Cases(measure.MeasurePopulation)
	if len(cases) < 2 {
		t.Fatalf("%d stays", len(cases))
	}
	vip := cases[0].Patient
	r, err := e.st.Read(sys, "Patient", vip)
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	p["meta"] = map[string]any{"security": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "CEL"}}}
	b, _ := json.Marshal(p)
	if _, err := e.st.Update(sys, "Patient", vip, b, store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	stays := 0
	for _, c := range cases {
		if c.Patient == vip {
			stays++
		}
	}
	body := e.get("/outcomes/measures/length-of-stay/cases?population=measure-population&from=2022-10-01&to=2025-09-30", access.RoleHIMDirector).Body.String()
	if strings.Contains(body, "/patients/"+vip+`"`) {
		t.Error("the restricted patient is listed to the director")
	}
	if m := totRE.FindStringSubmatch(body); m == nil || m[1] != strconv.Itoa(len(cases)-stays) || !strings.Contains(body, strconv.Itoa(stays)+" entries of patients with sensitive records") {
		t.Errorf("the list shows %v listed, want %d and %d withheld", m, len(cases)-stays, stays)
	}
	page := e.get("/outcomes/measures/length-of-stay?from=2022-10-01&to=2025-09-30", access.RoleHIMDirector).Body.String()
	if !strings.Contains(page, `id="denominator">`+strconv.Itoa(len(cases))+`<`) {
		t.Error("the restricted patient's stays left the counts")
	}
}
