package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/custodian-him/custodian"
)

const benchUsage = `Usage: custodian bench store|search|web [flags]

  store   the record store's speed targets on the embedded database
          (durable: synchronous=FULL): single creates and transaction
          Bundles over HTTP, in-process loading, reads by id over HTTP, and
          storage per resource. Run it from the root of the source tree (for
          the resource templates).
  search  FHIR search latency over HTTP at ~N stored resources
          (--data DIR [--resources N]; builds the store when it is empty).
  web     the server time of every workbench page per role over a loaded
          store (--data DIR).

`

// BenchCommand runs the benchmarks.
type BenchCommand struct {
	Stdout, Stderr io.Writer
}

// Run dispatches to the benchmark named by args[0].
func (c *BenchCommand) Run(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "search":
			return runBenchSearch(ctx, args[1:], c.Stdout, c.Stderr)
		case "web":
			return runBenchWeb(ctx, args[1:], c.Stdout, c.Stderr)
		}
	}
	if len(args) == 0 || args[0] != "store" {
		fmt.Fprint(c.Stderr, benchUsage)
		if len(args) == 0 {
			return flag.ErrHelp
		}
		return fmt.Errorf("unknown benchmark %q (there is: store, search, web)", args[0])
	}
	b := &storeBench{out: c.Stdout, log: c.Stderr}
	if err := b.parseFlags(args[1:], c.Stderr); err != nil {
		return err
	}
	return b.run(ctx)
}

// storeBench is one run of "custodian bench store".
type storeBench struct {
	out, log io.Writer

	dataDir, templates, profileDir string
	// traceSteps and blockProfiles add an execution trace and block and
	// mutex profiles of each step to profileDir.
	traceSteps, blockProfiles bool
	// dbURL, when set, runs the bench on PostgreSQL instead of SQLite.
	dbURL                        string
	keep                         bool
	resources                    int64
	createClients, bundleClients []int
	readClients                  []int
	loadWorkers                  int
	duration                     time.Duration
	bundleSize                   int
	// prefer is the Prefer header's return= the Bundle clients send
	// ("" for none: the server returns every resource).
	prefer string
	skip   map[string]bool

	app *app
	// clientID and secret are the API client the HTTP steps sign in as.
	clientID, secret string
	data             *benchData
	rows             []benchRow
	// loadAvg is the machine's load average when the run began: other
	// work on the machine skews every figure.
	loadAvg string
	// created counts the resources written, to check against the database.
	created int64
	ids     []string // "Type/id" of resources loaded, for reads
	idsMu   sync.Mutex
}

// benchRow is one line of the results table.
type benchRow struct {
	step, clients, ops, resources, seconds, rate, cpu, p50, p95, p99, errors, target string
}

func (b *storeBench) parseFlags(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench store", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	fs.StringVar(&b.dataDir, "data", "", "database directory (default: a new temporary directory, removed afterwards unless --keep)")
	fs.StringVar(&b.dbURL, "db", "", "PostgreSQL URL (postgres://…) to measure instead of the embedded database; use an empty database")
	fs.BoolVar(&b.keep, "keep", false, "keep the temporary database directory")
	fs.StringVar(&b.templates, "templates", filepath.Join("fhir", "testdata", "synthea-sample.ndjson.gz"), "Synthea resources (gzip NDJSON) used as templates for synthetic patients")
	fs.Int64Var(&b.resources, "resources", 100000, "resources stored before the read test (loaded in-process through store.Transaction)")
	clients := fs.String("clients", "16,32,64", "concurrent HTTP clients for single creates, comma-separated")
	bclients := fs.String("bundle-clients", "4,8", "concurrent HTTP clients posting transaction Bundles, comma-separated")
	rclients := fs.String("read-clients", "1,16", "concurrent HTTP clients reading by id, comma-separated")
	fs.IntVar(&b.loadWorkers, "load-workers", 8, "goroutines calling store.Transaction while loading")
	fs.IntVar(&b.bundleSize, "bundle-size", 100, "resources per transaction Bundle")
	fs.StringVar(&b.prefer, "prefer", "", "Prefer: return= for the transaction Bundles (minimal, representation; default: no header)")
	fs.DurationVar(&b.duration, "duration", 10*time.Second, "how long each HTTP step runs")
	fs.StringVar(&b.profileDir, "cpuprofile", "", "directory to write a CPU and an allocation profile of each step to (cpu-<step>.pprof, allocs-<step>.pprof)")
	fs.BoolVar(&b.traceSteps, "trace", false, "with --cpuprofile: also write an execution trace of each step (trace-<step>.out)")
	fs.BoolVar(&b.blockProfiles, "block", false, "with --cpuprofile: also write block and mutex profiles of each step (block-<step>.pprof, mutex-<step>.pprof)")
	skip := fs.String("skip", "", "steps to leave out, comma-separated: create, bundle, load, read")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench store: unexpected arguments %q", fs.Args())
	}
	var err error
	if b.createClients, err = intList("--clients", *clients); err != nil {
		return err
	}
	if b.bundleClients, err = intList("--bundle-clients", *bclients); err != nil {
		return err
	}
	if b.readClients, err = intList("--read-clients", *rclients); err != nil {
		return err
	}
	b.skip = map[string]bool{}
	for _, s := range strings.Split(*skip, ",") {
		if s = strings.TrimSpace(s); s != "" {
			b.skip[s] = true
		}
	}
	if b.bundleSize < 2 || b.loadWorkers < 1 || b.duration <= 0 || b.resources < 0 {
		return errors.New("bench store: --bundle-size must be at least 2, --load-workers at least 1, --duration and --resources positive")
	}
	return nil
}

func intList(name, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %q is not a list of positive numbers", name, s)
		}
		out = append(out, n)
	}
	return out, nil
}

func (b *storeBench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func (b *storeBench) run(ctx context.Context) error {
	began := time.Now()
	ctx, stopTuning := context.WithCancel(ctx)
	defer stopTuning()
	tuneCollector(ctx) // as serve does: the server is measured as it runs
	b.loadAvg = loadAverage()
	data, err := loadBenchData(b.templates)
	if err != nil {
		return err
	}
	b.data = data
	if b.dataDir == "" {
		dir, err := os.MkdirTemp("", "custodian-bench-")
		if err != nil {
			return err
		}
		b.dataDir = dir
		if !b.keep {
			defer os.RemoveAll(dir)
		}
	}
	b.logf("data directory %s", b.dataDir)
	ctx = custodian.NewContextWithActor(ctx, custodian.SystemActor())
	a, err := openApp(ctx, b.dataDir, b.dbURL, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	b.app = a
	closed := false
	defer func() {
		if !closed {
			a.Close()
		}
	}()
	before, err := b.countResources(ctx)
	if err != nil {
		return err
	}
	if err := b.createShared(ctx); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           logRequests(slog.New(slog.DiscardHandler), a.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String() + "/fhir"
	if err := b.createClient(ctx); err != nil {
		return err
	}

	if !b.skip["create"] {
		if err := b.benchCreates(ctx, base); err != nil {
			return err
		}
	}
	if !b.skip["bundle"] {
		if err := b.benchBundles(ctx, base); err != nil {
			return err
		}
	}
	if !b.skip["load"] {
		if err := b.load(ctx, before); err != nil {
			return err
		}
	}
	if !b.skip["read"] {
		if err := b.benchReads(ctx, base); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	srv.Close()
	closed = true
	if err := a.Close(); err != nil {
		return err
	}
	st, err := b.measureStorage(ctx)
	if err != nil {
		return err
	}
	b.print(st, before, time.Since(began))
	if want := before + b.created; st.resources != want {
		return fmt.Errorf("bench store: the database holds %d resources, but %d were there before and %d were created", st.resources, before, b.created)
	}
	return nil
}

func (b *storeBench) countResources(ctx context.Context) (int64, error) {
	var n int64
	err := b.app.db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM resources`).Scan(&n)
	return n, err
}

// createShared creates the practitioners, organizations and locations the
// patients' conditional references point at (once; again if --data is
// reused) and notes their literal references for single creates.
func (b *storeBench) createShared(ctx context.Context) error {
	entries := b.data.sharedEntries()
	outs, err := b.app.store.Transaction(ctx, entries)
	if err != nil {
		return fmt.Errorf("bench store: create shared resources: %w", err)
	}
	for i, o := range outs {
		b.data.shared[b.data.condRefs[i]] = o.Resource.Ref()
		if o.Created {
			b.created++
		}
	}
	b.logf("%d shared practitioners, organizations and locations", len(outs))
	return nil
}

// createClient registers an API client that may read and write everything,
// as an integration engine would be.
func (b *storeBench) createClient(ctx context.Context) error {
	var rnd [6]byte
	crand.Read(rnd[:])
	cl, secret, err := b.app.access.CreateClient(ctx, "bench-"+hex.EncodeToString(rnd[:]), []string{"system/*.*"}, nil)
	if err != nil {
		return fmt.Errorf("bench store: create an API client: %w", err)
	}
	b.clientID, b.secret = cl.ID, secret
	return nil
}

// httpClient returns a client for base with conns kept-alive connections
// and a fresh access token (client credentials grant).
func (b *storeBench) httpClient(ctx context.Context, base string, conns int) (*benchClient, error) {
	c := newBenchClient(base, conns)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {b.clientID}, "client_secret": {b.secret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/fhir")+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		return nil, fmt.Errorf("bench store: get an access token: status %d", resp.StatusCode)
	}
	c.token = tok.AccessToken
	return c, nil
}

// profile starts a CPU profile for step if asked to (and a trace, block
// and mutex profiles if asked to), and returns its stop, which also writes
// the allocations made during the step.
func (b *storeBench) profile(step string) func() {
	if b.profileDir == "" {
		return func() {}
	}
	if err := os.MkdirAll(b.profileDir, 0o755); err != nil {
		b.logf("cpuprofile: %v", err)
		return func() {}
	}
	path := func(kind string) string { return filepath.Join(b.profileDir, kind+"-"+step+".pprof") }
	f, err := os.Create(path("cpu"))
	if err != nil {
		b.logf("cpuprofile: %v", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		b.logf("cpuprofile: %v", err)
		return func() {}
	}
	var tf *os.File
	if b.traceSteps {
		if tf, err = os.Create(filepath.Join(b.profileDir, "trace-"+step+".out")); err == nil {
			if err = trace.Start(tf); err != nil {
				tf.Close()
				tf = nil
			}
		}
		if err != nil {
			b.logf("trace: %v", err)
		}
	}
	if b.blockProfiles {
		runtime.SetBlockProfileRate(int(100 * time.Microsecond))
		runtime.SetMutexProfileFraction(10)
	}
	// The allocation profile is cumulative: runtime.MemProfileRate samples
	// since the start, so the step's share is the difference with this one.
	allocsBefore := allocProfile()
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		if tf != nil {
			trace.Stop()
			tf.Close()
		}
		if b.blockProfiles {
			for _, kind := range []string{"block", "mutex"} {
				if pf, err := os.Create(path(kind)); err == nil {
					pprof.Lookup(kind).WriteTo(pf, 0)
					pf.Close()
				}
			}
			runtime.SetBlockProfileRate(0)
			runtime.SetMutexProfileFraction(0)
		}
		if err := os.WriteFile(path("allocs"), allocProfile(), 0o644); err != nil {
			b.logf("allocation profile: %v", err)
		}
		os.WriteFile(path("allocs-before"), allocsBefore, 0o644)
	}
}

// allocProfile returns the allocation profile so far (pprof format).
func allocProfile() []byte {
	var buf bytes.Buffer
	runtime.GC() // the profile is as of the last collection
	pprof.Lookup("allocs").WriteTo(&buf, 0)
	return buf.Bytes()
}

// benchCreates posts single resources (one synthetic patient's worth at a
// time, literal references) with each number of clients.
func (b *storeBench) benchCreates(ctx context.Context, base string) error {
	type body struct {
		path string
		json []byte
	}
	var pool []body
	for n := 0; len(pool) < 20000; n++ {
		for _, e := range b.data.patient(n, len(b.data.clinical)+1, true) {
			j, err := json.Marshal(e.res)
			if err != nil {
				return err
			}
			pool = append(pool, body{"/" + e.typ, j})
		}
	}
	for _, clients := range b.createClients {
		c, err := b.httpClient(ctx, base, clients)
		if err != nil {
			return err
		}
		stop := b.profile(fmt.Sprintf("create-%d", clients))
		r := runLoad(ctx, clients, b.duration, 0, func(ctx context.Context, _ int, seq int64) (int, error) {
			p := pool[seq%int64(len(pool))]
			_, err := c.do(ctx, http.MethodPost, p.path, p.json, http.StatusCreated)
			return 1, err
		})
		stop()
		c.close()
		b.created += r.resources
		b.add("create (HTTP POST /fhir/{type})", clients, r, true, "≥ 2,000 resources/s", r.resPerSec() >= 2000)
		b.logf("creates, %d clients: %.0f resources/s", clients, r.resPerSec())
	}
	return ctx.Err()
}

// benchBundles posts transaction Bundles of one synthetic patient each.
func (b *storeBench) benchBundles(ctx context.Context, base string) error {
	var pool [][]byte
	for n := range 64 {
		j, err := b.data.bundle(1000+n, b.bundleSize)
		if err != nil {
			return err
		}
		pool = append(pool, j)
	}
	created := []byte(`"status":"201 Created"`)
	for _, clients := range b.bundleClients {
		c, err := b.httpClient(ctx, base, clients)
		if err != nil {
			return err
		}
		c.prefer = b.prefer
		bufs := make([]bytes.Buffer, clients)
		stop := b.profile(fmt.Sprintf("bundle-%d", clients))
		r := runLoad(ctx, clients, b.duration, 0, func(ctx context.Context, w int, seq int64) (int, error) {
			// POST [base]/: "POST /fhir" without the slash is redirected to the
			// CapabilityStatement by the app mux (see the report).
			resp, err := c.doInto(ctx, &bufs[w], http.MethodPost, "/", pool[seq%int64(len(pool))], http.StatusOK)
			if err != nil {
				return 0, err
			}
			if n := bytes.Count(resp, created); n != b.bundleSize {
				return 0, fmt.Errorf("transaction-response has %d created entries, want %d", n, b.bundleSize)
			}
			return b.bundleSize, nil
		})
		stop()
		c.close()
		b.created += r.resources
		step := fmt.Sprintf("transaction Bundle of %d (HTTP POST /fhir)", b.bundleSize)
		if b.prefer != "" {
			step = fmt.Sprintf("transaction Bundle of %d (HTTP POST /fhir, return=%s)", b.bundleSize, b.prefer)
		}
		b.add(step, clients, r, true, "≥ 8,000 resources/s", r.resPerSec() >= 8000)
		b.logf("bundles, %d clients: %.0f resources/s", clients, r.resPerSec())
	}
	return ctx.Err()
}

// load stores resources in-process through store.Transaction until the
// database holds --resources of them, keeping their ids for reads.
func (b *storeBench) load(ctx context.Context, before int64) error {
	have := before + b.created
	need := b.resources - have
	if need <= 0 {
		b.logf("load: the database already holds %d resources", have)
		return b.sampleIDs(ctx)
	}
	var pool [][]byte
	for n := range 256 {
		j, err := b.data.bundle(100000+n, b.bundleSize)
		if err != nil {
			return err
		}
		pool = append(pool, j)
	}
	txs := (need + int64(b.bundleSize) - 1) / int64(b.bundleSize)
	b.ids = make([]string, 0, txs*int64(b.bundleSize))
	b.logf("load: %d transactions of %d resources with %d workers", txs, b.bundleSize, b.loadWorkers)
	var done sync.WaitGroup
	progress := make(chan struct{})
	done.Add(1)
	start := time.Now()
	go func() {
		defer done.Done()
		t := time.NewTicker(15 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-progress:
				return
			case <-t.C:
				b.idsMu.Lock()
				n := len(b.ids)
				b.idsMu.Unlock()
				b.logf("load: %d resources, %.0f/s", n, float64(n)/time.Since(start).Seconds())
			}
		}
	}()
	stop := b.profile("load")
	r := runLoad(ctx, b.loadWorkers, 0, txs, func(ctx context.Context, _ int, seq int64) (int, error) {
		entries, err := bundleEntries(pool[seq%int64(len(pool))])
		if err != nil {
			return 0, err
		}
		outs, err := b.app.store.Transaction(ctx, entries)
		if err != nil {
			return 0, err
		}
		b.idsMu.Lock()
		for _, o := range outs {
			b.ids = append(b.ids, o.Resource.Ref())
		}
		b.idsMu.Unlock()
		return len(outs), nil
	})
	stop()
	close(progress)
	done.Wait()
	b.created += r.resources
	b.add(fmt.Sprintf("load: store.Transaction of %d, in-process", b.bundleSize), b.loadWorkers, r, true, "(figure)", true)
	b.logf("load: %d resources in %s, %.0f/s", r.resources, r.elapsed.Round(time.Millisecond), r.resPerSec())
	if r.errors > 0 {
		return fmt.Errorf("load: %d transactions failed; first: %s", r.errors, r.firstErr)
	}
	return ctx.Err()
}

// sampleIDs reads up to a million random resource ids from the database,
// when the load step did not make them: current, not deleted, and without a
// sensitive label (the bench's client may not see those, and is answered 404
// for them, as the record's rules say).
func (b *storeBench) sampleIDs(ctx context.Context) error {
	rows, err := b.app.db.SQL().QueryContext(ctx, `SELECT type, id FROM resources WHERE deleted = 0 AND sensitive = 0 ORDER BY random() LIMIT 1000000`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var typ, id string
		if err := rows.Scan(&typ, &id); err != nil {
			return err
		}
		b.ids = append(b.ids, typ+"/"+id)
	}
	return rows.Err()
}

// benchReads reads random resources by id over HTTP.
func (b *storeBench) benchReads(ctx context.Context, base string) error {
	if len(b.ids) == 0 {
		if err := b.sampleIDs(ctx); err != nil {
			return err
		}
	}
	if len(b.ids) == 0 {
		return errors.New("bench store: no resources to read")
	}
	stored, err := b.countResources(ctx)
	if err != nil {
		return err
	}
	for _, clients := range b.readClients {
		c, err := b.httpClient(ctx, base, clients)
		if err != nil {
			return err
		}
		rngs := make([]*rand.Rand, clients)
		for i := range rngs {
			rngs[i] = rand.New(rand.NewPCG(uint64(clients), uint64(i)))
		}
		// A short warm-up, not measured, opens connections and statements.
		runLoad(ctx, clients, time.Second, 0, func(ctx context.Context, w int, _ int64) (int, error) {
			_, err := c.do(ctx, http.MethodGet, "/"+b.ids[rngs[w].IntN(len(b.ids))], nil, http.StatusOK)
			return 1, err
		})
		stop := b.profile(fmt.Sprintf("read-%d", clients))
		r := runLoad(ctx, clients, b.duration, 0, func(ctx context.Context, w int, _ int64) (int, error) {
			_, err := c.do(ctx, http.MethodGet, "/"+b.ids[rngs[w].IntN(len(b.ids))], nil, http.StatusOK)
			return 1, err
		})
		stop()
		c.close()
		p99 := r.percentile(99)
		b.add(fmt.Sprintf("read by id (HTTP GET, %d stored)", stored), clients, r, false, "p99 ≤ 2 ms", p99 <= 2*time.Millisecond && r.errors == 0)
		b.logf("reads, %d clients: p99 %s", clients, p99)
	}
	return ctx.Err()
}

// add records a result row.
func (b *storeBench) add(step string, clients int, r *loadResult, rateIsResources bool, target string, met bool) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }
	rate := r.resPerSec()
	if !rateIsResources {
		rate = r.opsPerSec()
	}
	verdict := "met"
	if !met || r.errors > 0 {
		verdict = "NOT met"
	}
	if target == "(figure)" {
		target, verdict = "", ""
	}
	row := benchRow{
		step: step, clients: strconv.Itoa(clients), ops: strconv.FormatInt(r.ops, 10),
		resources: strconv.FormatInt(r.resources, 10), seconds: fmt.Sprintf("%.2f", r.elapsed.Seconds()),
		// Rates are truncated, never rounded up.
		rate: fmt.Sprintf("%.0f", math.Floor(rate)), cpu: fmt.Sprintf("%.3f", r.cpuPerResource()), p50: ms(r.percentile(50)), p95: ms(r.percentile(95)), p99: ms(r.percentile(99)),
		errors: strconv.FormatInt(r.errors, 10), target: strings.TrimSpace(target + " " + verdict),
	}
	b.rows = append(b.rows, row)
	if r.errors > 0 {
		b.logf("%s, %d clients: %d errors; first: %s", step, clients, r.errors, r.firstErr)
	}
}

// storage is what the database holds once checkpointed.
type storage struct {
	fileBytes, walBytes   int64
	resources, versions   int64
	bodyBytes             int64
	indexRows             map[string]int64
	tableBytes            map[string]int64 // from dbstat, when the build has it
	pageSize, pageCount   int64
	freelist              int64
	checkpointedAndClosed bool
}

// measureStorage opens the closed database on its own, checkpoints the WAL
// into the file and counts what is stored.
func (b *storeBench) measureStorage(ctx context.Context) (*storage, error) {
	if b.dbURL != "" {
		return b.measurePostgres(ctx)
	}
	path := filepath.Join(b.dataDir, "custodian.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	st := &storage{indexRows: map[string]int64{}, tableBytes: map[string]int64{}}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	q := func(query string, dest ...any) error { return db.QueryRowContext(ctx, query).Scan(dest...) }
	if err := q(`SELECT count(*) FROM resources`, &st.resources); err != nil {
		return nil, err
	}
	if err := q(`SELECT count(*), coalesce(sum(length(body)), 0) FROM versions`, &st.versions, &st.bodyBytes); err != nil {
		return nil, err
	}
	for _, t := range []string{"idx_tok", "idx_reference", "idx_date", "idx_string", "idx_uri"} {
		var n int64
		if err := q(`SELECT count(*) FROM `+t, &n); err != nil {
			return nil, err
		}
		st.indexRows[t] = n
	}
	q(`PRAGMA page_size`, &st.pageSize)
	q(`PRAGMA page_count`, &st.pageCount)
	q(`PRAGMA freelist_count`, &st.freelist)
	if rows, err := db.QueryContext(ctx, `SELECT name, sum(pgsize) FROM dbstat GROUP BY name`); err == nil {
		for rows.Next() {
			var name string
			var n int64
			if rows.Scan(&name, &n) == nil {
				st.tableBytes[name] = n
			}
		}
		rows.Close()
	}
	if fi, err := os.Stat(path); err == nil {
		st.fileBytes = fi.Size()
	}
	if fi, err := os.Stat(path + "-wal"); err == nil {
		st.walBytes = fi.Size()
	}
	return st, nil
}

// measurePostgres counts what is stored in the PostgreSQL database; its
// size is pg_database_size, the nearest thing to SQLite's file size.
func (b *storeBench) measurePostgres(ctx context.Context) (*storage, error) {
	db, err := sql.Open("pgx", b.dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	st := &storage{indexRows: map[string]int64{}, tableBytes: map[string]int64{}, pageSize: 8192}
	q := func(query string, dest ...any) error { return db.QueryRowContext(ctx, query).Scan(dest...) }
	if err := q(`SELECT count(*) FROM resources`, &st.resources); err != nil {
		return nil, err
	}
	if err := q(`SELECT count(*), coalesce(sum(length(body)), 0) FROM versions`, &st.versions, &st.bodyBytes); err != nil {
		return nil, err
	}
	for _, t := range []string{"idx_tok", "idx_reference", "idx_date", "idx_string", "idx_uri"} {
		var n int64
		if err := q(`SELECT count(*) FROM `+t, &n); err != nil {
			return nil, err
		}
		st.indexRows[t] = n
	}
	if err := q(`SELECT pg_database_size(current_database())`, &st.fileBytes); err != nil {
		return nil, err
	}
	st.pageCount = st.fileBytes / st.pageSize
	return st, nil
}

func (b *storeBench) print(st *storage, before int64, took time.Duration) {
	w := b.out
	fmt.Fprintf(w, "\ncustodian bench store — %s, %s/%s, GOMAXPROCS %d, %d CPUs, Custodian %s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU(), custodian.Version)
	engine := fmt.Sprintf("embedded SQLite (WAL, synchronous=FULL), data %s", b.dataDir)
	if b.dbURL != "" {
		engine = "PostgreSQL on this machine (loopback)"
	}
	fmt.Fprintf(w, "%s, each HTTP step %s, total run %s\n", engine, b.duration, took.Round(time.Second))
	fmt.Fprintf(w, "load average (1, 5, 15 min) at the start %s, at the end %s\n\n", b.loadAvg, loadAverage())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\tclients\tops\tresources\tseconds\tper second\tCPU ms/res\tp50 ms\tp95 ms\tp99 ms\terrors\ttarget\t")
	for _, r := range b.rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.step, r.clients, r.ops, r.resources, r.seconds, r.rate, r.cpu, r.p50, r.p95, r.p99, r.errors, r.target)
	}
	tw.Flush()
	fmt.Fprintln(w, "\n(per second: resources for writes, requests for reads; latency per request or transaction;")
	fmt.Fprintln(w, " CPU ms/res: the whole process's CPU time, server and in-process clients, per resource or read)")

	var idx int64
	for _, n := range st.indexRows {
		idx += n
	}
	per := func(n int64) float64 { return float64(n) / float64(max(st.resources, 1)) }
	fmt.Fprintf(w, "\nstorage after checkpoint: %d resources (%d before this run, %d created by it), %d versions\n", st.resources, before, b.created, st.versions)
	fmt.Fprintf(w, "  database file %s + WAL %s = %.0f bytes per resource (page size %d, %d pages, %d free)\n",
		mib(st.fileBytes), mib(st.walBytes), per(st.fileBytes+st.walBytes), st.pageSize, st.pageCount, st.freelist)
	fmt.Fprintf(w, "  resource bodies %s = %.0f bytes per resource (as stored: zstd-compressed JSON)\n", mib(st.bodyBytes), per(st.bodyBytes))
	fmt.Fprintf(w, "  index rows %d = %.1f per resource:", idx, per(idx))
	for _, t := range []string{"idx_tok", "idx_reference", "idx_date", "idx_string", "idx_uri"} {
		fmt.Fprintf(w, " %s %.1f", strings.TrimPrefix(t, "idx_"), per(st.indexRows[t]))
	}
	fmt.Fprintln(w)
	if len(st.tableBytes) > 0 {
		fmt.Fprintf(w, "  space by table and index (dbstat), bytes per resource:")
		names := make([]string, 0, len(st.tableBytes))
		for n := range st.tableBytes {
			names = append(names, n)
		}
		slices.SortFunc(names, func(x, y string) int { return int(st.tableBytes[y] - st.tableBytes[x]) })
		for _, n := range names {
			fmt.Fprintf(w, " %s %.0f", n, per(st.tableBytes[n]))
		}
		fmt.Fprintln(w)
	}
	check := "OK"
	if st.resources != before+b.created {
		check = "MISMATCH"
	}
	fmt.Fprintf(w, "check: resources in the database %d = %d before + %d created: %s\n", st.resources, before, b.created, check)
}

// loadAverage returns the system load averages (Linux), or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
