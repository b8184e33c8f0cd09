package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestOversizedHeadersAndTraversal sends what an attacker would to the real
// server: headers far beyond the limit, and paths that try to climb out of
// the API. Each gets a clear 4xx and the server keeps serving.
func TestOversizedHeadersAndTraversal(t *testing.T) {
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	id, secret := addClient(t, bin, data)
	cmd, base := startServer(t, bin, data)
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	token := getToken(t, base, id, secret)

	// A 1 MiB header: refused before any handler runs.
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 1<<20))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	if !strings.Contains(line, "431") && !strings.Contains(line, "400") {
		t.Fatalf("oversized header: %q", line)
	}

	for _, path := range []string{
		"/fhir/Patient/..%2F..%2F..%2Fetc%2Fpasswd",
		"/fhir/Binary/%2e%2e%2f%2e%2e%2fcustodian.db",
		"/fhir/..%2fcustodian.db",
		"/fhir/Patient/1/_history/..%2F2",
		"/fhir/Patient/%00",
	} {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.URL.RawPath = path
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("%s: status %d, want a 4xx", path, resp.StatusCode)
		}
	}
	// Still serving.
	req, _ := http.NewRequest("GET", base+"/fhir/metadata", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("server after the attacks: %v %v", err, resp)
	}
	resp.Body.Close()
}
