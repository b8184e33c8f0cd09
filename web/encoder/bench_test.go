package encoder_test

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/custodian-him/custodian/access"
)

// BenchmarkPages measures the server time of the queue, the workspace (GET
// and an Update POST, which re-reads the notes, suggests, checks and
// groups) and the dashboard with the coding cards, on the tests' small
// hospital. Run: go test ./web/encoder -run '^$' -bench Pages -benchtime 20x
func BenchmarkPages(b *testing.B) {
	e := newEnv(b, patients)
	list, err := e.q.DNFB(as("cody", access.RoleCoder))
	if err != nil || len(list) == 0 {
		b.Fatal(len(list), err)
	}
	path := "/coding/encounters/" + strings.TrimPrefix(list[0].Encounter, "Encounter/")
	f := e.truth[list[0].Encounter]
	form := url.Values{"action": {"update"}}
	for _, d := range f.Diagnoses {
		form.Add("dx_code", d.Code)
		form.Add("dx_poa", d.POA)
	}
	for _, bc := range []struct {
		name, method, path, role string
	}{
		{"dnfb", "GET", "/coding/", access.RoleCoder},
		{"workspace", "GET", path, access.RoleCoder},
		{"update", "POST", path, access.RoleCoder},
		{"dashboard", "GET", "/dashboard", access.RoleHIMDirector},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				var req = httptest.NewRequest(bc.method, bc.path, nil)
				if bc.method == "POST" {
					req = httptest.NewRequest("POST", bc.path, strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				rec := httptest.NewRecorder()
				e.wb.ServeHTTP(rec, req.WithContext(as("bench", bc.role)))
				if rec.Code != 200 {
					b.Fatalf("%s: %d", bc.name, rec.Code)
				}
			}
		})
	}
}
