package encoder_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/store"
)

// TestRestrictedPatient: a stay whose patient is restricted (a sensitive
// label the coder's role does not see) stays on the coder's DNFB list,
// marked "restricted" without the patient's name; its workspace answers
// 403 in the workbench's frame, saying the record is restricted and what
// to do (break the glass, or a coder with access), with no name, sex or
// birth date of the patient; after the coder breaks the glass through
// that page's form, the workspace opens with the patient named.
func TestRestrictedPatient(t *testing.T) {
	e := newEnv(t, patients)
	sys := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	list, err := e.q.DNFB(as("cody", access.RoleCoder))
	if err != nil || len(list) == 0 {
		t.Fatalf("DNFB: %d, %v", len(list), err)
	}
	enc := strings.TrimPrefix(list[0].Encounter, "Encounter/")
	pid := strings.TrimPrefix(list[0].Patient, "Patient/")
	pr, err := e.st.Read(sys, "Patient", pid)
	if err != nil {
		t.Fatal(err)
	}
	pt, _ := store.Decode(pr.Body)
	var p struct {
		Name []struct {
			Family string
			Given  []string
		}
		Gender, BirthDate string
	}
	_ = json.Unmarshal(pr.Body, &p)
	if len(p.Name) == 0 || p.Name[0].Family == "" || p.BirthDate == "" {
		t.Fatalf("the patient has no name or birth date to look for: %s", pr.Body)
	}
	family := p.Name[0].Family

	c := e.signIn(t, "cody")
	// Before: the coder sees the patient's name in the queue.
	if _, body := c.Get(t, "/coding/"); !strings.Contains(body, family) || strings.Contains(body, `<span class="tag">restricted</span>`) {
		t.Fatalf("the queue before the patient is restricted: name %q shown %v", family, strings.Contains(body, family))
	}

	pt["meta"] = map[string]any{"security": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}}}
	pb, _ := json.Marshal(pt)
	if _, err := e.st.Update(sys, "Patient", pid, pb, store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}

	leaks := func(what, body string) {
		t.Helper()
		for _, s := range append([]string{family, p.BirthDate, `>` + p.Gender, "Age, sex"}, p.Name[0].Given...) {
			if strings.Contains(body, s) {
				t.Errorf("%s shows %q of the restricted patient", what, s)
			}
		}
	}
	// The queue still lists the stay, marked restricted, without the name.
	resp, body := c.Get(t, "/coding/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("queue: %d", resp.StatusCode)
	}
	row := rowOf(body, enc)
	if row == "" {
		t.Fatalf("the queue no longer lists Encounter/%s", enc)
	}
	if !strings.Contains(row, `<span class="tag">restricted</span>`) || !strings.Contains(row, "the stay of a restricted patient") {
		t.Errorf("the stay's row is not marked restricted: %s", row)
	}
	leaks("the queue", body)
	stays := 0 // the patient's stays on the queue (one page of it)
	for _, it := range list {
		if it.Patient == list[0].Patient {
			stays++
		}
	}
	if n := strings.Count(body, `<span class="tag">restricted</span>`); n != stays {
		t.Errorf("%d rows marked restricted, want the patient's %d (the others' patients are not restricted)", n, stays)
	}
	// Sorted by patient, the names are read for the whole queue; the row
	// is still marked.
	if _, body := c.Get(t, "/coding/?sort=patient"); !strings.Contains(rowOf(body, enc), `<span class="tag">restricted</span>`) {
		t.Errorf("sorted by patient, the stay's row is not marked restricted: %s", rowOf(body, enc))
	} else {
		leaks("the queue sorted by patient", body)
	}

	// The workspace: 403 with what to do, nothing of the patient.
	for _, post := range []bool{false, true} {
		var resp *http.Response
		var body string
		if post {
			_, page := c.Get(t, "/coding/encounters/"+enc)
			resp, body = c.Post(t, "/coding/encounters/"+enc, url.Values{"action": {"update"}, "dx_code": {"J18.9"}, "dx_poa": {"Y"}, "csrf_token": {csrf(t, page)}})
		} else {
			resp, body = c.Get(t, "/coding/encounters/"+enc)
		}
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("workspace (post %v) of the restricted patient's stay: %d, want 403", post, resp.StatusCode)
		}
		for _, want := range []string{"restricted", "break the glass", "a coder with access", `action="/patients/` + pid + `/break-glass"`, `href="/coding/"`, `name="csrf_token"`} {
			if !strings.Contains(body, want) {
				t.Errorf("workspace (post %v): the page does not say %q", post, want)
			}
		}
		leaks("the restricted page", body)
	}

	// The coder breaks the glass through the page's form; the workspace opens.
	_, page := c.Get(t, "/coding/encounters/"+enc)
	if want := `name="next" value="/coding/encounters/` + enc + `"`; !strings.Contains(page, want) {
		t.Errorf("the restricted page's form does not return to the workspace (%s)", want)
	}
	resp, _ = c.Post(t, "/patients/"+pid+"/break-glass", url.Values{"reason": {"coding the stay needs the registration"}, "next": {"/coding/encounters/" + enc}, "csrf_token": {csrf(t, page)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("break the glass: %d", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); loc != "/coding/encounters/"+enc {
		t.Errorf("after breaking the glass the coder is sent to %q, want the workspace", loc)
	}
	resp, body = c.Get(t, "/coding/encounters/"+enc)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, family) || !strings.Contains(body, "Age, sex") {
		t.Errorf("the workspace after breaking the glass: %d, name shown %v", resp.StatusCode, strings.Contains(body, family))
	}
	if _, body := c.Get(t, "/coding/"); !strings.Contains(rowOf(body, enc), family) {
		t.Errorf("the queue after breaking the glass does not name the patient: %s", rowOf(body, enc))
	}
}

// rowOf is the queue's table row of encounter id ("" if none).
func rowOf(body, id string) string {
	for _, r := range strings.Split(body, "<tr") {
		if strings.Contains(r, `href="/coding/encounters/`+id+`"`) {
			return r
		}
	}
	return ""
}
