// Package web is the HIM workbench: the server-rendered pages HIM
// professionals work in (the director's dashboard, patient search and the
// chart, the audit log, the patient access report and the break-the-glass
// review).
//
// Every page reads through the record store with the signed-in user's actor
// in the request context (package httpauth puts it there), so the store's
// authorization and audit trail apply to the workbench exactly as they do to
// the FHIR API. Pages are plain HTML forms and links with one embedded style
// sheet and no script; charts are inline SVG drawn on the server, each with
// its numbers in a table. Searches that carry patient details (names,
// birth dates, identifiers) are POSTed, so they never appear in URLs or logs.
//
// Other modules (coding, DRG, MPI) add their pages through Module: their
// navigation entries, their routes and their dashboard cards, rendered in the
// same frame with Handler.Page.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/httpauth"
	"github.com/custodian-him/custodian/store"
)

// Records is what the workbench needs of the record store; *store.Store
// implements it. Each call authorizes and audits with the actor of ctx.
type Records interface {
	Read(ctx context.Context, typ, id string) (*store.Resource, error)
	History(ctx context.Context, f store.HistoryFilter) (*store.HistoryPage, error)
	Search(ctx context.Context, q *store.Query) (*store.SearchPage, error)
	ParseQuery(typ string, vals url.Values, strict bool) (*store.Query, []string, error)
	FindAudit(ctx context.Context, f audit.Filter) ([]*audit.Entry, error)
	BreakGlass(ctx context.Context, patient, reason string, d time.Duration) error
	// RefusedOperation records in the audit trail that the actor of ctx
	// was refused op on resources, with err's code as the outcome, and
	// returns err (or the audit failure). The workbench records a refused
	// page with it (Handler.Refuse).
	RefusedOperation(ctx context.Context, op string, resources []string, err error) error
}

// Handler serves the workbench at "/". Set Records (and optionally the
// other fields) and use it behind httpauth.Handler.Wrap, which signs users
// in and puts their actor in each request.
type Handler struct {
	Records Records
	Logger  *slog.Logger
	// Allowed tells which pages to offer an actor: nil when actor may
	// perform interaction on resources of typ. It defaults to
	// access.Allowed, the role table the store's guard applies too; the
	// store checks every read again whatever this says.
	Allowed func(actor *custodian.Actor, typ, interaction string) error
	// Modules are the pages other packages add (coding, DRG, MPI).
	Modules []Module
	// Now is the clock for the dashboard's time windows.
	Now func() time.Time
	// DashboardTTL is how long the dashboard keeps a user's record counts
	// (5 minutes if 0): counting a large record takes the store seconds.
	DashboardTTL time.Duration
	// CountWait is how long the dashboard waits for those counts (500 ms
	// if 0) before it shows the page without them; the counting goes on.
	CountWait time.Duration
	// Counts, if set, keeps the dashboard's counts current as records
	// arrive, so the dashboard does not count the record (DashboardTTL and
	// CountWait then apply to nothing, or to encounters alone when Counts
	// has no Encounters source).
	Counts *Counts
	// SeesSensitive tells whether actor may see records with sensitive
	// labels (access.Guard{}.SeesSensitive if nil): kept counts include
	// them only for those who may.
	SeesSensitive func(actor *custodian.Actor) bool

	once sync.Once
	mux  *http.ServeMux
	// counts are the dashboard's record counts by user.
	countsMu sync.Mutex
	counts   map[string]*recordCounts
}

// Module is a group of pages another package adds to the workbench.
type Module struct {
	// Nav lists the module's entries in the navigation.
	Nav []NavItem
	// Prefix is the path the module's Handler serves, e.g. "/coding/".
	Prefix string
	// Handler serves the module's pages; it renders them in the
	// workbench's frame with Handler.Page.
	Handler http.Handler
	// Cards, if set, returns the module's dashboard cards for the actor of
	// ctx. A card whose Slot names a placeholder ("dnfb", "coding",
	// "casemix", "duplicates") takes its place.
	Cards func(ctx context.Context) ([]Card, error)
}

// NavItem is an entry in the navigation.
type NavItem struct {
	Label, Path string
	// Roles who are offered the entry; any signed-in user when empty.
	Roles []string
	// Landing makes Path the first page of users with one of Roles (the
	// first landing entry in Modules order wins over the built-in ones).
	Landing bool
}

// Card is one block of the director's dashboard.
type Card struct {
	Slot  string
	Title string
	Body  template.HTML
	// AsOf is when the card's figures were made, when they were kept
	// (KeepCards); zero for figures made for this view.
	AsOf time.Time
}

//go:embed template/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// styleSheet is the embedded CSS and its content hash, which its URL
// carries so browsers may cache it for good.
var styleSheet, styleHash = func() ([]byte, string) {
	b, err := fs.ReadFile(staticFiles, "static/web.css")
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:6])
}()

var pageNames = []string{"dashboard", "patients", "chart", "document", "history", "audit", "access", "breakglass", "page", "error"}

var pages = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, n := range pageNames {
		m[n] = template.Must(template.New(n).Funcs(funcs).ParseFS(templateFiles, "template/layout.html", "template/"+n+".html"))
	}
	return m
}()

// ServeHTTP serves the workbench.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(h.init)
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) init() {
	if h.Allowed == nil {
		h.Allowed = access.Allowed
	}
	if h.Now == nil {
		h.Now = time.Now
	}
	if h.SeesSensitive == nil {
		h.SeesSensitive = access.Guard{}.SeesSensitive
	}
	if h.Logger == nil {
		h.Logger = slog.New(slog.DiscardHandler)
	}
	m := http.NewServeMux()
	m.HandleFunc("GET /static/web.css", serveStyle)
	m.Handle("GET /{$}", h.fn(h.home))
	m.Handle("GET /dashboard", h.fn(h.dashboard))
	m.Handle("GET /patients", h.fn(h.patientSearch))
	m.Handle("POST /patients", h.fn(h.patientSearch))
	m.Handle("GET /patients/{id}", h.fn(h.chart))
	m.Handle("POST /patients/{id}/break-glass", h.fn(h.breakGlass))
	m.Handle("GET /patients/{id}/history", h.fn(h.history))
	m.Handle("GET /patients/{id}/access", h.fn(h.accessReport))
	m.Handle("GET /patients/{id}/documents/{doc}", h.fn(h.document))
	m.Handle("GET /patients/{id}/documents/{doc}/content/{n}", h.fn(h.attachment))
	m.Handle("GET /audit", h.fn(h.auditLog))
	m.Handle("POST /audit", h.fn(h.auditLog))
	m.Handle("GET /audit/break-glass", h.fn(h.breakGlassReview))
	for _, mod := range h.Modules {
		if mod.Prefix != "" && mod.Handler != nil {
			m.Handle(mod.Prefix, mod.Handler)
		}
	}
	m.Handle("/", h.fn(func(w http.ResponseWriter, r *http.Request) error {
		return custodian.Errorf(custodian.ENOTFOUND, "There is no such page.")
	}))
	h.mux = m
}

func serveStyle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	if r.URL.Query().Get("v") == styleHash {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(styleSheet)
}

// fn adapts a handler that returns an error, rendering the error as a page.
func (h *Handler) fn(f func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			h.renderError(w, r, err)
		}
	})
}

// statuses maps error codes to HTTP statuses: the web's one table.
var statuses = map[string]int{
	custodian.EINVALID:        http.StatusBadRequest,
	custodian.EUNAUTHORIZED:   http.StatusUnauthorized,
	custodian.EFORBIDDEN:      http.StatusForbidden,
	custodian.ENOTFOUND:       http.StatusNotFound,
	custodian.EGONE:           http.StatusGone,
	custodian.ECONFLICT:       http.StatusConflict,
	custodian.EPRECONDITION:   http.StatusPreconditionFailed,
	custodian.EUNPROCESSABLE:  http.StatusUnprocessableEntity,
	custodian.ENOTIMPLEMENTED: http.StatusNotImplemented,
	custodian.ETOOLARGE:       http.StatusRequestEntityTooLarge,
	custodian.ETIMEOUT:        http.StatusServiceUnavailable,
	custodian.EUNAVAILABLE:    http.StatusServiceUnavailable,
	custodian.EINTERNAL:       http.StatusInternalServerError,
}

func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, err error) {
	code := custodian.ErrorCode(err)
	status, ok := statuses[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	switch {
	case code == custodian.EUNAVAILABLE:
		// A part still being read at start (chart review, the DNFB): an
		// expected state, asked about again and again, not a failure.
		h.Logger.Info("workbench page not ready", "method", r.Method, "pattern", r.Pattern)
	case status >= 500:
		// Never the path or the query: they can name a patient.
		h.Logger.Error("workbench", "method", r.Method, "pattern", r.Pattern, "err", err)
	}
	titles := map[int]string{400: "That did not work", 403: "Not allowed", 404: "Not found", 409: "Refused", 410: "Deleted", 412: "Changed meanwhile", 422: "That did not work", 503: "Not ready yet"}
	title := titles[status]
	if title == "" {
		title = "Something went wrong"
	}
	h.render(w, r, status, "error", &view{Title: title, Data: struct {
		Message string
		Status  int
	}{custodian.ErrorMessage(err), status}})
}

// view is what every page template is given.
type view struct {
	Title string
	// Section is the navigation entry to mark as current.
	Section string
	Nav     []NavItem
	User    string
	Roles   []string
	CSRF    template.HTML
	Style   string
	Print   bool // the page is a report worth printing
	Data    any
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	a := custodian.ActorFromContext(r.Context())
	if a != nil {
		v.User, v.Roles = a.ID, a.Roles
	}
	v.Nav = h.nav(a)
	v.CSRF = httpauth.CSRFField(r)
	v.Style = "/static/web.css?v=" + styleHash
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		h.Logger.Error("workbench template", "page", name, "err", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; object-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// Page renders body (HTML the caller made safe, e.g. with html/template)
// in the workbench's frame under title, for the pages of a Module.
// section is the Path of the module's navigation entry to mark current.
func (h *Handler) Page(w http.ResponseWriter, r *http.Request, title, section string, body template.HTML) {
	h.PageStatus(w, r, http.StatusOK, title, section, body)
}

// PageStatus is Page answering with status: a page that shows a refused
// action or a restricted record says so in its status too.
func (h *Handler) PageStatus(w http.ResponseWriter, r *http.Request, status int, title, section string, body template.HTML) {
	h.once.Do(h.init)
	h.render(w, r, status, "page", &view{Title: title, Section: section, Data: body})
}

// Error renders err as the workbench's error page, with the status its
// code maps to, for the pages of a Module.
func (h *Handler) Error(w http.ResponseWriter, r *http.Request, err error) {
	h.once.Do(h.init)
	h.renderError(w, r, err)
}

// Built-in navigation entries, in order, with who is offered them.
var (
	navDashboard  = NavItem{Label: "Dashboard", Path: "/dashboard", Roles: []string{access.RoleHIMDirector, access.RolePrivacyOfficer}}
	navPatients   = NavItem{Label: "Patients", Path: "/patients"}
	navAudit      = NavItem{Label: "Audit log", Path: "/audit"}
	navBreakGlass = NavItem{Label: "Break-the-glass review", Path: "/audit/break-glass"}
)

// nav returns the navigation entries actor is offered.
func (h *Handler) nav(a *custodian.Actor) []NavItem {
	if a == nil {
		return nil
	}
	var out []NavItem
	if hasRole(a, navDashboard.Roles) {
		out = append(out, navDashboard)
	}
	if h.Allowed(a, "Patient", "search") == nil {
		out = append(out, navPatients)
	}
	for _, m := range h.Modules {
		for _, n := range m.Nav {
			if len(n.Roles) == 0 || hasRole(a, n.Roles) {
				out = append(out, n)
			}
		}
	}
	if h.Allowed(a, "AuditEvent", "search") == nil {
		out = append(out, navAudit, navBreakGlass)
	}
	return out
}

func hasRole(a *custodian.Actor, roles []string) bool { return access.HasRole(a, roles) }

// RequireRole refuses the page r asks for unless its actor holds one of
// roles: EUNAUTHORIZED without an actor, EFORBIDDEN without the role,
// recorded in the audit trail (Refuse). The modules' pages ask it before
// they read anything. To choose what to show an actor, without a page
// being refused, ask access.HasRole.
func (h *Handler) RequireRole(r *http.Request, roles []string) error {
	a := custodian.ActorFromContext(r.Context())
	if a == nil {
		return custodian.Errorf(custodian.EUNAUTHORIZED, "Sign in first.")
	}
	if !access.HasRole(a, roles) {
		return h.Refuse(r, custodian.Errorf(custodian.EFORBIDDEN, "Your role does not give you this page."))
	}
	return nil
}

// maxPageInTrail bounds the path a refused page's audit entry names: the
// workbench's own paths are far shorter, and a request's path can be long.
const maxPageInTrail = 512

// Refuse records in the audit trail, through the store's refusal path
// (Records.RefusedOperation), that the actor of r was refused the page r
// asks for, with err's code as the outcome, and returns err (or the audit
// failure). The entry is a refused operation (audit.ActionOperation)
// whose query names the page: "page", the method and the path — never the
// query string, which can carry what a user typed — and names resources
// when the page is about them ("Patient/id" names its patient too). A
// page that refuses for a reason of its own calls it once, so each
// refused request leaves one entry; without an actor nothing is recorded
// (the sign-in comes first).
func (h *Handler) Refuse(r *http.Request, err error, resources ...string) error {
	if custodian.ActorFromContext(r.Context()) == nil {
		return err
	}
	path := r.URL.EscapedPath()
	if len(path) > maxPageInTrail {
		path = path[:maxPageInTrail] + "…"
	}
	return h.Records.RefusedOperation(r.Context(), "page "+r.Method+" "+path, resources, err)
}

// landing is each role's first page, in the order a user with several
// roles is sent to one.
var landing = []struct{ role, path string }{
	{access.RoleHIMDirector, "/dashboard"},
	{access.RolePrivacyOfficer, "/audit/break-glass"},
	{access.RoleAuditor, "/audit"},
	{access.RoleCoder, "/patients"},
	{access.RoleRecordAnalyst, "/patients"},
	{access.RoleROISpecialist, "/patients"},
	{access.RoleRegistrar, "/outcomes/registries/"}, // the registry work queue (web/outcomes)
	{access.RoleClinician, "/patients"},
	{access.RoleAdministrator, "/account"},
}

// home sends the user to their role's page.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) error {
	a := custodian.ActorFromContext(r.Context())
	if a == nil {
		return custodian.Errorf(custodian.EUNAUTHORIZED, "Sign in first.")
	}
	for _, m := range h.Modules {
		for _, n := range m.Nav {
			if n.Landing && hasRole(a, n.Roles) {
				http.Redirect(w, r, n.Path, http.StatusSeeOther)
				return nil
			}
		}
	}
	for _, l := range landing {
		if slices.Contains(a.Roles, l.role) {
			http.Redirect(w, r, l.path, http.StatusSeeOther)
			return nil
		}
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
	return nil
}

// require refuses the page unless the actor may perform interaction on
// typ. A refusal is not recorded: the caller asks the store, which
// records it, or calls Refuse.
func (h *Handler) require(r *http.Request, typ, interaction string) error {
	a := custodian.ActorFromContext(r.Context())
	if a == nil {
		return custodian.Errorf(custodian.EUNAUTHORIZED, "Sign in first.")
	}
	if err := h.Allowed(a, typ, interaction); err != nil {
		return custodian.Errorf(custodian.EFORBIDDEN, "Your role does not give you this page.")
	}
	return nil
}
