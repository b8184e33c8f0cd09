package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// buildBinary compiles custodian once for tests that run it as a process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "custodian")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

var servingRE = regexp.MustCompile(`http://([0-9.:]+)/fhir`)

// startServer runs `custodian serve` on a free port and returns its base
// URL. extra are more arguments, and those of the form CUSTODIAN_…=… are
// environment variables for it.
func startServer(t *testing.T, bin, data string, extra ...string) (*exec.Cmd, string) {
	t.Helper()
	var env []string
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", data}
	for _, e := range extra {
		if strings.HasPrefix(e, "CUSTODIAN_") && strings.Contains(e, "=") {
			env = append(env, e)
		} else {
			args = append(args, e)
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for lines.Scan() {
		if m := servingRE.FindStringSubmatch(lines.Text()); m != nil {
			go io.Copy(io.Discard, stdout)
			return cmd, "http://" + m[1]
		}
	}
	t.Fatal("the server did not start")
	return nil, ""
}

// addClient registers an API client that may do everything.
func addClient(t *testing.T, bin, data string, extra ...string) (id, secret string) {
	t.Helper()
	out, err := exec.Command(bin, append([]string{"client", "add", "tester", "--scopes", "system/*.*", "--json", "--data", data}, extra...)...).Output()
	if err != nil {
		t.Fatalf("client add: %v", err)
	}
	var c struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal(out, &c); err != nil || c.ID == "" {
		t.Fatalf("client add printed %q: %v", out, err)
	}
	return c.ID, c.Secret
}

// getToken gets an access token with the client credentials grant.
func getToken(t *testing.T, base, id, secret string) string {
	t.Helper()
	resp, err := http.PostForm(base+"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: status %d: %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

// TestKillDuringWrites kills the server with SIGKILL in the middle of a
// write load; after a restart every acknowledged write must be there and the
// database must be consistent.
func TestKillDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	id, secret := addClient(t, bin, data)
	cmd, base := startServer(t, bin, data)
	token := getToken(t, base, id, secret)

	var mu sync.Mutex
	var acked []string
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				body := fmt.Sprintf(`{"resourceType":"Patient","identifier":[{"system":"urn:crash","value":"%d-%d"}],"name":[{"family":"Crash"}]}`, w, i)
				req, _ := http.NewRequest("POST", base+"/fhir/Patient", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/fhir+json")
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					loc := resp.Header.Get("Location")
					mu.Lock()
					acked = append(acked, loc[strings.Index(loc, "/fhir/")+len("/fhir/"):strings.Index(loc, "/_history")])
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	stop()
	wg.Wait()
	if len(acked) < 50 {
		t.Fatalf("only %d writes acknowledged before the kill; the load did not run", len(acked))
	}

	// The database file itself is sound and the store's invariants hold.
	db, err := sql.Open("sqlite", filepath.Join(data, "custodian.db"))
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	var orphans int
	db.QueryRow(`SELECT count(*) FROM resources r WHERE NOT EXISTS (SELECT 1 FROM versions v WHERE v.rid = r.rid AND v.version = r.version)`).Scan(&orphans)
	if orphans != 0 {
		t.Fatalf("%d resources without their current version", orphans)
	}
	db.Close()

	cmd, base = startServer(t, bin, data)
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	token = getToken(t, base, id, secret)
	for _, ref := range acked {
		req, _ := http.NewRequest("GET", base+"/fhir/"+ref, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("acknowledged %s: status %d after restart", ref, resp.StatusCode)
		}
	}
	t.Logf("%d acknowledged writes, all present after kill -9 and restart", len(acked))
}
