package web_test

import (
	"context"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/custodian-him/custodian/sqldb/sqlite"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
)

// BenchmarkPages measures each page's time on the server (through the
// sign-in middleware, over loopback) on a store of generated patients:
// CUSTODIAN_WEB_BENCH_PATIENTS of them (default 20), kept in
// CUSTODIAN_WEB_BENCH_DIR when set, so a large store is loaded only once.
// It reports the HTML bytes of each page.
//
//	CUSTODIAN_WEB_BENCH_PATIENTS=2000 CUSTODIAN_WEB_BENCH_DIR=/tmp/webbench go test ./web -run '^$' -bench Pages -benchtime 20x
func BenchmarkPages(b *testing.B) {
	n := 20
	if s := os.Getenv("CUSTODIAN_WEB_BENCH_PATIENTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	dir := os.Getenv("CUSTODIAN_WEB_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	db, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	e := openEnv(b, db)
	e.fill(n)
	e.pickInpatient()
	rita, paula, dana := e.signIn("rita"), e.signIn("paula"), e.signIn("dana")
	// Something for the access report and the audit filter to find.
	rita.get("/patients/" + e.patient)
	pages := []struct {
		name string
		c    *client
		path string
		form url.Values
		ttl  time.Duration
		wait time.Duration
	}{
		// Counting the record every time, waiting for it; then the first
		// view of a user (which waits CountWait at most); then the views
		// after it, from the kept counts.
		{"dashboard-counting", dana, "/dashboard", nil, time.Nanosecond, time.Hour},
		{"dashboard-first-view", dana, "/dashboard", nil, time.Nanosecond, 0},
		{"dashboard", dana, "/dashboard", nil, 0, time.Hour},
		{"dashboard-with-alerts", paula, "/dashboard", nil, 0, time.Hour},
		{"search-name", rita, "/patients", url.Values{"name": {e.family}}, 0, 0},
		{"search-mrn", rita, "/patients", url.Values{"identifier": {e.mrn}}, 0, 0},
		{"chart", rita, "/patients/" + e.patient, nil, 0, 0},
		{"note", rita, "/patients/" + e.patient + "/documents/" + e.doc, nil, 0, 0},
		{"history", rita, "/patients/" + e.patient + "/history", nil, 0, 0},
		{"audit-log", paula, "/audit", nil, 0, 0},
		{"audit-filtered", paula, "/audit", url.Values{"actor": {"rita"}, "patient": {e.patient}}, 0, 0},
		{"audit-refusals", paula, "/audit", url.Values{"outcome": {"forbidden"}}, 0, 0},
		{"access-report", paula, "/patients/" + e.patient + "/access", nil, 0, 0},
		{"break-glass-review", paula, "/audit/break-glass", nil, 0, 0},
	}
	for _, p := range pages {
		e.h.DashboardTTL, e.h.CountWait = p.ttl, p.wait
		b.Run(p.name, func(b *testing.B) {
			var size int
			if p.ttl == 0 { // once untimed, so what is kept is kept
				if p.form != nil {
					p.c.postCSRF(p.path, p.form)
				} else {
					p.c.get(p.path)
				}
			}
			for b.Loop() {
				var body string
				if p.form != nil {
					resp, bd := p.c.postCSRF(p.path, p.form)
					if resp.StatusCode != 200 {
						b.Fatalf("POST %s: %d", p.path, resp.StatusCode)
					}
					body = bd
				} else {
					resp, bd := p.c.get(p.path)
					if resp.StatusCode != 200 {
						b.Fatalf("GET %s: %d", p.path, resp.StatusCode)
					}
					body = bd
				}
				size = len(body)
			}
			b.ReportMetric(float64(size), "html-bytes")
		})
	}
}

// fill loads generated patients until the store holds n of them (seed 7),
// in batches, without keeping the hospital in memory.
func (e *env) fill(n int) {
	q := &store.Query{Types: []string{"Patient"}, CountTotal: true}
	page, err := e.st.Search(e.system, q)
	if err != nil {
		e.t.Fatal(err)
	}
	if page.Total > 0 {
		return
	}
	start := time.Now()
	l := &batchLoader{e: e}
	if _, err := synth.Generate(context.Background(), synth.Config{Patients: n, Seed: 7}, l); err != nil {
		e.t.Fatal(err)
	}
	l.flush()
	e.t.Logf("loaded %d resources for %d patients in %s", l.n, n, time.Since(start).Round(time.Second))
}

type batchLoader struct {
	e     *env
	batch []map[string]any
	n     int
}

func (l *batchLoader) Resource(_, _ string, body []byte) error {
	res, err := store.Decode(body)
	if err != nil {
		return err
	}
	l.batch = append(l.batch, res)
	if len(l.batch) == 2000 {
		l.flush()
	}
	return nil
}

func (l *batchLoader) Fact(*synth.Fact) error { return nil }

func (l *batchLoader) flush() {
	if len(l.batch) == 0 {
		return
	}
	if _, err := l.e.st.PutBatch(l.e.system, l.batch); err != nil {
		l.e.t.Fatal(err)
	}
	l.n += len(l.batch)
	l.batch = l.batch[:0]
}

// pickInpatient chooses the patient of the first inpatient stay (a full
// record) and one of their notes.
func (e *env) pickInpatient() {
	ctx := e.system
	find := func(typ string, vals url.Values) map[string]any {
		q, _, err := e.st.ParseQuery(typ, vals, true)
		if err != nil {
			e.t.Fatal(err)
		}
		p, err := e.st.Search(ctx, q)
		if err != nil || len(p.Resources) == 0 {
			e.t.Fatalf("no %s for the benchmark: %v", typ, err)
		}
		m, _ := store.Decode(p.Resources[0].Body)
		return m
	}
	enc := find("Encounter", url.Values{"class": {"IMP"}, "_count": {"1"}})
	ref := enc["subject"].(map[string]any)["reference"].(string)
	e.patient = ref[len("Patient/"):]
	doc := find("DocumentReference", url.Values{"patient": {e.patient}, "_count": {"1"}})
	e.doc = doc["id"].(string)
	p := find("Patient", url.Values{"_id": {e.patient}})
	e.family = p["name"].([]any)[0].(map[string]any)["family"].(string)
	for _, ident := range p["identifier"].([]any) {
		m := ident.(map[string]any)
		if m["system"] == "https://custodian.example/fhir/mrn" {
			e.mrn = m["value"].(string)
		}
	}
}
