package web_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/web"
)

// todayIn returns today's figure in the table of the dashboard section
// that begins with heading id (e.g. "received-h").
func todayIn(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no section %s", id)
	}
	sec := body[i:]
	if j := strings.Index(sec[1:], "</section>"); j >= 0 {
		sec = sec[:j]
	}
	label := time.Now().UTC().Format("01-02")
	if id == "classes-h" {
		label = "Inpatient"
	}
	m := regexp.MustCompile(`<th scope="row">` + label + `</th><td class="n">([0-9,]+)</td>`).FindStringSubmatch(sec)
	if m == nil {
		t.Fatalf("no row %s in %s:\n%s", label, id, sec)
	}
	return m[1]
}

// TestDashboardKeptCounts: with Counts, the dashboard shows what was
// stored before (counted once by Seed) and after (counted by the watcher)
// without counting twice, and counts the sensitive records only for those
// who may see them.
func TestDashboardKeptCounts(t *testing.T) {
	e := openEnv(t, sqldbtest.Open(t))
	put := func(bodies ...string) {
		t.Helper()
		var batch []map[string]any
		for _, b := range bodies {
			res, err := store.Decode([]byte(b))
			if err != nil {
				t.Fatal(err)
			}
			batch = append(batch, res)
		}
		results, err := e.st.PutBatch(e.system, batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}
	const vip = `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"CEL"}]},`
	put(`{"resourceType":"Patient","id":"open","gender":"female"}`,
		`{"resourceType":"Patient",`+vip+`"id":"vip","gender":"male"}`,
		`{"resourceType":"Encounter","id":"e1","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},"subject":{"reference":"Patient/open"}}`,
		`{"resourceType":"Practitioner","id":"dr"}`) // not a received type
	c := web.NewCounts(time.Now())
	c.Encounters = func(sensitive bool) (map[string]int64, error) {
		if sensitive {
			return map[string]int64{"IMP": 8, "AMB": 3}, nil
		}
		return map[string]int64{"IMP": 7, "AMB": 3}, nil
	}
	e.h.Counts = c
	e.st.Watchers = append(e.st.Watchers, c.Watcher())
	dana, paula := e.signIn("dana"), e.signIn("paula")
	if _, body := dana.get("/dashboard"); !strings.Contains(body, `id="counting"`) {
		t.Error("before the seed, the dashboard does not say the record is being counted")
	}
	if err := c.Seed(e.system, e.st); err != nil {
		t.Fatal(err)
	}
	put(`{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/open"}}`,
		`{"resourceType":"Condition",`+vip+`"id":"c1","subject":{"reference":"Patient/vip"}}`)
	tests := []struct {
		name                string
		c                   *client
		received, inpatient string
	}{
		{"without sensitive records", dana, "3", "7"},
		{"with them", paula, "5", "8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := tc.c.get("/dashboard")
			if resp.StatusCode != 200 || !strings.Contains(body, "Counts kept current") {
				t.Fatalf("dashboard: %d, kept: %v", resp.StatusCode, strings.Contains(body, "Counts kept current"))
			}
			if got := todayIn(t, body, "received-h"); got != tc.received {
				t.Errorf("received today: %s, want %s", got, tc.received)
			}
			if got := todayIn(t, body, "classes-h"); got != tc.inpatient {
				t.Errorf("inpatient encounters: %s, want %s", got, tc.inpatient)
			}
		})
	}
}
