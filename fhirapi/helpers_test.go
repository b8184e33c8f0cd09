package fhirapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

var testActor = &custodian.Actor{ID: "tester", Kind: "user", Roles: []string{"administrator"}, Address: "127.0.0.1"}

var (
	registryOnce sync.Once
	registry     *search.Registry
)

// newServer starts the FHIR API on a fresh SQLite database in a temp dir.
func newServer(tb testing.TB) *client {
	tb.Helper()
	registryOnce.Do(func() {
		var err error
		if registry, err = search.NewR4(fhir.R4()); err != nil {
			panic(err)
		}
	})
	ctx := context.Background()
	db := sqldbtest.Open(tb)
	if err := db.RegisterParams(ctx, registry.Indexed()); err != nil {
		tb.Fatal(err)
	}
	st := store.New(db, fhir.R4(), registry)
	st.AuditLog = db
	h := (&fhirapi.Handler{Store: st, Types: fhir.R4().ResourceTypes(), MaxBody: 64 << 20}).Init()
	// Requests act as an administrator; authentication has its own tests.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(custodian.NewContextWithActor(r.Context(), testActor)))
	}))
	tb.Cleanup(srv.Close)
	return &client{tb: tb, base: srv.URL, http: srv.Client()}
}

type client struct {
	tb   testing.TB
	base string
	http *http.Client
}

type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends a request; headers come in name, value pairs.
func (c *client) do(method, path, body string, headers ...string) *response {
	c.tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.tb.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.tb.Fatal(err)
	}
	r := &response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(&r.body); err != nil {
			c.tb.Fatalf("%s %s: response is not JSON: %v: %.200s", method, path, err, raw)
		}
	}
	return r
}

// must checks the status and returns the response.
func (r *response) must(tb testing.TB, status int) *response {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status %d, want %d: %.600s", r.status, status, r.raw)
	}
	return r
}

func (r *response) str(path ...string) string {
	var v any = r.body
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			var i int
			json.Unmarshal([]byte(p), &i)
			if i >= len(x) {
				return ""
			}
			v = x[i]
		default:
			return ""
		}
	}
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return ""
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func (r *response) entries() []any {
	e, _ := r.body["entry"].([]any)
	return e
}
