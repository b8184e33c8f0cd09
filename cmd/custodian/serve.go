package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/blob"
	"github.com/custodian-him/custodian/bulk"
	"github.com/custodian-him/custodian/chart"
	"github.com/custodian-him/custodian/chart/chartdb"
	"github.com/custodian-him/custodian/codeset"
	"github.com/custodian-him/custodian/coding"
	"github.com/custodian-him/custodian/drg"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/httpauth"
	"github.com/custodian-him/custodian/ingest/hl7v2"
	"github.com/custodian-him/custodian/ingest/mllp"
	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/measure/factdb"
	"github.com/custodian-him/custodian/mpi"
	"github.com/custodian-him/custodian/mpi/identity"
	"github.com/custodian-him/custodian/registry"
	"github.com/custodian-him/custodian/roi"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/postgres"
	"github.com/custodian-him/custodian/sqldb/sqlite"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/web"
	webcodes "github.com/custodian-him/custodian/web/codes"
	"github.com/custodian-him/custodian/web/duplicates"
	"github.com/custodian-him/custodian/web/encoder"
	"github.com/custodian-him/custodian/web/feeds"
	"github.com/custodian-him/custodian/web/outcomes"
	"github.com/custodian-him/custodian/web/release"
	"github.com/custodian-him/custodian/web/review"
)

// ServeCommand runs the server.
type ServeCommand struct {
	Stdout, Stderr io.Writer
	// Ready, if set, receives the address the server listens on once it
	// accepts connections (for tests that listen on port 0).
	Ready chan<- string
}

// Run parses flags, opens the store and serves until ctx ends.
func (c *ServeCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (loopback unless told otherwise)")
	sf := addStoreFlags(fs)
	data, dbURL := sf.data, sf.url
	demo := fs.Bool("demo", false, "on first start, load a generated demo hospital (synthetic patients only)")
	demoPatients := fs.Int("demo-patients", 200, "how many synthetic patients --demo generates")
	mllpAddr := fs.String("mllp", "", "address for the HL7 v2 MLLP listener, e.g. :2575 (none if empty)")
	mllpCert := fs.String("mllp-cert", "", "TLS certificate (PEM) for the MLLP listener, with --mllp-key")
	mllpKey := fs.String("mllp-key", "", "TLS private key (PEM) for the MLLP listener")
	tablesFile := fs.String("hl7-tables", "", "HL7 v2 mapping tables (JSON as ingest/hl7v2/tables.json; only the entries that change)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tuneCollector(ctx)
	logger := slog.New(slog.NewTextHandler(c.Stderr, nil))
	app, err := openApp(ctx, *data, *dbURL, logger)
	if err != nil {
		return err
	}
	defer app.Close()
	if *demo {
		if err := loadDemo(ctx, app.store, *demoPatients, c.Stdout); err != nil {
			return err
		}
	}
	stopWork, err := app.startWork(ctx, logger)
	if err != nil {
		return err
	}
	defer stopWork()
	// First start: an administrator with a one-time password, shown once
	// here (never logged) unless the operator chose it in the environment.
	envPW := os.Getenv(access.AdminPasswordEnv)
	pw, created, err := app.access.Bootstrap(ctx, envPW)
	if err != nil {
		return err
	}
	if created && envPW == "" {
		fmt.Fprintf(c.Stdout, "First start: created the administrator \"admin\" with the one-time password\n\n    %s\n\n"+
			"It is shown only now. Sign in at /login to choose a new one, or run\n"+
			"`custodian user passwd admin --password-stdin`.\n", pw)
	} else if created {
		fmt.Fprintf(c.Stdout, "First start: created the administrator \"admin\" with the password from %s; it must be changed at first sign-in.\n", access.AdminPasswordEnv)
	}

	if *mllpAddr != "" {
		closeFeed, err := app.startFeed(ctx, *mllpAddr, *mllpCert, *mllpKey, *tablesFile, logger, c.Stdout)
		if err != nil {
			return err
		}
		defer closeFeed()
	} else {
		// No listener here, but the feeds page still shows what was
		// received (perhaps by another node) and replays dead letters.
		tables, err := hl7Tables(*tablesFile)
		if err != nil {
			return err
		}
		feed := custodian.SystemActor()
		app.web.Modules = append(app.web.Modules, feeds.Module(feeds.Feed{Store: app.store,
			Handler: &mllp.StoreHandler{Store: app.store, Mapper: hl7v2.NewMapper(tables), Actor: feed, Identity: app.identity}, Actor: feed}, app.web))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           logRequests(logger, app.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	where := "data: " + *data
	if *dbURL != "" {
		where = "database: PostgreSQL"
	}
	fmt.Fprintf(c.Stdout, "Custodian is serving the workbench at http://%s/ and the FHIR API at http://%s/fhir (%s)\n", ln.Addr(), ln.Addr(), where)
	if c.Ready != nil {
		c.Ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// app is an opened Custodian: its database, store and HTTP handlers.
type app struct {
	db    *sqldb.DB
	store *store.Store
	fhir  *fhirapi.Handler
	// access is identities and authentication; auth its HTTP face.
	access *access.Service
	auth   *httpauth.Handler
	// codes are the code sets; grouper the MS-DRG grouper.
	codes   *codeset.Set
	grouper *drg.Grouper
	// exporter runs Bulk Data exports; binaries serves attachment content.
	exporter *bulk.Exporter
	binaries *fhirapi.Binaries
	// suggester and queue are the coder's encoder and work queue.
	suggester *coding.Suggester
	queue     *coding.Queue
	// matches is the master patient index's live index of Patients.
	matches *mpi.Index
	// identity merges and unmerges patients and keeps the duplicate queue.
	identity *identity.Service
	// record is what measures and registries read; registries find cases.
	record     *measure.Record
	registries *registry.Service
	// roi releases information and keeps the accounting of disclosures.
	roi *roi.Service
	// web is the HIM workbench; modules add their pages to it.
	web *web.Handler
	// params follows the stored SearchParameters that reindex activates.
	params *search.Follower
}

// openDB opens the PostgreSQL database at dbURL, or the embedded one in
// dataDir when dbURL is empty, and migrates it.
func openDB(ctx context.Context, dataDir, dbURL string) (*sqldb.DB, error) {
	if dbURL != "" {
		return postgres.Open(ctx, dbURL)
	}
	return sqlite.Open(ctx, dataDir)
}

// openApp opens the database and wires the store and the API over it.
func openApp(ctx context.Context, dataDir, dbURL string, logger *slog.Logger) (*app, error) {
	defs := fhir.R4()
	reg, err := search.NewR4(defs)
	if err != nil {
		return nil, err
	}
	db, err := openDB(ctx, dataDir, dbURL)
	if err != nil {
		return nil, err
	}
	if err := db.RegisterParams(ctx, reg.Indexed()); err != nil {
		db.Close()
		return nil, err
	}
	// Posted SearchParameters: indexed at every write once known, searchable
	// once `custodian reindex` has activated them.
	_, problems, err := reg.LoadCustom(ctx, db, false)
	if err != nil {
		db.Close()
		return nil, err
	}
	for _, p := range problems {
		logger.Warn("search parameter not used", "error", p)
	}
	params := &search.Follower{Registry: reg, Source: db, Logger: logger}
	st := store.New(db, defs, reg)
	st.Watchers = append(st.Watchers, params.Watcher())
	st.AuditLog = db
	st.NoAudit = readAuditOff // false in every build but the benchmark's (readaudit.go)
	if readAuditOff {
		logger.Warn("this build does not audit reads: it is for measuring what auditing costs only")
	}
	codes, err := codeset.Load()
	if err != nil {
		db.Close()
		return nil, err
	}
	st.Codes = codes // token :below and :above over ICD-10-CM and ICD-10-PCS
	grouper := drg.New()
	// Attachment content and export files live under the data directory;
	// several nodes over one PostgreSQL must share it (docs/scaling.md).
	blobs, err := blob.Open(filepath.Join(dataDir, "blobs"))
	if err != nil {
		db.Close()
		return nil, err
	}
	exporter := &bulk.Exporter{Source: st, Jobs: sqldb.NewExportJobs(db), Dir: filepath.Join(dataDir, "export"),
		Types: defs.ResourceTypes(), Logger: logger}
	binaries := &fhirapi.Binaries{Store: st, Blobs: blobs}
	// CUSTODIAN_ORGANIZATION names the releasing organisation on ROI packets.
	roiSvc := &roi.Service{Store: st, Blobs: blobs, Organization: os.Getenv("CUSTODIAN_ORGANIZATION")}
	// CUSTODIAN_ROI_CATEGORIES names the site's sensitive categories (JSON).
	if roiSvc.Categories, err = siteCategories(); err != nil {
		db.Close()
		return nil, err
	}
	var ops []fhirapi.Operation
	ops = append(ops, fhirapi.TerminologyOperations(codes)...)
	ops = append(ops, fhirapi.DRGOperations(grouper)...)
	ops = append(ops, fhirapi.ExportOperations(exporter, "")...)
	ops = append(ops, binaries.Operations()...)
	ops = append(ops, fhirapi.ROIOperations(roiSvc)...)
	suggester, err := coding.NewSuggester(codes)
	if err != nil {
		db.Close()
		return nil, err
	}
	queue, err := coding.NewQueue(st, codes, grouper)
	if err != nil {
		db.Close()
		return nil, err
	}
	// The DNFB is kept in memory by a watcher, seeded in startWork.
	queue.List = coding.NewDNFBList()
	st.Watchers = append(st.Watchers, queue.List.Watcher())
	// The role table, scopes and sensitive records, for the API, pages and
	// commands alike; a final coding Claim written through the FHIR API
	// passes the same edits and grouping as one finalised in the coding
	// workspace.
	st.Guard = access.Guard{Rules: []store.WriteRule{queue.FinalCodingRule()}}
	ops = append(ops, fhirapi.CodingOperations(suggester, queue)...)
	// The master patient index: filled from the store in the background
	// when serving starts, and kept current by a watcher (startWork).
	matches := mpi.NewIndex(mpi.DefaultModel())
	ops = append(ops, fhirapi.MatchOperations(st, matches, "")...)
	ident := &identity.Service{Store: st, Index: matches, Logger: logger}
	ops = append(ops, fhirapi.MergeOperations(ident)...)
	// Measures and registries read a compact projection of the record,
	// read when serving starts (startWork); until then they answer 503.
	record := measure.NewRecord()
	record.MarkLoading()
	// Evaluated measures are kept until the record changes (shared by the
	// API and the workbench).
	measureCache := &measure.Cache{Record: record}
	regDefs, err := registry.Builtins()
	if err != nil {
		db.Close()
		return nil, err
	}
	for _, d := range regDefs {
		for _, l := range d.Criteria.Labs {
			record.KeepObservations(l.Code)
		}
	}
	registries := &registry.Service{Record: record, Store: st, Definitions: regDefs}
	ops = append(ops, fhirapi.MeasureOperations(&fhirapi.Measures{Definitions: measure.Builtins(), Record: record, Store: st, Cache: measureCache,
		SeesSensitive: func(ctx context.Context) bool { return st.Guard.SeesSensitive(custodian.ActorFromContext(ctx)) }})...)
	h := &fhirapi.Handler{Store: st, Types: defs.ResourceTypes(), SearchParams: fhirapi.RegistryParams(reg), Logger: logger, Operations: ops}
	acc := access.NewService(sqldb.NewAccessStore(db))
	acc.Logger = logger
	acc.Audit = st                        // every sign-in and token request goes into the audit trail
	if err := acc.Open(ctx); err != nil { // the token signing key, made on first start
		db.Close()
		return nil, err
	}
	// CUSTODIAN_BASE_URL (the public URL) fixes the token issuer and
	// audience; CUSTODIAN_SECURE_COOKIES=1 marks cookies Secure behind a
	// TLS-terminating proxy.
	auth := &httpauth.Handler{Service: acc, Logger: logger, BaseURL: os.Getenv("CUSTODIAN_BASE_URL"),
		SecureCookies: os.Getenv("CUSTODIAN_SECURE_COOKIES") == "1", Home: "/"}
	// CUSTODIAN_OIDC_ISSUER (with CUSTODIAN_OIDC_AUDIENCE, and optionally
	// CUSTODIAN_OIDC_ROLES_CLAIM and CUSTODIAN_OIDC_USER_CLAIM) also accepts
	// bearer tokens from the site's OpenID Connect provider.
	if iss := os.Getenv("CUSTODIAN_OIDC_ISSUER"); iss != "" {
		aud := os.Getenv("CUSTODIAN_OIDC_AUDIENCE")
		if aud == "" {
			db.Close()
			return nil, fmt.Errorf("CUSTODIAN_OIDC_ISSUER is set but CUSTODIAN_OIDC_AUDIENCE is not: tokens must be checked for their audience")
		}
		auth.External = &httpauth.OIDC{Issuer: iss, Audience: aud,
			RolesClaim: os.Getenv("CUSTODIAN_OIDC_ROLES_CLAIM"), UserClaim: os.Getenv("CUSTODIAN_OIDC_USER_CLAIM")}
	}
	wb := &web.Handler{Records: st, Logger: logger}
	// The dashboard's counts: records received per day kept by a watcher
	// (seeded at start, startWork), encounters by class from the measures'
	// record.
	counts := web.NewCounts(time.Now())
	counts.Encounters = record.EncounterClasses
	wb.Counts = counts
	st.Watchers = append(st.Watchers, counts.Watcher())
	wb.Modules = append(wb.Modules, webcodes.Module(codes, grouper, wb))
	wb.Modules = append(wb.Modules, release.Module(roiSvc, wb))
	wb.Modules = append(wb.Modules, encoder.Module(wb, queue, suggester, codes))
	wb.Modules = append(wb.Modules, duplicates.Module(ident, wb))
	wb.Modules = append(wb.Modules, outcomes.Module(outcomes.Config{Web: wb, Record: record, Registry: registries, Patients: st, Cache: measureCache,
		SeesSensitive: func(ctx context.Context) bool { return st.Guard.SeesSensitive(custodian.ActorFromContext(ctx)) }}))
	return &app{db: db, store: st, fhir: h.Init(), access: acc, auth: auth,
		codes: codes, grouper: grouper, exporter: exporter, binaries: binaries, roi: roiSvc, suggester: suggester, queue: queue, matches: matches, identity: ident, record: record, registries: registries, web: wb, params: params}, nil
}

// Handler is the whole HTTP surface.
func (a *app) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/fhir/", a.binaries.Wrap(a.fhir))
	// The base URL without its slash is the base too: POST /fhir is a
	// transaction, GET /fhir a system search.
	mux.HandleFunc("/fhir", func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/fhir/"
		a.fhir.ServeHTTP(w, r2)
	})
	// The workbench has every other path (and /static/).
	mux.Handle("/", a.web)
	// Every route but sign-in, tokens, keys, the CapabilityStatement and
	// static assets needs an actor (a bearer token or a session).
	return a.auth.Wrap(mux)
}

func (a *app) Close() error { return a.db.Close() }

// startFeed starts the HL7 v2 listener (MLLP, TLS when a certificate is
// given): each message is stored, as the feed's system actor, before it is
// acknowledged; refused ones become dead letters.
func (a *app) startFeed(ctx context.Context, addr, certFile, keyFile, tablesFile string, logger *slog.Logger, out io.Writer) (stop func(), err error) {
	tables, err := hl7Tables(tablesFile)
	if err != nil {
		return nil, err
	}
	feed := custodian.SystemActor()
	ms := &mllp.Server{
		Handler:     &mllp.StoreHandler{Store: a.store, Mapper: hl7v2.NewMapper(tables), Actor: feed, Identity: a.identity},
		DeadLetters: &mllp.StoreDeadLetters{Store: a.store, Actor: feed},
		Log:         logger,
	}
	a.web.Modules = append(a.web.Modules, feeds.Module(feeds.Feed{Store: a.store, Server: ms, Handler: ms.Handler, Actor: feed}, a.web))
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("the MLLP listener's TLS certificate: %w", err)
		}
		ms.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := ms.Serve(ctx, ln); err != nil && ctx.Err() == nil {
			logger.Error("the MLLP listener stopped", "error", err)
		}
	}()
	fmt.Fprintf(out, "Custodian is receiving HL7 v2 over MLLP at %s\n", ln.Addr())
	return func() { ms.Close(); <-done }, nil
}

// startWork starts what a serving Custodian does besides answering
// requests: Bulk Data exports, the search index of the code sets, and
// chart review as records arrive (and over recent discharges once a day,
// so deficiencies fall due without a write). stop ends it all and waits.
func (a *app) startWork(ctx context.Context, logger *slog.Logger) (stop func(), err error) {
	reviewer := chart.NewReviewer(a.store)
	reviewer.Logger = logger
	reviewer.Codes = a.codes // diagnosis and procedure codes valid for the date of service
	// The index is kept in the database between starts: a start reads the
	// saved facts and the changes since (the whole record only at a first
	// start, a new facts format or after many changes); Run saves every 5
	// minutes, after 20,000 changes and when serving stops.
	reviewer.Facts = chartdb.New(a.db)
	// The chart review index is read in the background (startWork's
	// goroutines): until then the review pages answer 503, evaluations
	// wait and the writes arriving meanwhile are kept for it.
	reviewer.MarkLoading()
	a.store.Watchers = append(a.store.Watchers, reviewer.Watcher())
	a.web.Modules = append(a.web.Modules, review.Module(reviewer, a.web))
	a.store.Watchers = append(a.store.Watchers, fhirapi.MatchWatcher(a.matches, logger), a.identity.Watcher(), a.record.Watcher(), a.registries.Watcher())
	work, cancel := context.WithCancel(custodian.NewContextWithActor(ctx, custodian.SystemActor()))
	var wg sync.WaitGroup
	wg.Go(func() {
		// Whole-record reads by Custodian's own services are in the trail
		// once per start, not once per page.
		if err := a.store.RecordBulkRead(work, "Patient", "master patient index"); err != nil {
			logger.Error("the master patient index could not be loaded", "error", err)
			return
		}
		n, err := fhirapi.LoadMatchIndex(work, a.store, a.matches)
		if err != nil {
			if work.Err() == nil {
				logger.Error("the master patient index could not be loaded", "error", err)
			}
			return
		}
		logger.Info("master patient index loaded", "patients", n)
		// Score new and changed registrations once the index holds every
		// patient (writes during the load wait in the queue).
		if err := a.identity.Run(work); err != nil && work.Err() == nil {
			logger.Error("the duplicate queue stopped", "error", err)
		}
	})
	wg.Go(func() {
		// Once the projections are read, give the start-up's garbage back
		// to the system: with the collector's headroom (tuneCollector) it
		// would otherwise stay resident until the heap grew into it (at
		// 1M resources 494 MB of RSS against 743–896 MB; engineer M,
		// session 7).
		for !reviewer.Ready() || a.record.Loading() {
			select {
			case <-work.Done():
				return
			case <-time.After(time.Second):
			}
		}
		debug.FreeOSMemory()
	})
	wg.Go(func() { a.exporter.Run(work, time.Second) })
	if a.web.Counts != nil {
		wg.Go(func() {
			if err := a.web.Counts.Seed(work, a.store); err != nil && work.Err() == nil {
				logger.Error("counting the record for the dashboard failed", "error", err)
			}
		})
	}
	// Activations by a reindex run in another process (or on another node).
	wg.Go(func() { a.params.Run(work, 10*time.Second) })
	wg.Go(func() { a.codes.Warm() })
	wg.Go(func() {
		for _, typ := range measure.Types {
			if err := a.store.RecordBulkRead(work, typ, "quality measures and registries"); err != nil {
				logger.Error("reading the record for measures failed", "error", err)
				return
			}
		}
		// The measures' record: the facts saved at the last stop and the
		// changes written since (the whole record at a first start), saved
		// again every 5 minutes and when serving stops.
		proj := &measure.Projection{Record: a.record, Facts: factdb.New(a.db), Source: measure.BackendSource{Backend: a.db}, Logger: logger}
		if _, err := proj.Load(work); err != nil {
			if work.Err() == nil {
				logger.Error("reading the record for measures failed", "error", err)
			}
			return
		}
		wg.Go(func() {
			proj.Run(work, func(err error) { logger.Error("saving the measures' facts failed", "error", err) })
		})
		if err := measure.Install(work, a.store, measure.Builtins()); err != nil && work.Err() == nil {
			logger.Error("storing the Measure resources failed", "error", err)
		}
		if err := a.registries.Load(work); err != nil {
			if work.Err() == nil {
				logger.Error("reading registry cases failed", "error", err)
			}
			return
		}
		if _, err := a.registries.FindAll(work, ""); err != nil && work.Err() == nil {
			logger.Error("registry case finding failed", "error", err)
		}
		a.registries.Run(work, 5*time.Second, func(err error) { logger.Error("registry case finding failed", "error", err) })
	})
	wg.Go(func() {
		if err := reviewer.Load(work); err != nil {
			if work.Err() == nil {
				logger.Error("the chart review index could not be read", "error", err)
			}
			return
		}
		if err := reviewer.Run(work); err != nil && work.Err() == nil {
			logger.Error("chart review stopped", "error", err)
		}
	})
	if a.queue.List != nil {
		wg.Go(func() {
			if err := a.queue.List.Seed(work, a.store); err != nil && work.Err() == nil {
				logger.Error("reading the coding queue (DNFB) failed", "error", err)
			}
		})
	}
	wg.Go(func() {
		daily := time.NewTicker(24 * time.Hour)
		defer daily.Stop()
		for {
			now := time.Now()
			if _, err := reviewer.Review(work, now.AddDate(0, 0, -60), now); err != nil && work.Err() == nil {
				logger.Error("scheduled chart review failed", "error", err)
			}
			select {
			case <-work.Done():
				return
			case <-daily.C:
			}
		}
	})
	return func() { cancel(); wg.Wait() }, nil
}

// logRequests logs each request by method and route pattern, never by
// path or query, which can carry patient identifiers.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		logger.Info("request", "method", r.Method, "status", sw.status, "ms", time.Since(start).Milliseconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }
