package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/ingest/hl7v2"
	"github.com/custodian-him/custodian/ingest/mllp"
	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/web/feeds"
)

const benchWebUsage = `Usage: custodian bench web --data DIR [flags]

Times every page of the workbench on the server, as each role sees it,
over a store that is already loaded (e.g. by custodian generate and
custodian import): the server is wired exactly as custodian serve wires it,
listens on loopback, and the time from a request's arrival to the end of
its answer is taken for each page. It prints the start-up (what serve reads
before the pages answer) and, per page, the first view and the p50, p95 and
largest of --n further views, with the page's size.

It adds one user per role (named bench-<role>, with a random password) and
the audit entries of the pages it reads: use a copy of a production store.

`

// benchWeb is one run of "custodian bench web".
type benchWeb struct {
	out, log  io.Writer
	data, db  string
	n         int
	only      *regexp.Regexp
	loadLimit time.Duration
	settle    time.Duration
	// profiles is the directory CPU profiles of each page go to.
	profiles string
	// period is the measures' period (from/to), chosen to hold data.
	period url.Values
	// skipped names the pages that could not be timed, with why.
	skipped []string

	app *app
	// last is the server time of the latest request, in nanoseconds (the
	// requests are made one at a time).
	last atomic.Int64
	base string
	rows []webBenchRow
}

type webBenchRow struct {
	page, role          string
	first, p50, p95, mx time.Duration
	// cpu is the process's CPU time per timed view (background work
	// included), steadier than the wall time on a busy machine.
	cpu time.Duration
	// gcs is the garbage collections that ended during the timed views.
	gcs           uint32
	bytes, status int
	err           string
}

// runBenchWeb runs "custodian bench web" with args (after "web").
func runBenchWeb(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	b := &benchWeb{out: stdout, log: stderr}
	fs := flag.NewFlagSet("bench web", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchWebUsage); fs.PrintDefaults() }
	sf := addStoreFlags(fs)
	fs.IntVar(&b.n, "n", 20, "timed views of each page (after one untimed first view)")
	only := fs.String("pages", "", "only the pages whose name matches this regular expression")
	fs.DurationVar(&b.loadLimit, "load-limit", time.Hour, "how long to wait for the measures' record to be read at start")
	fs.DurationVar(&b.settle, "settle", 0, "how long to let the background work of a start (duplicate scoring, case finding) run before timing")
	fs.StringVar(&b.profiles, "cpuprofile", "", "directory to write a CPU profile of each page's views to (cpu-<page>.pprof)")
	period := fs.String("period", "2024-10-01/2025-09-30", "the measure pages' period, FROM/TO (the last year custodian generate writes by default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench web: unexpected arguments %q", fs.Args())
	}
	if b.n < 1 {
		return fmt.Errorf("bench web: --n must be at least 1")
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			return fmt.Errorf("bench web: --pages: %w", err)
		}
		b.only = re
	}
	from, to, ok := strings.Cut(*period, "/")
	if !ok {
		return fmt.Errorf("bench web: --period must be FROM/TO, e.g. 2024-10-01/2025-09-30")
	}
	if _, err := measure.NewPeriod(from, to); err != nil {
		return fmt.Errorf("bench web: --period: %w", err)
	}
	b.period = url.Values{"from": {from}, "to": {to}}
	b.data, b.db = *sf.data, *sf.url
	// Making the bench users and reading the subjects is command-line work.
	return b.run(custodian.NewContextWithActor(ctx, cliActor()))
}

func (b *benchWeb) run(ctx context.Context) error {
	logger := slog.New(slog.NewTextHandler(b.log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	start := time.Now()
	// Each step is printed as it is reached, so a long start is followed
	// while it runs.
	fmt.Fprintf(b.out, "start-up (wall time and process CPU time from the start):\n")
	step := func(name string) {
		fmt.Fprintf(b.out, "  %-50s %10s  CPU %s\n", name, time.Since(start).Round(time.Millisecond), processCPU().Round(10*time.Millisecond))
	}
	a, err := openApp(ctx, b.data, b.db, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	b.app = a
	step("store opened")
	stopWork, err := a.startWork(ctx, logger)
	if err != nil {
		return err
	}
	defer stopWork()
	step("serving (startWork returned)")
	// As serve does without an MLLP listener: the feeds page shows what
	// was received.
	feed := custodian.SystemActor()
	a.web.Modules = append(a.web.Modules, feeds.Module(feeds.Feed{Store: a.store,
		Handler: &mllp.StoreHandler{Store: a.store, Mapper: hl7v2.NewMapper(hl7v2.DefaultTables()), Actor: feed, Identity: a.identity}, Actor: feed}, a.web))
	// Serving starts here, as in serve: what startWork left to the
	// background is timed by asking its pages until they answer.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	h := a.Handler()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.Now()
		h.ServeHTTP(w, r)
		b.last.Store(int64(time.Since(t)))
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	b.base = "http://" + ln.Addr().String()
	roles := map[string]*webClient{}
	for _, role := range []string{access.RoleHIMDirector, access.RoleRecordAnalyst, access.RoleCoder, access.RolePrivacyOfficer, access.RoleROISpecialist} {
		c, err := b.signIn(ctx, role)
		if err != nil {
			return err
		}
		roles[role] = c
	}
	wait, cancel := context.WithTimeout(ctx, b.loadLimit)
	defer cancel()
	ready := map[string]func() (bool, error){
		"chart review index ready (review pages answer)": func() (bool, error) {
			st, _, err := roles[access.RoleRecordAnalyst].do("GET", "/review/queue", nil)
			return st == http.StatusOK, err
		},
		"DNFB ready (coding queue answers)": func() (bool, error) {
			st, _, err := roles[access.RoleCoder].do("GET", "/coding/", nil)
			return st == http.StatusOK, err
		},
		"measures' record read": func() (bool, error) { return !a.record.Loading(), nil },
		"dashboard counts seeded": func() (bool, error) {
			at, err := a.web.Counts.Seeded()
			return !at.IsZero(), err
		},
	}
	for len(ready) > 0 {
		for name, f := range ready {
			ok, err := f()
			if err != nil {
				return fmt.Errorf("bench web: waiting for %s: %w", name, err)
			}
			if ok {
				step(name)
				delete(ready, name)
			}
		}
		select {
		case <-wait.Done():
			return fmt.Errorf("bench web: start-up not done within %s", b.loadLimit)
		case <-time.After(500 * time.Millisecond):
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(b.settle):
	}
	fmt.Fprintf(b.out, "record %v\n", a.record.Counts())
	// Signed in again: a long start outlasts a session.
	for role := range roles {
		if roles[role], err = b.signIn(ctx, role); err != nil {
			return err
		}
	}
	return b.pages(ctx, roles)
}

// numGC is the number of garbage collections the process has finished.
func numGC() uint32 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.NumGC
}

// webClient is a signed-in browser of the bench.
type webClient struct {
	b    *benchWeb
	role string
	http *http.Client
}

var benchCSRF = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// signIn makes (or resets) the bench user of role and signs it in.
func (b *benchWeb) signIn(ctx context.Context, role string) (*webClient, error) {
	name := "bench-" + role
	raw := make([]byte, 18)
	crand.Read(raw)
	pw := "Bw-" + hex.EncodeToString(raw)
	if _, err := b.app.access.CreateUser(ctx, name, []string{role}, pw); custodian.ErrorCode(err) == custodian.ECONFLICT {
		if err := b.app.access.SetRoles(ctx, name, []string{role}); err != nil {
			return nil, err
		}
		if err := b.app.access.SetPassword(ctx, name, pw); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	jar, _ := cookiejar.New(nil)
	c := &webClient{b: b, role: role, http: &http.Client{Jar: jar, Timeout: 5 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	_, body, err := c.do("GET", "/login", nil)
	if err != nil {
		return nil, err
	}
	m := benchCSRF.FindStringSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("bench web: the sign-in page has no CSRF field")
	}
	status, _, err := c.do("POST", "/login", url.Values{"username": {name}, "password": {pw}, "csrf_token": {m[1]}})
	if err != nil {
		return nil, err
	}
	if status != http.StatusSeeOther {
		return nil, fmt.Errorf("bench web: signing in as %s: status %d", name, status)
	}
	return c, nil
}

// do makes one request (a form is POSTed, with the CSRF token of a page
// read first for it) and returns the status and body.
func (c *webClient) do(method, path string, form url.Values) (int, string, error) {
	var resp *http.Response
	var err error
	if method == "POST" {
		resp, err = c.http.PostForm(c.b.base+path, form)
	} else {
		resp, err = c.http.Get(c.b.base + path)
	}
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// csrf reads the CSRF token a signed-in page carries.
func (c *webClient) csrf() (string, error) {
	_, body, err := c.do("GET", "/patients", nil)
	if err != nil {
		return "", err
	}
	m := benchCSRF.FindStringSubmatch(body)
	if m == nil {
		return "", fmt.Errorf("bench web: no CSRF token for %s", c.role)
	}
	return m[1], nil
}

// webPage is one page to time.
type webPage struct {
	name   string
	c      *webClient
	method string
	path   string
	form   url.Values
}

// time views p once untimed and then b.n times.
func (b *benchWeb) time(p webPage) (string, error) {
	row := webBenchRow{page: p.name, role: p.c.role}
	if p.form != nil {
		tok, err := p.c.csrf()
		if err != nil {
			return "", err
		}
		p.form.Set("csrf_token", tok)
	}
	var times []time.Duration
	var body string
	if b.profiles != "" {
		f, err := os.Create(filepath.Join(b.profiles, "cpu-"+p.name+".pprof"))
		if err != nil {
			return "", err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return "", err
		}
		defer pprof.StopCPUProfile()
	}
	var cpu0 time.Duration
	var gc0 uint32
	for i := range b.n + 1 {
		status, bd, err := p.c.do(p.method, p.path, p.form)
		if err != nil {
			return "", err
		}
		d := time.Duration(b.last.Load())
		row.status, row.bytes, body = status, len(bd), bd
		if status != http.StatusOK {
			row.err = fmt.Sprintf("status %d", status)
			b.rows = append(b.rows, row)
			return body, nil
		}
		if i == 0 {
			row.first = d
			cpu0, gc0 = processCPU(), numGC()
			continue
		}
		times = append(times, d)
	}
	slices.Sort(times)
	row.p50 = times[len(times)/2]
	row.p95 = times[min(len(times)-1, (len(times)*95+99)/100-1)]
	row.mx = times[len(times)-1]
	row.cpu = (processCPU() - cpu0) / time.Duration(len(times))
	row.gcs = numGC() - gc0
	b.rows = append(b.rows, row)
	return body, nil
}

// subjects are the patients and work items the pages are timed on.
type subjects struct {
	median, largest             string
	medianFamily, medianBirth   string
	medianMRN                   string
	medianEncounters, largestEn int
}

// pickPatients chooses, from the measures' record, the patient with the
// median number of encounters (among those with any) and the one with the
// most, and reads the median one's name, birth date and MRN.
func (b *benchWeb) pickPatients(ctx context.Context) (*subjects, error) {
	type pe struct {
		id string
		n  int
	}
	var all []pe
	b.app.record.View(func(v *measure.View) error {
		v.Patients(func(p *measure.Patient) bool {
			if len(p.Encounters) > 0 && !p.Sensitive {
				all = append(all, pe{p.ID, len(p.Encounters)})
			}
			return true
		})
		return nil
	})
	if len(all) == 0 {
		return nil, fmt.Errorf("bench web: the store has no patients with encounters")
	}
	slices.SortFunc(all, func(x, y pe) int {
		if x.n != y.n {
			return x.n - y.n
		}
		return strings.Compare(x.id, y.id)
	})
	s := &subjects{median: all[len(all)/2].id, medianEncounters: all[len(all)/2].n,
		largest: all[len(all)-1].id, largestEn: all[len(all)-1].n}
	r, err := b.app.store.Read(ctx, "Patient", s.median)
	if err != nil {
		return nil, err
	}
	p, err := store.Decode(r.Body)
	if err != nil {
		return nil, err
	}
	if names, _ := p["name"].([]any); len(names) > 0 {
		n, _ := names[0].(map[string]any)
		s.medianFamily, _ = n["family"].(string)
	}
	s.medianBirth, _ = p["birthDate"].(string)
	ids, _ := p["identifier"].([]any)
	for _, x := range ids {
		m, _ := x.(map[string]any)
		if m["system"] == "https://custodian.example/fhir/mrn" {
			s.medianMRN, _ = m["value"].(string)
		}
	}
	return s, nil
}

// firstLink finds the first link in body that starts with prefix and
// returns what follows it (up to a quote, slash or question mark).
func firstLink(body, prefix string) string {
	re := regexp.MustCompile(regexp.QuoteMeta(prefix) + `([A-Za-z0-9\-\.]+)`)
	if m := re.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

func (b *benchWeb) pages(ctx context.Context, roles map[string]*webClient) error {
	dir, ana, coder, priv, roi := roles[access.RoleHIMDirector], roles[access.RoleRecordAnalyst], roles[access.RoleCoder], roles[access.RolePrivacyOfficer], roles[access.RoleROISpecialist]
	s, err := b.pickPatients(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "patients: median chart %d encounters, largest chart %d encounters\n\n", s.medianEncounters, s.largestEn)
	// Each step may need what an earlier page links to (a note, a pair, a
	// stay to code), so the pages run in this order.
	type step struct {
		p    webPage
		then func(body string) []webPage
	}
	get := func(name string, c *webClient, path string) webPage {
		return webPage{name: name, c: c, method: "GET", path: path}
	}
	post := func(name string, c *webClient, path string, form url.Values) webPage {
		return webPage{name: name, c: c, method: "POST", path: path, form: form}
	}
	steps := []step{
		{p: get("dashboard", dir, "/dashboard")},
		{p: get("dashboard-privacy", priv, "/dashboard")},
		{p: post("search-name", ana, "/patients", url.Values{"name": {s.medianFamily}})},
		{p: post("search-birthdate", ana, "/patients", url.Values{"birthdate": {s.medianBirth}})},
		{p: post("search-mrn", ana, "/patients", url.Values{"identifier": {s.medianMRN}})},
		{p: get("chart-median", ana, "/patients/"+s.median)},
		{p: get("chart-largest", ana, "/patients/"+s.largest), then: func(body string) []webPage {
			if doc := firstLink(body, "/patients/"+s.largest+"/documents/"); doc != "" {
				return []webPage{get("document", ana, "/patients/"+s.largest+"/documents/"+doc)}
			}
			b.skipped = append(b.skipped, "document (the largest chart lists none)")
			return nil
		}},
		{p: get("history", ana, "/patients/"+s.median+"/history")},
		{p: get("dnfb-queue", coder, "/coding/"), then: func(body string) []webPage {
			if enc := firstLink(body, "/coding/encounters/"); enc != "" {
				return []webPage{get("coding-workspace", coder, "/coding/encounters/"+enc)}
			}
			b.skipped = append(b.skipped, "coding-workspace (the DNFB queue is empty)")
			return nil
		}},
		{p: get("deficiency-queue", ana, "/review/queue")},
		{p: get("delinquency-report", ana, "/review/report")},
		{p: get("duplicates-queue", dir, "/duplicates/queue"), then: func(body string) []webPage {
			task := firstLink(body, "/duplicates/pairs/")
			if task == "" {
				b.skipped = append(b.skipped, "duplicate-pair and merge-preview (the queue is empty: serve scores registrations in the background after start)")
				return nil
			}
			_, pair, err := dir.do("GET", "/duplicates/pairs/"+task, nil)
			if err != nil {
				return nil
			}
			m := regexp.MustCompile(`name="survivor" value="([A-Za-z0-9\-\.]+)"`).FindStringSubmatch(pair)
			out := []webPage{get("duplicate-pair", dir, "/duplicates/pairs/"+task)}
			if m != nil {
				out = append(out, post("merge-preview", dir, "/duplicates/pairs/"+task+"/preview", url.Values{"survivor": {m[1]}}))
			}
			return out
		}},
		{p: get("merge-history", dir, "/duplicates/merges")},
		{p: get("audit-log", priv, "/audit")},
		{p: post("audit-filtered", priv, "/audit", url.Values{"actor": {"bench-" + access.RoleRecordAnalyst}, "patient": {s.median}})},
		{p: get("access-report", priv, "/patients/"+s.median+"/access")},
		{p: get("break-glass-review", priv, "/audit/break-glass")},
		{p: get("measures", dir, "/outcomes/measures/?"+b.period.Encode())},
		{p: get("measure", dir, "/outcomes/measures/readmission-30day?"+b.period.Encode())},
		{p: get("measure-patients", dir, "/outcomes/measures/readmission-30day/cases?population=denominator&"+b.period.Encode())},
		{p: get("registries", dir, "/outcomes/registries/"), then: func(body string) []webPage {
			if id := firstLink(body, "/outcomes/registries/"); id != "" {
				return []webPage{get("registry", dir, "/outcomes/registries/"+id)}
			}
			b.skipped = append(b.skipped, "registry (none listed)")
			return nil
		}},
		{p: get("feeds", dir, "/feeds/")},
		{p: get("roi-queue", roi, "/roi/queue")},
	}
	for _, st := range steps {
		todo := []webPage{st.p}
		for len(todo) > 0 {
			p := todo[0]
			todo = todo[1:]
			if b.only != nil && !b.only.MatchString(p.name) && st.then == nil {
				continue
			}
			body, err := b.time(p)
			if err != nil {
				return fmt.Errorf("bench web: %s: %w", p.name, err)
			}
			if b.only != nil && !b.only.MatchString(p.name) {
				b.rows = b.rows[:len(b.rows)-1] // timed only to reach what it links to
			}
			if st.then != nil && p.name == st.p.name {
				todo = append(todo, st.then(body)...)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return b.print()
}

func (b *benchWeb) print() error {
	tw := tabwriter.NewWriter(b.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "page\trole\tfirst ms\tp50 ms\tp95 ms\tmax ms\tCPU ms/view\tGCs\tbytes\t≤100 ms (p95)\t")
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
	var failed []string
	for _, r := range b.rows {
		if r.err != "" {
			fmt.Fprintf(tw, "%s\t%s\t\t\t\t\t\t\t%d\t%s\t\n", r.page, r.role, r.bytes, r.err)
			failed = append(failed, r.page)
			continue
		}
		ok := "yes"
		if r.p95 > 100*time.Millisecond {
			ok = "NO"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t\n", r.page, r.role, ms(r.first), ms(r.p50), ms(r.p95), ms(r.mx), ms(r.cpu), r.gcs, r.bytes, ok)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range b.skipped {
		fmt.Fprintf(b.out, "not timed: %s\n", s)
	}
	if len(failed) > 0 {
		return errors.New("bench web: pages failed: " + strings.Join(failed, ", "))
	}
	return nil
}
