package access_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/access"
)

// TestRestrictedRecordsHowEverReached: a restricted patient's sensitive
// records (and a restricted Patient itself) never come back to a user
// without access, by search, _include, _revinclude, $everything, the
// compartment, _history of the resource, its type and the whole system,
// _has, or a batch Bundle's search entries; a clinician treating sees
// them, and so does the coder once the glass is broken for that patient
// (and only for that patient).
func TestRestrictedRecordsHowEverReached(t *testing.T) {
	a := openRestricted(t)
	hidden := []string{"Condition/c-psy", "Patient/p2"}
	reads := []struct{ name, path string }{
		{"search", "Condition?subject=Patient/p1"},
		{"search by _id", "Condition?_id=c-psy,c-plain"},
		{"_include", "Encounter?_id=e1,e2&_include=Encounter:reason-reference&_include=Encounter:subject"},
		{"_include:iterate", "Encounter?_id=e1&_include=Encounter:subject&_revinclude:iterate=Condition:subject"},
		{"_revinclude", "Patient?_id=p1,p2&_revinclude=Condition:subject&_revinclude=Encounter:subject"},
		{"_has", "Patient?_has:Condition:subject:code=http://snomed.info/sct|35489007"},
		{"compartment", "Patient/p1/Condition"},
		{"$everything p1", "Patient/p1/$everything"},
		{"$everything p2", "Patient/p2/$everything"},
		{"instance history", "Condition/c-psy/_history"},
		{"type history", "Condition/_history"},
		{"system history", "_history"},
		{"Patient type history", "Patient/_history"},
		{"system search", "?_type=Condition,Patient"},
	}
	// got returns every resource reference in a response (a Bundle's
	// entries, or a resource), following batch responses.
	var got func(m map[string]any) []string
	got = func(m map[string]any) []string {
		if m["resourceType"] != "Bundle" {
			if typ, _ := m["resourceType"].(string); typ != "" && typ != "OperationOutcome" {
				id, _ := m["id"].(string)
				return []string{typ + "/" + id}
			}
			return nil
		}
		var out []string
		entries, _ := m["entry"].([]any)
		for _, e := range entries {
			em, _ := e.(map[string]any)
			if r, ok := em["resource"].(map[string]any); ok {
				out = append(out, got(r)...)
			}
		}
		return out
	}
	// A user's role allows no read of every type at once, so system
	// history is refused whole to users; an API client with system/*.read
	// reaches it, and it must hide the same records from it. $everything
	// gives a user the record as far as the role reads it.
	wholeSystem := map[string]bool{"system history": true}
	see := func(who, role, purpose string, wantHidden map[string]bool) {
		t.Helper()
		var hdr []string
		if strings.HasPrefix(role, "system/") {
			hdr = []string{"X-Test-Scopes", role}
			role = access.RoleIntegrationClient
		}
		hdr = append(hdr, "X-Test-Purpose", purpose)
		check := func(name string, refs []string, raw string) {
			t.Helper()
			for _, r := range refs {
				if wantHidden[r] {
					t.Errorf("%s (%s): %s came back", name, who, r)
				}
			}
			// Either version of the sensitive diagnosis, however embedded.
			if wantHidden["Condition/c-psy"] && (strings.Contains(raw, `"text":"depression"`) || strings.Contains(raw, "major depression")) {
				t.Errorf("%s (%s): the sensitive diagnosis's text came back", name, who)
			}
			if wantHidden["Patient/p2"] && strings.Contains(raw, `"Restricted"`) {
				t.Errorf("%s (%s): the restricted patient's name came back", name, who)
			}
		}
		var batch []any
		for _, rd := range reads {
			code, m := a.do("GET", rd.path, who, role, nil, hdr...)
			if code == http.StatusForbidden && wholeSystem[rd.name] && role != access.RoleIntegrationClient {
				continue
			}
			if code != http.StatusOK {
				t.Errorf("%s (%s): %d %v", rd.name, who, code, m)
				continue
			}
			raw, _ := json.Marshal(m)
			check(rd.name, got(m), string(raw))
			batch = append(batch, map[string]any{"request": map[string]any{"method": "GET", "url": rd.path}})
		}
		b, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "batch", "entry": batch})
		code, m := a.do("POST", "", who, role, b, hdr...)
		if code != http.StatusOK {
			t.Fatalf("batch (%s): %d %v", who, code, m)
		}
		entries, _ := m["entry"].([]any)
		for i, e := range entries {
			em, _ := e.(map[string]any)
			resp, _ := em["resource"].(map[string]any)
			raw, _ := json.Marshal(resp)
			check("batch entry "+reads[i].name, got(resp), string(raw))
		}
		// Reading the hidden ones directly: not found.
		for _, h := range hidden {
			code, _ := a.do("GET", h, who, role, nil, hdr...)
			if wantHidden[h] && code != http.StatusNotFound {
				t.Errorf("read %s (%s): %d, want 404", h, who, code)
			}
			if !wantHidden[h] && code != http.StatusOK {
				t.Errorf("read %s (%s): %d, want 200", h, who, code)
			}
			code, _ = a.do("GET", h+"/_history/1", who, role, nil, hdr...)
			if wantHidden[h] && code != http.StatusNotFound {
				t.Errorf("vread %s (%s): %d, want 404", h, who, code)
			}
		}
	}
	all := map[string]bool{"Condition/c-psy": true, "Patient/p2": true}
	see("cody", access.RoleCoder, "", all)
	see("rick", access.RoleRegistrar, "HOPERAT", all)
	see("cleo", access.RoleClinician, "HOPERAT", all) // a clinician without treatment as the purpose
	see("cleo", access.RoleClinician, "TREAT", map[string]bool{})
	see("feed", "system/*.read", "", all)

	// The coder breaks the glass for p1: p1's record opens, p2's does not.
	params := `{"resourceType":"Parameters","parameter":[{"name":"reason","valueString":"coding query needs the full record"}]}`
	if code, m := a.do("POST", "Patient/p1/$break-glass", "cody", access.RoleCoder, []byte(params)); code != http.StatusOK {
		t.Fatalf("break the glass: %d %v", code, m)
	}
	see("cody", access.RoleCoder, "", map[string]bool{"Patient/p2": true})
	if code, m := a.do("GET", "Patient/p1/Condition", "cody", access.RoleCoder, nil); code != http.StatusOK || !strings.Contains(mustJSON(m), "major depression") {
		t.Errorf("the compartment after breaking the glass: %d, the sensitive record missing", code)
	}
	if code, m := a.do("POST", "Patient/p1/$break-glass", "feed", access.RoleIntegrationClient, []byte(params), "X-Test-Scopes", "system/*.read"); code != http.StatusOK {
		t.Fatalf("a client breaks the glass: %d %v", code, m)
	}
	see("feed", "system/*.read", "", map[string]bool{"Patient/p2": true})
	if code, m := a.do("GET", "Patient/p1/$everything", "feed", access.RoleIntegrationClient, nil, "X-Test-Scopes", "system/*.read"); code != http.StatusOK || !strings.Contains(mustJSON(m), "major depression") {
		t.Errorf("$everything after breaking the glass: %d, the sensitive record missing", code)
	}
	// The grant ends.
	a.st.Now = func() time.Time { return time.Now().Add(5 * time.Hour) }
	see("cody", access.RoleCoder, "", all)
	see("feed", "system/*.read", "", all)
}

// openRestricted is the API over a record with a plain patient p1 who has
// a psychiatric diagnosis c-psy (two versions) beside a plain one and an
// encounter e1 for it, and a restricted patient p2 with an encounter e2.
func openRestricted(t *testing.T) *api {
	t.Helper()
	a := openAPI(t)
	const psy = `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]}`
	const vip = `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]}`
	a.seed("Patient", "p1", `{"resourceType":"Patient","name":[{"family":"Plain"}]}`)
	a.seed("Patient", "p2", `{"resourceType":"Patient",`+vip+`,"name":[{"family":"Restricted"}]}`)
	a.seed("Condition", "c-psy", `{"resourceType":"Condition",`+psy+`,"code":{"coding":[{"system":"http://snomed.info/sct","code":"35489007"}],"text":"depression"},"subject":{"reference":"Patient/p1"}}`)
	a.seed("Condition", "c-plain", `{"resourceType":"Condition","code":{"text":"asthma"},"subject":{"reference":"Patient/p1"}}`)
	a.seed("Encounter", "e1", `{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},
		"subject":{"reference":"Patient/p1"},"reasonReference":[{"reference":"Condition/c-psy"}]}`)
	a.seed("Encounter", "e2", `{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p2"}}`)
	// A second version of the sensitive record, so history has two.
	a.seed("Condition", "c-psy", `{"resourceType":"Condition",`+psy+`,"code":{"coding":[{"system":"http://snomed.info/sct","code":"35489007"}],"text":"major depression"},"subject":{"reference":"Patient/p1"}}`)

	return a
}

// TestHiddenRecordsFindNothing: a record the user may not see must not
// be what a search finds others by — a chain through it, or _has on it —
// or the search tells the user it exists (which patients have an HIV or
// psychiatric code).
func TestHiddenRecordsFindNothing(t *testing.T) {
	a := openRestricted(t)
	got := func(m map[string]any) int { e, _ := m["entry"].([]any); return len(e) }
	// _has finds patients by records that point at them: a hidden record
	// must not be what finds one, or the search tells its existence.
	hasHidden := func(who, role string, hdr ...string) int {
		t.Helper()
		code, m := a.do("GET", "Patient?_has:Condition:subject:code=http://snomed.info/sct|35489007", who, role, nil, hdr...)
		if code != http.StatusOK {
			t.Fatalf("_has (%s): %d %v", who, code, m)
		}
		return got(m)
	}
	chained := func(who, role string, hdr ...string) int {
		t.Helper()
		code, m := a.do("GET", "Encounter?reason-reference:Condition.code=http://snomed.info/sct|35489007", who, role, nil, hdr...)
		if code != http.StatusOK {
			t.Fatalf("chain (%s): %d %v", who, code, m)
		}
		return got(m)
	}
	if n := chained("cody", access.RoleCoder); n != 0 {
		t.Errorf("a chain through a hidden record (coder): %d encounters found, want 0", n)
	}
	if n := chained("cleo", access.RoleClinician, "X-Test-Purpose", "TREAT"); n != 1 {
		t.Errorf("a chain through a sensitive record (clinician treating): %d encounters found, want 1", n)
	}
	if n := hasHidden("cody", access.RoleCoder); n != 0 {
		t.Errorf("_has by a hidden record (coder): %d patients found, want 0", n)
	}
	if n := hasHidden("cleo", access.RoleClinician, "X-Test-Purpose", "TREAT"); n != 1 {
		t.Errorf("_has by a sensitive record (clinician treating): %d patients found, want 1", n)
	}
	// Once the coder breaks the glass for p1, its records find it.
	params := `{"resourceType":"Parameters","parameter":[{"name":"reason","valueString":"coding query needs the full record"}]}`
	if code, m := a.do("POST", "Patient/p1/$break-glass", "cody", access.RoleCoder, []byte(params)); code != http.StatusOK {
		t.Fatalf("break the glass: %d %v", code, m)
	}
	if n := chained("cody", access.RoleCoder); n != 1 {
		t.Errorf("a chain after breaking the glass: %d encounters found, want 1", n)
	}
	if n := hasHidden("cody", access.RoleCoder); n != 1 {
		t.Errorf("_has after breaking the glass: %d patients found, want 1", n)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
