package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/sqldb"
)

const benchSearchUsage = `Usage: custodian bench search --data DIR [--resources N] [flags]

Times FHIR searches over HTTP (loopback, the FHIR API as custodian serve
wires it, the request acting as the system) on a store of about N
resources. If the store in DIR is empty it is built first: custodian
generate (N/153 patients, the generator's resources per person) into
DIR/generated, then custodian import. Each query of the set is run --n
times with values drawn from the stored resources (after --warm untimed
runs), one request at a time, and its p50, p95, p99 and largest times are
printed with the mean matches and SQL statements per request.

`

// searchBench is one run of "custodian bench search".
type searchBench struct {
	out, log  io.Writer
	data, url string
	resources int
	n, warm   int
	seed      uint64
	only      string
	profile   string

	app  *app
	base string
	http *http.Client
	rng  *rand.Rand
	// statements is the search statement count of the last request (the
	// bench sends one request at a time).
	statements atomic.Int64
}

func runBenchSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	b := &searchBench{out: stdout, log: stderr}
	fs := flag.NewFlagSet("bench search", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchSearchUsage); fs.PrintDefaults() }
	sf := addStoreFlags(fs)
	fs.IntVar(&b.resources, "resources", 1_000_000, "resources to generate when the store is empty")
	fs.IntVar(&b.n, "n", 200, "timed requests per query")
	fs.IntVar(&b.warm, "warm", 20, "untimed requests per query first")
	fs.Uint64Var(&b.seed, "seed", 1, "random seed for the values searched for")
	fs.StringVar(&b.only, "queries", "", "only the queries whose name contains this")
	fs.StringVar(&b.profile, "cpuprofile", "", "write a CPU profile of the timed requests to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench search: unexpected arguments %q", fs.Args())
	}
	if b.n < 1 || b.resources < 1 {
		return fmt.Errorf("bench search: --n and --resources must be at least 1")
	}
	b.data, b.url = *sf.data, *sf.url
	b.rng = rand.New(rand.NewPCG(b.seed, 7))
	return b.run(custodian.NewContextWithActor(ctx, custodian.SystemActor()))
}

func (b *searchBench) run(ctx context.Context) error {
	if err := b.build(ctx); err != nil {
		return err
	}
	a, err := openApp(ctx, b.data, b.url, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer a.Close()
	b.app = a
	var total int64
	if err := a.db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM resources WHERE deleted = 0`).Scan(&total); err != nil {
		return err
	}
	fmt.Fprintf(b.out, "%d stored resources; load average %s\n", total, loadAverage())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The request acts as the system, and counts its search statements.
		rctx, n := sqldb.CountSearchStatements(custodian.NewContextWithActor(r.Context(), custodian.SystemActor()))
		a.fhir.ServeHTTP(w, r.WithContext(rctx))
		b.statements.Store(n.Load())
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	b.base = "http://" + ln.Addr().String() + "/fhir/"
	b.http = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	queries, err := b.queries(ctx)
	if err != nil {
		return err
	}
	if b.profile != "" {
		f, err := os.Create(b.profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	tw := tabwriter.NewWriter(b.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "query\tn\tp50 ms\tp95 ms\tp99 ms\tmax ms\tCPU ms/req\tmatches\tincluded\tstatements\t")
	for _, q := range queries {
		if b.only != "" && !strings.Contains(q.name, b.only) {
			continue
		}
		r, err := b.time(ctx, q)
		if err != nil {
			return fmt.Errorf("bench search: %s: %w", q.name, err)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.1f\t%.1f\t%s\t\n", q.name, len(r.lat),
			ms(r.pct(50)), ms(r.pct(95)), ms(r.pct(99)), ms(r.pct(100)), ms(r.cpu), r.matches, r.included, r.statements)
		fmt.Fprintf(b.log, "%s: p95 %.2f ms\n", q.name, ms(r.pct(95)))
		for _, s := range r.slowest {
			fmt.Fprintf(b.log, "  over 50 ms: %s\n", s)
		}
	}
	return tw.Flush()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// build generates and imports a store when DIR holds none.
func (b *searchBench) build(ctx context.Context) error {
	a, err := openApp(ctx, b.data, b.url, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	var n int64
	err = a.db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM resources`).Scan(&n)
	a.Close()
	if err != nil || n > 0 {
		return err
	}
	gen := filepath.Join(b.data, "generated")
	patients := max(1, b.resources/153)
	fmt.Fprintf(b.log, "the store is empty: generating %d patients into %s and importing them\n", patients, gen)
	start := time.Now()
	if _, err := os.Stat(filepath.Join(gen, "Patient.ndjson")); err != nil {
		g := &GenerateCommand{Stdout: io.Discard, Stderr: b.log}
		if err := g.Run(ctx, []string{"--patients", fmt.Sprint(patients), "--out", gen}); err != nil {
			return err
		}
	}
	args := []string{"--quiet", "--data", b.data}
	if b.url != "" {
		args = append(args, "--db", b.url)
	}
	im := &ImportCommand{Stdout: b.log, Stderr: b.log}
	if err := im.Run(ctx, append(args, gen)); err != nil {
		return err
	}
	if b.url != "" {
		// PostgreSQL plans from table statistics, which autovacuum
		// gathers in its own time, often before an import ends: timed
		// against those, searches measure the planner's guesses about a
		// partly loaded store (at 100k, 260 ms instead of 1.4 ms for one
		// Observation query).
		if err := analyze(ctx, b.data, b.url); err != nil {
			return err
		}
	}
	fmt.Fprintf(b.log, "built in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// analyze gathers the table statistics of the PostgreSQL store at url.
func analyze(ctx context.Context, data, url string) error {
	db, err := openDB(ctx, data, url)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.SQL().ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("bench search: analyze: %w", err)
	}
	return nil
}

// benchQuery is one query of the set: a name and the URLs to time, drawn
// from the stored resources.
type benchQuery struct {
	name string
	urls []string
}

// sql writes query's placeholders for the engine.
func (b *searchBench) sql(query string) string {
	if b.url == "" {
		return query
	}
	for i := 1; strings.Contains(query, "?"); i++ {
		query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
	}
	return query
}

// sample returns up to n resources of typ at random row ids.
func (b *searchBench) sample(ctx context.Context, typ string, n int) ([]map[string]any, error) {
	var lo, hi int64
	if err := b.app.db.SQL().QueryRowContext(ctx, b.sql(`SELECT min(rid), max(rid) FROM resources WHERE type = ?`), typ).Scan(&lo, &hi); err != nil {
		return nil, fmt.Errorf("no %s stored: %w", typ, err)
	}
	var out []map[string]any
	for range n * 2 {
		if len(out) == n {
			break
		}
		var id string
		err := b.app.db.SQL().QueryRowContext(ctx, b.sql(`SELECT id FROM resources WHERE type = ? AND rid >= ? AND deleted = 0 ORDER BY rid LIMIT 1`),
			typ, lo+b.rng.Int64N(hi-lo+1)).Scan(&id)
		if err != nil {
			continue
		}
		r, err := b.app.store.Read(ctx, typ, id)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(r.Body, &m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s stored", typ)
	}
	return out, nil
}

// get reads a path of keys and indexes ("name.0.family") from a resource.
func get(m any, path string) string {
	for _, k := range strings.Split(path, ".") {
		switch x := m.(type) {
		case map[string]any:
			m = x[k]
		case []any:
			i := 0
			fmt.Sscan(k, &i)
			if i >= len(x) {
				return ""
			}
			m = x[i]
		default:
			return ""
		}
	}
	s, _ := m.(string)
	return s
}

// queries draws the query set's values from the store.
func (b *searchBench) queries(ctx context.Context) ([]benchQuery, error) {
	const k = 100
	pats, err := b.sample(ctx, "Patient", k)
	if err != nil {
		return nil, err
	}
	obs, err := b.sample(ctx, "Observation", k)
	if err != nil {
		return nil, err
	}
	encs, err := b.sample(ctx, "Encounter", k)
	if err != nil {
		return nil, err
	}
	conds, err := b.sample(ctx, "Condition", k)
	if err != nil {
		return nil, err
	}
	qs := []benchQuery{{name: "patient-name-birthdate"}, {name: "observation-patient-code-date"},
		{name: "encounter-date-include-patient"}, {name: "condition-code-below"}, {name: "observation-chain-patient-identifier"},
		{name: "patient-has-condition-code"}, {name: "observation-sort-date-desc"},
		{name: "encounter-page10-3-includes"}, {name: "encounter-page100-3-includes"}, {name: "patient-everything"}, {name: "patient-everything-1000"},
		{name: "patient-has-common-code"}}
	add := func(i int, u string) { qs[i].urls = append(qs[i].urls, u) }
	v := url.Values{}
	enc := func(kv ...string) string {
		clear(v)
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	for _, p := range pats {
		if id := get(p, "id"); id != "" {
			add(9, "Patient/"+id+"/$everything")              // the first page, at the server's default size (20)
			add(10, "Patient/"+id+"/$everything?_count=1000") // a median record whole, in one page
		}
		if f, bd := get(p, "name.0.family"), get(p, "birthDate"); f != "" && bd != "" {
			add(0, "Patient?"+enc("name", f, "birthdate", bd))
		}
		for i := range 4 {
			if sys, val := get(p, fmt.Sprintf("identifier.%d.system", i)), get(p, fmt.Sprintf("identifier.%d.value", i)); strings.HasSuffix(sys, "/mrn") {
				add(4, "Observation?"+enc("subject:Patient.identifier", sys+"|"+val))
			}
		}
	}
	for _, o := range obs {
		subj, sys, code, when := get(o, "subject.reference"), get(o, "code.coding.0.system"), get(o, "code.coding.0.code"), get(o, "effectiveDateTime")
		if subj == "" || code == "" || len(when) < 4 {
			continue
		}
		y := when[:4]
		var next int
		fmt.Sscan(y, &next)
		add(1, "Observation?"+enc("subject", subj, "code", sys+"|"+code, "date", "ge"+y+"-01-01", "date", fmt.Sprintf("lt%d-01-01", next+1)))
	}
	for _, e := range encs {
		if day := get(e, "period.start"); len(day) >= 10 {
			add(2, "Encounter?"+enc("date", day[:10], "_include", "Encounter:patient"))
			three := []string{"_include", "Encounter:patient", "_include", "Encounter:participant", "_include", "Encounter:diagnosis"}
			add(7, "Encounter?"+enc(append([]string{"date", "ge" + day[:7], "_count", "10"}, three...)...))
			add(8, "Encounter?"+enc(append([]string{"date", "ge" + day[:7], "_count", "100"}, three...)...))
		}
	}
	for _, c := range conds {
		sys, code := get(c, "code.coding.0.system"), get(c, "code.coding.0.code")
		if sys == "http://hl7.org/fhir/sid/icd-10-cm" && len(code) >= 3 {
			add(3, "Condition?"+enc("code:below", sys+"|"+code[:3]))
			add(5, "Patient?"+enc("_has:Condition:patient:code", sys+"|"+code))
		}
	}
	add(6, "Observation?_sort=-date")
	// The ten commonest Condition codes (E11.9, I10 and the like): the
	// referrers are many, and a page of patients is found among the first.
	common, err := b.commonCodes(ctx, "Condition", "code", 10)
	if err != nil {
		return nil, err
	}
	for _, c := range common {
		add(11, "Patient?"+enc("_has:Condition:patient:code", c))
	}
	var out []benchQuery
	for _, q := range qs {
		if len(q.urls) == 0 {
			fmt.Fprintf(b.log, "%s: no values found in the store; left out\n", q.name)
			continue
		}
		out = append(out, q)
	}
	return out, nil
}

// commonCodes returns the n commonest system|code values of the token
// parameter code of typ, from its index rows.
func (b *searchBench) commonCodes(ctx context.Context, typ, code string, n int) ([]string, error) {
	rows, err := b.app.db.SQL().QueryContext(ctx, b.sql(`SELECT t.system, t.code FROM idx_token t JOIN search_params p ON p.pid = t.pid
		WHERE p.type = ? AND p.code = ? GROUP BY t.system, t.code ORDER BY count(*) DESC, t.code LIMIT ?`), typ, code, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var sys, c string
		if err := rows.Scan(&sys, &c); err != nil {
			return nil, err
		}
		out = append(out, sys+"|"+c)
	}
	return out, rows.Err()
}

// benchTimes is what timing one query gave.
type benchTimes struct {
	lat                []time.Duration
	slowest            []string // the slowest URLs, with their times
	matches, included  float64
	statements         string
	minStmts, maxStmts int64
	// cpu is the process's CPU time (user and system, client and server,
	// which share it) per timed request: what a request costs whatever
	// else the machine runs.
	cpu time.Duration
}

func (r *benchTimes) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(r.lat))
	rank := int(p/100*float64(len(s))+0.999999) - 1
	return s[max(0, min(rank, len(s)-1))]
}

// time runs q's URLs in turn: warm untimed, then n timed.
func (b *searchBench) time(ctx context.Context, q benchQuery) (*benchTimes, error) {
	r := &benchTimes{minStmts: 1 << 62}
	var matches, included int
	var cpu0 time.Duration
	for i := range b.warm + b.n {
		if i == b.warm {
			cpu0 = processCPU()
		}
		u := q.urls[i%len(q.urls)]
		start := time.Now()
		m, inc, err := b.get(ctx, u)
		took := time.Since(start)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", u, err)
		}
		if i < b.warm {
			continue
		}
		r.lat = append(r.lat, took)
		if took > 50*time.Millisecond && len(r.slowest) < 5 {
			r.slowest = append(r.slowest, fmt.Sprintf("%.1f ms %s", ms(took), u))
		}
		matches += m
		included += inc
		st := b.statements.Load()
		r.minStmts, r.maxStmts = min(r.minStmts, st), max(r.maxStmts, st)
	}
	r.cpu = (processCPU() - cpu0) / time.Duration(b.n)
	r.matches = float64(matches) / float64(b.n)
	r.included = float64(included) / float64(b.n)
	r.statements = fmt.Sprint(r.minStmts)
	if r.maxStmts != r.minStmts {
		r.statements += fmt.Sprintf("–%d", r.maxStmts)
	}
	return r, nil
}

// processCPU is the CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// get runs one search and counts its matches and included resources.
func (b *searchBench) get(ctx context.Context, u string) (matches, included int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+u, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("status %d: %.300s", resp.StatusCode, body)
	}
	var bundle struct {
		Entry []struct {
			Search struct {
				Mode string `json:"mode"`
			} `json:"search"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &bundle); err != nil {
		return 0, 0, errors.New("the answer is not a Bundle")
	}
	for _, e := range bundle.Entry {
		if e.Search.Mode == "match" {
			matches++
		} else {
			included++
		}
	}
	return matches, included, nil
}
