package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult is what one load step measured.
type loadResult struct {
	ops       int64 // requests (or transactions) that succeeded
	resources int64 // resources they wrote or read
	errors    int64
	firstErr  string
	elapsed   time.Duration
	latencies []time.Duration // of the successful operations
	// cpu is the CPU time (user and system) of the whole process during the
	// step: the server's, and the in-process clients' too.
	cpu time.Duration
}

// cpuPerResource is the process's CPU time per resource in milliseconds.
func (r *loadResult) cpuPerResource() float64 {
	if r.resources == 0 {
		return 0
	}
	return float64(r.cpu) / float64(time.Millisecond) / float64(r.resources)
}

func (r *loadResult) opsPerSec() float64 { return float64(r.ops) / r.elapsed.Seconds() }
func (r *loadResult) resPerSec() float64 { return float64(r.resources) / r.elapsed.Seconds() }

// percentile returns the p-th percentile (0 < p ≤ 100) of the latencies,
// nearest-rank.
func (r *loadResult) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	slices.Sort(r.latencies)
	rank := int(p/100*float64(len(r.latencies))+0.999999) - 1
	return r.latencies[max(0, min(rank, len(r.latencies)-1))]
}

// op is one operation of a load step: it returns how many resources it
// touched, or an error.
type op func(ctx context.Context, worker int, seq int64) (int, error)

// runLoad runs clients workers doing op until d has passed (or limit
// operations have started, when limit > 0), and measures them.
func runLoad(ctx context.Context, clients int, d time.Duration, limit int64, fn op) *loadResult {
	res := &loadResult{}
	var seq atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	cpu := processCPU()
	deadline := start.Add(d)
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var n, resources, errs int64
			var firstErr string
			for ctx.Err() == nil && (d == 0 || time.Now().Before(deadline)) {
				s := seq.Add(1) - 1
				if limit > 0 && s >= limit {
					break
				}
				t := time.Now()
				k, err := fn(ctx, w, s)
				if err != nil {
					errs++
					if firstErr == "" {
						firstErr = err.Error()
					}
					continue
				}
				lat = append(lat, time.Since(t))
				n++
				resources += int64(k)
			}
			mu.Lock()
			res.ops += n
			res.resources += resources
			res.errors += errs
			if res.firstErr == "" {
				res.firstErr = firstErr
			}
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.cpu = processCPU() - cpu
	return res
}

// benchClient is an HTTP client for one base URL that keeps connections
// alive for every worker.
type benchClient struct {
	base  string
	token string // bearer access token
	// prefer, if set, is sent as Prefer: return=prefer.
	prefer string
	http   *http.Client
}

func newBenchClient(base string, conns int) *benchClient {
	tr := &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &benchClient{base: base, http: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
}

func (c *benchClient) close() { c.http.CloseIdleConnections() }

// do sends a request and returns the response body if the status is want.
func (c *benchClient) do(ctx context.Context, method, path string, body []byte, want int) ([]byte, error) {
	return c.doInto(ctx, nil, method, path, body, want)
}

// doInto is do reading the response into buf (reset first; nil: a new
// buffer), so that a worker reuses one buffer for its responses: the
// clients run in the measured process, and their allocations count.
func (c *benchClient) doInto(ctx context.Context, buf *bytes.Buffer, method, path string, body []byte, want int) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	req.Header.Set("Accept", "application/fhir+json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.prefer != "" {
		req.Header.Set("Prefer", "return="+c.prefer)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if buf == nil {
		buf = &bytes.Buffer{}
	}
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if resp.StatusCode != want {
		if len(b) > 300 {
			b = b[:300]
		}
		return nil, fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, b)
	}
	return b, nil
}
