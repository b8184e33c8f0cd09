package web_test

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/web"
)

// A module (here a stand-in for coding) adds its navigation entry, its
// pages in the workbench's frame, a landing page and a dashboard card.
func TestModule(t *testing.T) {
	e := newEnv(t, 2)
	h := &web.Handler{Records: e.st}
	coding := http.NewServeMux()
	coding.HandleFunc("GET /coding/queue", func(w http.ResponseWriter, r *http.Request) {
		h.Page(w, r, "Coding queue", "/coding/queue", template.HTML(`<h1>Coding queue</h1><p id="queue">3 encounters</p>`))
	})
	coding.HandleFunc("GET /coding/missing", func(w http.ResponseWriter, r *http.Request) {
		h.Error(w, r, custodian.Errorf(custodian.ENOTFOUND, "No such encounter."))
	})
	h.Modules = []web.Module{{
		Nav:     []web.NavItem{{Label: "Coding queue", Path: "/coding/queue", Roles: []string{access.RoleCoder}, Landing: true}},
		Prefix:  "/coding/",
		Handler: coding,
		Cards: func(context.Context) ([]web.Card, error) {
			return []web.Card{{Slot: "dnfb", Title: "DNFB: 12 encounters", Body: template.HTML(`<p id="dnfb">12</p>`)}}, nil
		},
	}}
	get := func(path string, roles ...string) *httptest.ResponseRecorder {
		a := &custodian.Actor{ID: "u", Kind: access.KindUser, Roles: roles}
		req := httptest.NewRequest("GET", path, nil).WithContext(custodian.NewContextWithActor(context.Background(), a))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := get("/", access.RoleCoder); rec.Header().Get("Location") != "/coding/queue" {
		t.Errorf("a coder lands on %q, want the module's queue", rec.Header().Get("Location"))
	}
	rec := get("/coding/queue", access.RoleCoder)
	if body := rec.Body.String(); rec.Code != 200 || !strings.Contains(body, `id="queue"`) ||
		!strings.Contains(body, `<a href="/coding/queue" aria-current="page">Coding queue</a>`) {
		t.Errorf("the module's page: %d\n%s", rec.Code, body)
	}
	if rec := get("/coding/missing", access.RoleCoder); rec.Code != 404 || !strings.Contains(rec.Body.String(), "No such encounter.") {
		t.Errorf("the module's error page: %d", rec.Code)
	}
	if body := get("/patients", access.RoleRecordAnalyst).Body.String(); strings.Contains(body, "Coding queue") {
		t.Error("a record analyst is offered the coder's queue")
	}
	body := get("/dashboard", access.RoleHIMDirector).Body.String()
	// The DNFB placeholder gives way to the card; the backlog one stays.
	if !strings.Contains(body, `<p id="dnfb">12</p>`) || strings.Count(body, "Available when the coding module") != 1 {
		t.Errorf("the DNFB card does not take its placeholder's place:\n%s", body)
	}
}

// The dashboard does not wait long for the record to be counted: it says
// so, the counting goes on, and a later view shows the counts.
func TestDashboardCountsLater(t *testing.T) {
	e := newEnv(t, 2)
	h := &web.Handler{Records: e.st, CountWait: time.Nanosecond}
	a := &custodian.Actor{ID: "dana", Kind: access.KindUser, Roles: []string{access.RoleHIMDirector}}
	get := func() string {
		req := httptest.NewRequest("GET", "/dashboard", nil).WithContext(custodian.NewContextWithActor(context.Background(), a))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("dashboard: %d", rec.Code)
		}
		return rec.Body.String()
	}
	if body := get(); !strings.Contains(body, `id="counting"`) {
		t.Fatal("the first view does not say the record is being counted")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		body := get()
		if strings.Contains(body, "Records counted at") {
			if !strings.Contains(body, `id="received-t"`) {
				t.Error("the counts are in but the chart is not drawn")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the counts never came")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
