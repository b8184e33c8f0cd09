package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/custodian-him/custodian/sqldb/sqldbtest"
)

// TestTwoNodesOneDatabase runs two `custodian serve` processes on one
// PostgreSQL database, as behind a load balancer, and checks that they
// behave as one server: conditional creates cannot race into duplicates
// across processes, If-Match holds across them, tokens and paging links
// work whichever node answers.
func TestTwoNodesOneDatabase(t *testing.T) {
	if sqldbtest.Engine() != "postgres" {
		t.Skip("several nodes share a PostgreSQL database; this runs in the PostgreSQL pass of scripts/test")
	}
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	bin := buildBinary(t)
	url := sqldbtest.URL(t)
	const public = "CUSTODIAN_BASE_URL=http://custodian.test"
	id, secret := addClient(t, bin, t.TempDir(), "--db", url)
	a, baseA := startServer(t, bin, t.TempDir(), "--db", url, public)
	defer func() { a.Process.Kill(); a.Wait() }()
	b, baseB := startServer(t, bin, t.TempDir(), "--db", url, public)
	defer func() { b.Process.Kill(); b.Wait() }()
	token := getToken(t, baseA, id, secret) // issued by A, used on both

	do := func(base, method, path, body string, headers ...string) (int, http.Header, map[string]any) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/fhir+json")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var m map[string]any
		json.Unmarshal(raw, &m)
		return resp.StatusCode, resp.Header, m
	}

	// Conditional creates from both nodes at once: exactly one resource.
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := []string{baseA, baseB}[i%2]
			st, _, _ := do(base, "POST", "/fhir/Patient", `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"race"}]}`,
				"If-None-Exist", "identifier=urn:mrn|race")
			mu.Lock()
			defer mu.Unlock()
			switch st {
			case http.StatusCreated:
				created++
			case http.StatusOK:
			default:
				t.Errorf("conditional create: status %d", st)
			}
		}()
	}
	wg.Wait()
	_, _, found := do(baseB, "GET", "/fhir/Patient?identifier=urn:mrn|race&_total=accurate", "")
	if created != 1 || fmt.Sprint(found["total"]) != "1" {
		t.Fatalf("created %d, stored %v; want exactly one across two nodes", created, found["total"])
	}

	// If-Match across nodes.
	st, _, _ := do(baseA, "PUT", "/fhir/Patient/m1", `{"resourceType":"Patient","id":"m1"}`)
	if st != http.StatusCreated {
		t.Fatalf("create m1: %d", st)
	}
	if st, _, _ := do(baseB, "PUT", "/fhir/Patient/m1", `{"resourceType":"Patient","id":"m1","active":true}`, "If-Match", `W/"1"`); st != http.StatusOK {
		t.Fatalf("update on B: %d", st)
	}
	if st, _, _ := do(baseA, "PUT", "/fhir/Patient/m1", `{"resourceType":"Patient","id":"m1","active":false}`, "If-Match", `W/"1"`); st != http.StatusPreconditionFailed {
		t.Fatalf("stale update on A: %d, want 412", st)
	}

	// A paging link from A followed on B.
	for i := range 12 {
		do(baseA, "POST", "/fhir/Observation", fmt.Sprintf(`{"resourceType":"Observation","status":"final","code":{"text":"n%d"}}`, i))
	}
	seen := map[string]bool{}
	next := "/fhir/Observation?_count=5"
	for pages := 0; next != ""; pages++ {
		base := []string{baseA, baseB}[pages%2]
		st, _, page := do(base, "GET", next, "")
		if st != http.StatusOK {
			t.Fatalf("page %d: %d", pages, st)
		}
		entries, _ := page["entry"].([]any)
		for _, e := range entries {
			seen[e.(map[string]any)["fullUrl"].(string)] = true
		}
		next = ""
		links, _ := page["link"].([]any)
		for _, l := range links {
			if l := l.(map[string]any); l["relation"] == "next" {
				u := l["url"].(string)
				next = u[strings.Index(u, "/fhir/"):]
			}
		}
	}
	if len(seen) != 12 {
		t.Fatalf("paging across nodes saw %d observations, want 12", len(seen))
	}
}
