//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkHTTPReadAuditCost measures what auditing reads costs the FHIR
// API: two servers run side by side as separate processes, one of this
// build and one of the same code built with the tag benchreadauditoff
// (reads not audited), each over its own store holding the same 2,000
// Observations of 100 patients. Sixteen HTTP clients in this process read
// Observations by id with an API client's bearer token (system/*.read),
// in short alternating phases (each op is a pair; which server goes first
// alternates). It reports both servers' read rates, and the servers' own
// CPU time per read (user + system from /proc, so the clients' CPU is not
// counted), whose ratio is what auditing costs a server that reads as
// fast as it can. The target (issue 6) is a cost of at most 10%.
//
//	go test ./cmd/custodian -run XXX -bench HTTPReadAuditCost -benchtime 10x
func BenchmarkHTTPReadAuditCost(b *testing.B) {
	dir := b.TempDir()
	ndjson := filepath.Join(dir, "Observation.ndjson")
	ids := writeReadFixture(b, ndjson)
	on := startReadServer(b, dir, "on", ndjson, false)
	off := startReadServer(b, dir, "off", ndjson, true)
	servers := [2]*readServer{off, on}

	const readers, perPhase = 16, 8000
	tr := &http.Transport{MaxIdleConnsPerHost: readers}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	phase := func(s *readServer) (time.Duration, time.Duration) {
		cpu0 := s.cpu(b)
		start := time.Now()
		var wg sync.WaitGroup
		for range readers {
			wg.Go(func() {
				for range perPhase / readers {
					req, _ := http.NewRequest(http.MethodGet, s.base+"/fhir/Observation/"+ids[rand.IntN(len(ids))], nil)
					req.Header.Set("Authorization", "Bearer "+s.token)
					resp, err := hc.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("read: %s", resp.Status)
						return
					}
				}
			})
		}
		wg.Wait()
		return time.Since(start), s.cpu(b) - cpu0
	}
	phase(off) // warm both
	phase(on)
	// Each server's CPU is taken over the whole run, so that what the
	// audited server does after a phase (taking its journal into the chain
	// every 2 s) is counted, and the idle server's own background work is
	// counted alike. The pause lets the warm-up's entries settle first.
	settle := func() { time.Sleep(3 * time.Second) }
	settle()
	cpu0 := [2]time.Duration{off.cpu(b), on.cpu(b)}
	var spent [2]time.Duration // [off, on]
	pairs := 0
	b.ResetTimer()
	for b.Loop() {
		for k := range 2 {
			mode := (pairs + k) % 2
			d, _ := phase(servers[mode])
			spent[mode] += d
		}
		pairs++
	}
	b.StopTimer()
	settle()
	cpu := [2]time.Duration{off.cpu(b) - cpu0[0], on.cpu(b) - cpu0[1]}
	reads := float64(pairs * perPhase)
	b.ReportMetric(reads/spent[0].Seconds(), "reads/s-off")
	b.ReportMetric(reads/spent[1].Seconds(), "reads/s-on")
	b.ReportMetric(100*(1-spent[0].Seconds()/spent[1].Seconds()), "%cost-wall")
	b.ReportMetric(float64(cpu[0].Microseconds())/reads, "server-cpu-µs/read-off")
	b.ReportMetric(float64(cpu[1].Microseconds())/reads, "server-cpu-µs/read-on")
	b.ReportMetric(100*(1-cpu[0].Seconds()/cpu[1].Seconds()), "%cost-cpu")
	if b.N > 1 {
		// Both trails as the servers left them: the audited one holds an
		// entry for every read, the other none of them.
		b.Logf("audit entries: audited server %d, unaudited %d, reads each %d", on.entries(b), off.entries(b), int(reads)+perPhase)
	}
}

// writeReadFixture writes 100 Patients and 2,000 Observations as one
// NDJSON file and returns the Observations' ids.
func writeReadFixture(b *testing.B, path string) []string {
	var buf bytes.Buffer
	for i := range 100 {
		fmt.Fprintf(&buf, `{"resourceType":"Patient","id":"p%d","name":[{"family":"Reader%d","given":["Bench"]}],"gender":"female","birthDate":"1970-01-01"}`+"\n", i, i)
	}
	ids := make([]string, 2000)
	for i := range ids {
		ids[i] = fmt.Sprintf("o%d", i)
		fmt.Fprintf(&buf, `{"resourceType":"Observation","id":"o%d","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}],"text":"Glucose"},"subject":{"reference":"Patient/p%d"},"effectiveDateTime":"2026-01-02T10:00:00Z","valueQuantity":{"value":%d,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}}`+"\n", i, i%100, 70+i%60)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	return ids
}

// readServer is a custodian serve process under measurement.
type readServer struct {
	base  string
	token string
	pid   int
	stop  func()
	bin   string
	data  string
}

// entries stops the server and counts the entries of its audit trail
// (custodian audit verify, which also checks the chain).
func (s *readServer) entries(b *testing.B) int {
	s.stop()
	out, err := exec.Command(s.bin, "audit", "verify", "--data", s.data).Output()
	if err != nil {
		b.Fatalf("audit verify: %v\n%s", err, out)
	}
	var n int
	if _, err := fmt.Sscanf(string(out), "audit trail intact: %d entries", &n); err != nil {
		b.Fatalf("audit verify said %q", out)
	}
	return n
}

// startReadServer builds custodian (with the benchreadauditoff tag when
// off), imports ndjson into a store of its own, registers a read-only API
// client, serves, and returns the server with an access token.
func startReadServer(b *testing.B, dir, name, ndjson string, off bool) *readServer {
	bin := filepath.Join(dir, "custodian-"+name)
	args := []string{"build", "-o", bin}
	if off {
		args = append(args, "-tags", "benchreadauditoff")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		b.Fatalf("build %s: %v\n%s", name, err, out)
	}
	data := filepath.Join(dir, "data-"+name)
	run := func(args ...string) []byte {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			b.Fatalf("%s %v: %v", name, args, err)
		}
		return out
	}
	run("import", "--quiet", "--data", data, ndjson)
	var cl struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal(run("client", "add", "bench-reader", "--scopes", "system/*.read", "--json", "--data", data), &cl); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--data", data, "--addr", addr)
	cmd.Env = append(os.Environ(), "CUSTODIAN_ADMIN_PASSWORD=bench-Only-Passw0rd-"+name)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	var once sync.Once
	stop := func() { once.Do(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }) }
	b.Cleanup(stop)
	s := &readServer{base: "http://" + addr, pid: cmd.Process.Pid, stop: stop, bin: bin, data: data}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {cl.ID}, "client_secret": {cl.Secret}}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.PostForm(s.base+"/oauth/token", form)
		if err == nil {
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			json.NewDecoder(resp.Body).Decode(&tok)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && tok.AccessToken != "" {
				s.token = tok.AccessToken
				return s
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s: the server did not issue a token: %v", name, err)
		}
	}
}

// cpu is the server process's CPU time so far, user and system
// (/proc/PID/stat, in clock ticks of 10 ms).
func (s *readServer) cpu(b *testing.B) time.Duration {
	f, err := os.Open(fmt.Sprintf("/proc/%d/stat", s.pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && err != io.EOF {
		b.Fatal(err)
	}
	// Fields after the command name (which is in parentheses): utime and
	// stime are the 12th and 13th.
	fields := strings.Fields(line[strings.LastIndexByte(line, ')')+2:])
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
