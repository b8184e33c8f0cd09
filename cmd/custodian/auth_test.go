package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
)

func runUser(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := (&UserCommand{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}).Run(context.Background(), args)
	return out.String(), err
}

func runClient(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := (&ClientCommand{Stdout: &out, Stderr: &errb}).Run(context.Background(), args)
	return out.String(), err
}

// dbBytes returns the database files' raw bytes, to look for plain text.
func dbBytes(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	for _, f := range []string{"custodian.db", "custodian.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err == nil {
			all = append(all, b...)
		}
	}
	return all
}

func TestUserCommand(t *testing.T) {
	dir := t.TempDir()
	const pw = "a long enough password"
	if out, err := runUser(t, pw+"\n", "add", "Alice", "--role", "coder,auditor", "--password-stdin", "--data", dir); err != nil || !strings.Contains(out, "alice added (coder, auditor)") {
		t.Fatalf("add: %q %v", out, err)
	}
	for _, bad := range [][]string{
		{"add", "bob", "--role", "coder", "--data", dir},                                  // no --password-stdin
		{"add", "bob", "--role", "wizard", "--password-stdin", "--data", dir},             // unknown role
		{"add", "alice", "--role", "coder", "--password-stdin", "--data", dir},            // exists
		{"add", "--role", "coder", "--password-stdin", "--data", dir},                     // no name
		{"add", "bob", "--role", "integration-client", "--password-stdin", "--data", dir}, // not a user role
		{"frobnicate", "--data", dir},
	} {
		if _, err := runUser(t, pw+"\n", bad...); err == nil {
			t.Errorf("user %q succeeded", bad)
		}
	}
	if _, err := runUser(t, "bob\n", "add", "bob", "--role", "coder", "--password-stdin", "--data", dir); err == nil || !strings.Contains(err.Error(), "12") {
		t.Errorf("weak password: %v", err)
	}
	if out, err := runUser(t, "new password here\n", "passwd", "alice", "--password-stdin", "--data", dir); err != nil || !strings.Contains(out, "changed") {
		t.Fatalf("passwd: %q %v", out, err)
	}
	if out, err := runUser(t, "", "disable", "alice", "--data", dir); err != nil || !strings.Contains(out, "disabled") {
		t.Fatalf("disable: %q %v", out, err)
	}
	out, err := runUser(t, "", "list", "--data", dir)
	if err != nil || !strings.Contains(out, "alice") || !strings.Contains(out, "coder,auditor") || !strings.Contains(out, "disabled") {
		t.Fatalf("list: %q %v", out, err)
	}
	if out, err := runUser(t, "", "roles", "alice", "--role", "record-analyst", "--data", dir); err != nil || !strings.Contains(out, "record-analyst") {
		t.Fatalf("roles: %q %v", out, err)
	}
	for _, bad := range [][]string{
		{"roles", "alice", "--data", dir},                                 // no role
		{"roles", "alice", "--role", "wizard", "--data", dir},             // unknown role
		{"roles", "alice", "--role", "integration-client", "--data", dir}, // not a user role
		{"roles", "nobody", "--role", "coder", "--data", dir},             // no such user
		{"enable", "nobody", "--data", dir},                               // no such user
	} {
		if _, err := runUser(t, "", bad...); err == nil {
			t.Errorf("user %q succeeded", bad)
		}
	}
	if out, err := runUser(t, "", "enable", "alice", "--data", dir); err != nil || !strings.Contains(out, "enabled") {
		t.Fatalf("enable: %q %v", out, err)
	}
	out, err = runUser(t, "", "list", "--data", dir)
	if err != nil || !strings.Contains(out, "record-analyst") || strings.Contains(out, "coder,auditor") || strings.Contains(out, "disabled") {
		t.Fatalf("list after roles and enable: %q %v", out, err)
	}
	if raw := dbBytes(t, dir); bytes.Contains(raw, []byte(pw)) || bytes.Contains(raw, []byte("new password here")) {
		t.Error("a password is in the database file in plain text")
	}
}

func TestClientCommand(t *testing.T) {
	dir := t.TempDir()
	out, err := runClient(t, "add", "lab-feed", "--scopes", "system/*.read system/Observation.write", "--json", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	var cl struct {
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		Scopes       []string `json:"scopes"`
		Roles        []string `json:"roles"`
	}
	if err := json.Unmarshal([]byte(out), &cl); err != nil || cl.ClientID == "" || len(cl.ClientSecret) < 43 || len(cl.Scopes) != 2 || cl.Roles[0] != "integration-client" {
		t.Fatalf("add --json: %s %v", out, err)
	}
	out, err = runClient(t, "add", "other", "--scopes", "system/Patient.rs", "--data", dir)
	if err != nil || !strings.Contains(out, "client_secret: ") || !strings.Contains(out, "cannot be shown again") {
		t.Fatalf("add: %s %v", out, err)
	}
	for _, bad := range [][]string{
		{"add", "x", "--scopes", "everything", "--data", dir},
		{"add", "x", "--data", dir},
		{"add", "lab-feed", "--scopes", "system/*.read", "--data", dir},
		{"add", "x", "--scopes", "system/*.read", "--role", "wizard", "--data", dir},
	} {
		if _, err := runClient(t, bad...); err == nil {
			t.Errorf("client %q succeeded", bad)
		}
	}
	// The secret is shown once: not by list, not in the database.
	for _, args := range [][]string{{"list", "--data", dir}, {"list", "--json", "--data", dir}} {
		out, err := runClient(t, args...)
		if err != nil || !strings.Contains(out, cl.ClientID) || strings.Contains(out, cl.ClientSecret) {
			t.Errorf("%q: %s %v", args, out, err)
		}
	}
	if bytes.Contains(dbBytes(t, dir), []byte(cl.ClientSecret)) {
		t.Error("the client secret is in the database file")
	}
	if out, err := runClient(t, "disable", "lab-feed", "--data", dir); err != nil || !strings.Contains(out, "disabled") {
		t.Errorf("disable: %s %v", out, err)
	}
	if _, err := runClient(t, "disable", "nobody", "--data", dir); err == nil {
		t.Error("disabling an unknown client succeeded")
	}
}

// TestServeRequiresActor runs the real handler: the FHIR API wants a token,
// a client gets one with the secret it was given, and nothing secret is logged.
func TestServeRequiresActor(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the R4 definitions")
	}
	ctx := context.Background()
	dir := t.TempDir()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	a, err := openApp(ctx, dir, "", logger)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	adminPW, created, err := a.access.Bootstrap(ctx, "")
	if err != nil || !created {
		t.Fatalf("bootstrap: %v %v", created, err)
	}
	srv := httptest.NewServer(logRequests(logger, a.Handler()))
	defer srv.Close()

	get := func(path string, header ...string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get("/fhir/Patient")
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" || !strings.Contains(body, `"code":"login"`) {
		t.Fatalf("no token: %d %s", resp.StatusCode, body)
	}
	if resp, _ := get("/fhir/metadata"); resp.StatusCode != 200 {
		t.Errorf("CapabilityStatement: %d", resp.StatusCode)
	}

	cl, secret, err := a.access.CreateClient(systemCtx(), "feed", []string{"system/*.read", "system/Patient.write"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.PostForm(srv.URL+"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {cl.ID}, "client_secret": {secret}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok.AccessToken == "" {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/fhir/Patient", strings.NewReader(`{"resourceType":"Patient","name":[{"family":"Tokenholder"}]}`))
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create with a token: %d", resp.StatusCode)
	}
	if resp, body := get("/fhir/Patient", "Authorization", "Bearer "+tok.AccessToken); resp.StatusCode != 200 || !strings.Contains(body, "Tokenholder") {
		t.Errorf("search with a token: %d", resp.StatusCode)
	}
	for _, s := range []string{adminPW, secret, tok.AccessToken} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("a secret is in the log:\n%s", logs.String())
		}
	}
}

func systemCtx() context.Context {
	return custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
}
