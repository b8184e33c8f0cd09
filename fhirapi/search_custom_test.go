package fhirapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// customServer is newServer with a registry of its own that follows the
// stored SearchParameters, wired as the server wires it.
func customServer(t *testing.T) (*client, *sqldb.DB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		t.Fatal(err)
	}
	db := sqldbtest.Open(t)
	if err := db.RegisterParams(ctx, reg.Indexed()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := reg.LoadCustom(ctx, db, false); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, fhir.R4(), reg)
	st.AuditLog = db
	f := &search.Follower{Registry: reg, Source: db}
	st.Watchers = append(st.Watchers, f.Watcher())
	go f.Run(ctx, 20*time.Millisecond)
	h := (&fhirapi.Handler{Store: st, Types: fhir.R4().ResourceTypes(), SearchParams: fhirapi.RegistryParams(reg), MaxBody: 64 << 20}).Init()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(custodian.NewContextWithActor(r.Context(), testActor)))
	}))
	t.Cleanup(srv.Close)
	return &client{tb: t, base: srv.URL, http: srv.Client()}, db
}

// reindexAll does what custodian reindex does: index every resource by the
// R4 parameters and every stored SearchParameter, then activate those.
func reindexAll(t *testing.T, db *sqldb.DB) {
	t.Helper()
	ctx := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "cli:test", Kind: "system"})
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RegisterParams(ctx, reg.Indexed()); err != nil {
		t.Fatal(err)
	}
	custom, problems, err := reg.LoadCustom(ctx, db, true)
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	st := store.New(db, fhir.R4(), reg)
	var after int64
	for {
		next, n, err := st.Reindex(ctx, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		after = next
	}
	if err := db.ActivateSearchParams(ctx, custom); err != nil {
		t.Fatal(err)
	}
}

const eyeColour = `{"resourceType":"SearchParameter","id":"eye-colour","url":"http://example.org/SearchParameter/eye-colour",
	"name":"EyeColour","status":"active","description":"The patient's eye colour","code":"eye-colour","base":["Patient"],"type":"token",
	"expression":"Patient.extension.where(url='http://example.org/eye-colour').value"}`

func patientWithEyes(id, colour string) string {
	return `{"resourceType":"Patient","id":"` + id + `","extension":[{"url":"http://example.org/eye-colour","valueCode":"` + colour + `"}]}`
}

// TestCustomSearchParameter: a posted SearchParameter indexes writes at
// once but can be searched only after reindex has indexed what was stored
// before it; a new version of it waits for the next reindex.
func TestCustomSearchParameter(t *testing.T) {
	c, db := customServer(t)
	strict := []string{"Prefer", "handling=strict"}
	c.do("PUT", "/fhir/Patient/p1", patientWithEyes("p1", "blue")).must(t, http.StatusCreated)
	c.do("PUT", "/fhir/Patient/p2", patientWithEyes("p2", "green")).must(t, http.StatusCreated)
	// POSTed: the server gives it an id.
	sp := c.do("POST", "/fhir/SearchParameter", strings.Replace(eyeColour, `"id":"eye-colour",`, "", 1)).must(t, http.StatusCreated)
	spID := sp.str("id")
	find := func(query string) []string {
		t.Helper()
		r := c.do("GET", "/fhir/"+query, "", strict...).must(t, http.StatusOK)
		got := refs(r, "match")
		slices.Sort(got)
		return got
	}
	// Written, not yet reindexed: unknown to searches.
	if r := c.do("GET", "/fhir/Patient?eye-colour=blue", "", strict...); r.status != http.StatusBadRequest {
		t.Fatalf("search before reindex: status %d", r.status)
	}
	// The server learns of it (the watcher's reload) before p3 is written,
	// so p3 is indexed by it at once.
	waitFor(t, func() bool {
		r := c.do("GET", "/fhir/Patient?eye-colour=blue", "")
		return r.status == http.StatusOK && !strings.Contains(r.str("link", "0", "url"), "eye-colour")
	})
	time.Sleep(100 * time.Millisecond) // past the watcher's reload
	c.do("PUT", "/fhir/Patient/p3", patientWithEyes("p3", "blue")).must(t, http.StatusCreated)

	reindexAll(t, db)
	// The server's follower finds the activation.
	waitFor(t, func() bool {
		return c.do("GET", "/fhir/Patient?eye-colour=blue", "", strict...).status == http.StatusOK
	})
	if got, want := find("Patient?eye-colour=blue"), []string{"Patient/p1", "Patient/p3"}; !slices.Equal(got, want) {
		t.Errorf("eye-colour=blue: %v, want %v", got, want)
	}
	if got, want := find("Patient?eye-colour:not=blue"), []string{"Patient/p2"}; !slices.Equal(got, want) {
		t.Errorf("eye-colour:not=blue: %v, want %v", got, want)
	}
	c.do("PUT", "/fhir/Patient/p4", patientWithEyes("p4", "green")).must(t, http.StatusCreated)
	if got, want := find("Patient?eye-colour=green"), []string{"Patient/p2", "Patient/p4"}; !slices.Equal(got, want) {
		t.Errorf("eye-colour=green: %v, want %v", got, want)
	}
	// A new version (a different expression) is pending until reindexed.
	v2 := strings.NewReplacer("eye-colour')", "eye-color')", `"id":"eye-colour"`, `"id":"`+spID+`"`).Replace(eyeColour)
	c.do("PUT", "/fhir/SearchParameter/"+spID, v2).must(t, http.StatusOK)
	waitFor(t, func() bool {
		return c.do("GET", "/fhir/Patient?eye-colour=blue", "", strict...).status == http.StatusBadRequest
	})
	c.do("PUT", "/fhir/Patient/p5", strings.Replace(patientWithEyes("p5", "blue"), "eye-colour", "eye-color", 1)).must(t, http.StatusCreated)
	reindexAll(t, db)
	waitFor(t, func() bool {
		return c.do("GET", "/fhir/Patient?eye-colour=blue", "", strict...).status == http.StatusOK
	})
	if got, want := find("Patient?eye-colour=blue"), []string{"Patient/p5"}; !slices.Equal(got, want) {
		t.Errorf("after the new version, eye-colour=blue: %v, want %v", got, want)
	}
}

// TestCustomSearchParameterProblems: SearchParameters Custodian cannot
// index by are reported and left out; the others still load.
func TestCustomSearchParameterProblems(t *testing.T) {
	c, db := customServer(t)
	for id, body := range map[string]string{
		"clash":  strings.NewReplacer(`"eye-colour"`, `"clash"`, `"code":"eye-colour"`, `"code":"gender"`).Replace(eyeColour),
		"badexp": strings.NewReplacer(`"eye-colour"`, `"badexp"`, `"code":"eye-colour"`, `"code":"bad"`, `"expression":"Patient.extension`, `"expression":"Patient.(((`).Replace(eyeColour),
		"kind":   strings.NewReplacer(`"eye-colour"`, `"kind"`, `"code":"eye-colour"`, `"code":"kind"`, `"type":"token"`, `"type":"special"`).Replace(eyeColour),
		"code":   strings.NewReplacer(`"eye-colour"`, `"code"`, `"code":"eye-colour"`, `"code":"_x;drop"`).Replace(eyeColour),
		"draft":  strings.NewReplacer(`"eye-colour"`, `"draft"`, `"code":"eye-colour"`, `"code":"draft"`, `"status":"active"`, `"status":"draft"`).Replace(eyeColour),
		"good":   strings.Replace(eyeColour, `"id":"eye-colour"`, `"id":"good"`, 1),
	} {
		r := c.do("PUT", "/fhir/SearchParameter/"+id, body)
		r.must(t, http.StatusCreated)
	}
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		t.Fatal(err)
	}
	loaded, problems, err := reg.LoadCustom(context.Background(), db, false)
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	for _, p := range problems {
		bad = append(bad, p.ID)
	}
	slices.Sort(bad)
	if want := []string{"badexp", "clash", "code", "kind"}; !slices.Equal(bad, want) {
		t.Errorf("problems %v, want %v", problems, want)
	}
	if len(loaded) != 1 || loaded[0].ID != "good" {
		t.Errorf("loaded %v", loaded)
	}
	if _, ok := reg.Lookup("Patient", "eye-colour"); !ok {
		t.Error("the good SearchParameter was not loaded")
	}
	if _, ok := reg.Param("Patient", "eye-colour"); ok {
		t.Error("a SearchParameter not yet reindexed is searchable")
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for start := time.Now(); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatal("timed out waiting")
		}
	}
}
