package fhirapi

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// DefaultMaxBody is the largest request body accepted unless configured.
const DefaultMaxBody = 64 << 20

// SearchParam describes a search parameter for the CapabilityStatement.
type SearchParam struct {
	Name, Type, Definition string
}

// Handler is the FHIR REST API. Mount it at /fhir/.
type Handler struct {
	Store *store.Store
	// Types are the resource types served, in the order the
	// CapabilityStatement lists them.
	Types []string
	// SearchParams lists the search parameters of a type that work.
	SearchParams func(typ string) []SearchParam
	Logger       *slog.Logger
	// MaxBody limits request bodies (DefaultMaxBody when 0).
	MaxBody int64
	// BaseURL is the absolute URL of the API ("https://host/fhir"); when
	// empty it is taken from each request.
	BaseURL string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Operations are served beside the built-in interactions and listed
	// in the CapabilityStatement.
	Operations []Operation

	mux *http.ServeMux
}

// apiFunc is a handler that returns its error for one place to render.
type apiFunc func(w http.ResponseWriter, r *http.Request) error

func (h *Handler) wrap(f apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := checkFormat(r); err != nil {
			h.writeError(w, r, err)
			return
		}
		if err := f(w, r); err != nil {
			h.writeError(w, r, err)
		}
	}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.mux == nil {
		h.routes()
	}
	h.mux.ServeHTTP(w, r)
}

// Init prepares the routes; call it once before serving concurrently.
func (h *Handler) Init() *Handler {
	h.routes()
	return h
}

func (h *Handler) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /fhir/metadata", h.wrap(h.capabilities))
	m.HandleFunc("POST /fhir/{$}", h.wrap(h.bundle))
	m.HandleFunc("GET /fhir/{$}", h.wrap(h.searchSystem))
	m.HandleFunc("POST /fhir/_search", h.wrap(h.searchSystem))
	m.HandleFunc("GET /fhir/_history", h.wrap(h.history))
	m.HandleFunc("POST /fhir/Patient/{id}/$break-glass", h.wrap(h.breakGlass))
	m.HandleFunc("GET /fhir/{type}", h.wrap(auditOr(h.search, h.auditSearch)))
	m.HandleFunc("POST /fhir/{type}/_search", h.wrap(h.search))
	m.HandleFunc("POST /fhir/{type}", h.wrap(h.create))
	m.HandleFunc("PUT /fhir/{type}", h.wrap(h.conditionalUpdate))
	m.HandleFunc("DELETE /fhir/{type}", h.wrap(h.conditionalDelete))
	m.HandleFunc("GET /fhir/{type}/_history", h.wrap(h.history))
	m.HandleFunc("GET /fhir/{type}/{id}", h.wrap(auditOr(h.read, h.auditRead)))
	m.HandleFunc("PUT /fhir/{type}/{id}", h.wrap(auditOr(h.update, h.auditReserved)))
	m.HandleFunc("PATCH /fhir/{type}/{id}", h.wrap(auditOr(h.patch, h.auditReserved)))
	m.HandleFunc("DELETE /fhir/{type}/{id}", h.wrap(auditOr(h.delete, h.auditReserved)))
	m.HandleFunc("GET /fhir/{type}/{id}/_history", h.wrap(h.history))
	m.HandleFunc("GET /fhir/{type}/{id}/_history/{vid}", h.wrap(h.vread))
	m.HandleFunc("GET /fhir/{type}/{id}/{ctype}", h.wrap(h.searchCompartment))
	m.HandleFunc("GET /fhir/Patient/{id}/$everything", h.wrap(h.everything))
	for _, op := range h.Operations {
		m.HandleFunc(op.Pattern, h.wrap(op.Handle))
	}
	m.HandleFunc("/fhir/", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		return custodian.Errorf(custodian.ENOTFOUND, "no FHIR interaction is %s %s", r.Method, r.URL.Path)
	}))
	h.mux = m
}

// auditOr routes requests for Custodian's own audit trail to it: a search
// of AuditEvent, and an AuditEvent whose id is a number (the position of an
// entry in the trail). AuditEvents that other systems send are stored like
// any resource, with ids that are not numbers.
func auditOr(normal, audit apiFunc) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if r.PathValue("type") == "AuditEvent" && (r.PathValue("id") == "" || isNumber(r.PathValue("id"))) {
			return audit(w, r)
		}
		return normal(w, r)
	}
}

func isNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// checkFormat refuses formats other than JSON, which is all Custodian speaks.
func checkFormat(r *http.Request) error {
	f := r.URL.Query().Get("_format")
	switch f {
	case "", "json", "application/json", "application/fhir+json":
	default:
		return custodian.Errorf(custodian.ENOTIMPLEMENTED, "only JSON is supported (_format=%s)", f)
	}
	return nil
}

// readBody reads the request body within the size limit and checks that its
// content type is JSON (or one of extra).
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, extra ...string) ([]byte, string, error) {
	return readBodyLimit(w, r, h.MaxBody, extra...)
}

func readBodyLimit(w http.ResponseWriter, r *http.Request, limit int64, extra ...string) ([]byte, string, error) {
	ct := r.Header.Get("Content-Type")
	mt := "application/fhir+json"
	if ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return nil, "", custodian.Errorf(custodian.EINVALID, "the Content-Type header cannot be read")
		}
	}
	ok := mt == "application/fhir+json" || mt == "application/json"
	for _, e := range extra {
		ok = ok || mt == e
	}
	if !ok {
		return nil, "", &custodian.Error{Code: custodian.EINVALID, Message: "unsupported Content-Type " + strconv.Quote(mt) + "; send application/fhir+json"}
	}
	if limit == 0 {
		limit = DefaultMaxBody
	}
	// A body that says its length is read into one buffer of that size;
	// growing by doubling would allocate about twice a Bundle's size.
	rd := http.MaxBytesReader(w, r.Body, limit)
	var body []byte
	var err error
	if n := r.ContentLength; n > 0 && n <= limit {
		var b bytes.Buffer
		b.Grow(int(n) + bytes.MinRead) // room for ReadFrom to see the end without growing
		_, err = b.ReadFrom(rd)
		body = b.Bytes()
	} else {
		body, err = io.ReadAll(rd)
	}
	if err != nil {
		var me *http.MaxBytesError
		if errors.As(err, &me) {
			return nil, "", err
		}
		return nil, "", custodian.Wrap(custodian.EINVALID, err, "the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, "", custodian.Errorf(custodian.EINVALID, "the request has no body")
	}
	return body, mt, nil
}

// writeJSON writes a resource tree.
func writeJSON(w http.ResponseWriter, status int, v map[string]any) {
	b, err := store.Encode(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception","diagnostics":"Internal error."}]}`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// base returns the absolute base URL of the API for r.
func (h *Handler) base(r *http.Request) string {
	if h.BaseURL != "" {
		return strings.TrimSuffix(h.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/fhir"
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// versionHeaders sets ETag, Last-Modified and Content-Location for res.
func (h *Handler) versionHeaders(w http.ResponseWriter, r *http.Request, res *store.Resource) {
	w.Header().Set("ETag", res.ETag())
	w.Header().Set("Last-Modified", res.LastUpdated.UTC().Format(http.TimeFormat))
}

// parseETag reads a version from an If-Match style value: W/"3", "3" or 3.
func parseETag(v string) (int64, error) {
	v = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), "W/"))
	v = strings.Trim(v, `"`)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, custodian.Errorf(custodian.EINVALID, "the version %q is not a version number", v)
	}
	return n, nil
}

func ifMatch(r *http.Request) (int64, error) {
	v := r.Header.Get("If-Match")
	if v == "" {
		return 0, nil
	}
	return parseETag(v)
}
