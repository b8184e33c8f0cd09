package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/mpi"
	"github.com/custodian-him/custodian/synth"
)

// bench deduplicates generated registrations and scores the result
// against the generator's ground truth.
func (c *MPICommand) bench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("mpi bench", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() {
		fmt.Fprint(c.Stderr, mpiUsage)
		fs.PrintDefaults()
	}
	in := fs.String("in", "", "generated Patient NDJSON (custodian generate)")
	truthPath := fs.String("truth", "", "the generator's ground-truth.ndjson")
	show := fs.Int("show", 0, "print this many wrong automatic links and missed duplicates, with both records")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	queries := fs.Int("match-queries", 2000, "after the dedupe, index every record (live index) and time this many single-record matches")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *truthPath == "" {
		fs.Usage()
		return custodian.Errorf(custodian.EINVALID, "mpi bench: --in and --truth are required")
	}
	dups := map[[2]string]bool{}
	traps := map[[2]string]string{}
	tf, err := os.Open(*truthPath)
	if err != nil {
		return err
	}
	err = synth.ReadFacts(bufio.NewReader(tf), func(f *synth.Fact) error {
		k := benchKey(strings.TrimPrefix(f.Patient, "Patient/"), strings.TrimPrefix(f.Other, "Patient/"))
		switch f.Kind {
		case synth.FactDuplicate:
			dups[k] = true
		case synth.FactNotDuplicate:
			traps[k] = f.Detail
		}
		return nil
	})
	tf.Close()
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			pf.Close()
		}()
	}
	peak := watchMemory()
	start := time.Now()
	recs, err := readRecords(ctx, *in, mpi.CSVOptions{})
	if err != nil {
		return err
	}
	read := time.Since(start)
	// Ground truth about records not in the input (a partial file) is
	// left out of the score.
	present := make(map[string]bool, len(recs))
	for i := range recs {
		present[recs[i].ID] = true
	}
	absent := 0
	for k := range dups {
		if !present[k[0]] || !present[k[1]] {
			delete(dups, k)
			absent++
		}
	}
	res, err := mpi.Dedupe(ctx, recs, mpi.Options{})
	if err != nil {
		return err
	}
	total := time.Since(start)
	peakBytes := peak()
	var tpAll, tpAuto, fpAll, fpAuto int
	trapClass := map[string]map[mpi.Class]int{}
	byID := map[string]int{}
	if *show > 0 {
		for i := range recs {
			byID[recs[i].ID] = i
		}
	}
	shown, shownReview := 0, 0
	found := map[[2]string]bool{}
	for _, p := range res.Pairs {
		k := benchKey(p.A, p.B)
		if p.Class == mpi.NonMatch {
			continue // plainly different people: neither linked nor queued
		}
		found[k] = true
		if dups[k] && p.Class != mpi.AutoLink && shownReview < *show {
			shownReview++
			fmt.Fprintf(c.Stdout, "duplicate in review p=%.4f w=%.1f\n  %+v\n  %+v\n", p.Probability, p.Weight, recs[byID[p.A]], recs[byID[p.B]])
		}
		if !dups[k] && p.Class == mpi.AutoLink && shown < *show {
			shown++
			fmt.Fprintf(c.Stdout, "wrong link p=%.4f w=%.1f (%s)\n  %+v\n  %+v\n", p.Probability, p.Weight, traps[k], recs[byID[p.A]], recs[byID[p.B]])
		}
		if dups[k] {
			tpAll++
			if p.Class == mpi.AutoLink {
				tpAuto++
			}
		} else {
			fpAll++
			if p.Class == mpi.AutoLink {
				fpAuto++
			}
		}
		kind, ok := traps[k]
		if !ok && !dups[k] {
			kind, ok = "stranger", true // different people the generator did not make alike
		}
		if ok {
			if trapClass[kind] == nil {
				trapClass[kind] = map[mpi.Class]int{}
			}
			trapClass[kind][p.Class]++
		}
	}
	shown = 0
	for k := range dups {
		if !found[k] && shown < *show {
			shown++
			fmt.Fprintf(c.Stdout, "missed\n  %+v\n  %+v\n", recs[byID[k[0]]], recs[byID[k[1]]])
		}
	}
	prf := func(tp, fp int) (p, r, f float64) {
		p = float64(tp) / float64(max(tp+fp, 1))
		r = float64(tp) / float64(max(len(dups), 1))
		if p+r > 0 {
			f = 2 * p * r / (p + r)
		}
		return p, r, f
	}
	fmt.Fprintf(c.Stdout, "records            %d\n", res.Records)
	fmt.Fprintf(c.Stdout, "duplicate pairs    %d (ground truth; %d more with a record not in the input), look-alike pairs %d\n", len(dups), absent, len(traps))
	blocked := 0
	res.EachCandidate(func(a, b int) {
		if dups[benchKey(recs[a].ID, recs[b].ID)] {
			blocked++
		}
	})
	fmt.Fprintf(c.Stdout, "candidate pairs    %d (%d blocks over %d records skipped); blocking recall %.4f\n", res.Candidates, res.SkippedBlocks, mpi.DefaultMaxBlock,
		float64(blocked)/float64(max(len(dups), 1)))
	fmt.Fprintf(c.Stdout, "read               %s\n", read.Round(time.Millisecond))
	fmt.Fprintf(c.Stdout, "dedupe             %s (read + dedupe %s), GOMAXPROCS %d\n", (total - read).Round(time.Millisecond), total.Round(time.Millisecond), runtime.GOMAXPROCS(0))
	fmt.Fprintf(c.Stdout, "CPU time           %s (user + system, whole process)\n", cpuTime())
	fmt.Fprintf(c.Stdout, "peak memory        %.2f GiB (Go runtime total); max RSS %s\n", float64(peakBytes)/(1<<30), maxRSS())
	p, r, f := prf(tpAuto, fpAuto)
	fmt.Fprintf(c.Stdout, "automatic links    precision %.4f recall %.4f F1 %.4f (%d links of different people)\n", p, r, f, fpAuto)
	p, r, f = prf(tpAll, fpAll)
	fmt.Fprintf(c.Stdout, "link or review     precision %.4f recall %.4f F1 %.4f\n", p, r, f)
	// The review queue: its pairs against the duplicates left for a
	// person to find (those not linked automatically).
	tpRev, fpRev := tpAll-tpAuto, fpAll-fpAuto
	left := len(dups) - tpAuto
	rp := float64(tpRev) / float64(max(tpRev+fpRev, 1))
	rr := float64(tpRev) / float64(max(left, 1))
	rf := 0.0
	if rp+rr > 0 {
		rf = 2 * rp * rr / (rp + rr)
	}
	fmt.Fprintf(c.Stdout, "review queue       %d pairs (%d duplicates of the %d not linked automatically): precision %.4f recall %.4f F1 %.4f\n",
		tpRev+fpRev, tpRev, left, rp, rr, rf)
	kinds := []string{"stranger"}
	for kind := range trapClass {
		if kind != "stranger" {
			kinds = append(kinds, kind)
		}
	}
	slices.Sort(kinds[1:])
	for _, kind := range kinds {
		cl := trapClass[kind]
		fmt.Fprintf(c.Stdout, "look-alike %-14s link %d, review %d\n", kind, cl[mpi.AutoLink], cl[mpi.Review])
	}
	fmt.Fprintf(c.Stdout, "model              lambda %.3g, EM rounds %d\n", res.Model.Lambda, res.Model.Iterations)
	if *queries > 0 {
		return c.benchIndex(ctx, recs, res.Model, dups, *queries)
	}
	return nil
}

// benchIndex loads recs into a live index and times single-record
// matches: each query is the second registration of a known duplicate
// (taken out of the index first, as a new registration would be), else a
// record of the index itself.
func (c *MPICommand) benchIndex(ctx context.Context, recs []mpi.Record, model *mpi.Model, dups map[[2]string]bool, n int) error {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	ix := mpi.NewIndex(model)
	if _, err := ix.AddAll(ctx, recs, 0); err != nil {
		return err
	}
	build := time.Since(start)
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	byID := make(map[string]int, len(recs))
	for i := range recs {
		byID[recs[i].ID] = i
	}
	var qs []mpi.Record
	for k := range dups {
		if len(qs) == n {
			break
		}
		qs = append(qs, recs[byID[k[1]]])
	}
	for i := 0; len(qs) < n && i < len(recs); i += max(1, len(recs)/n) {
		qs = append(qs, recs[i])
	}
	lat := make([]time.Duration, 0, len(qs))
	found := 0
	for _, q := range qs {
		ix.Remove(q.ID)
		t0 := time.Now()
		m, err := ix.MatchRecord(ctx, q, 0, 10)
		lat = append(lat, time.Since(t0))
		if err != nil {
			return err
		}
		if len(m) > 0 {
			found++
		}
		if err := ix.Put(q); err != nil {
			return err
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Fprintf(c.Stdout, "live index         %d records indexed in %s, heap +%.2f GiB\n", ix.Len(), build.Round(time.Millisecond),
		float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<30))
	fmt.Fprintf(c.Stdout, "match one record   %d queries: p50 %s, p95 %s, p99 %s, max %s (%d with a match)\n", len(lat),
		pct(0.50).Round(time.Microsecond), pct(0.95).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond), found)
	return nil
}

func benchKey(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// watchMemory samples the memory the Go runtime holds every 10 ms until
// the returned function is called, which reports the peak.
func watchMemory() func() uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	go func() {
		defer close(done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return peak.Load()
	}
}

// maxRSS is the process's peak resident set size where the system says
// it (Linux), else "unknown".
func maxRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// cpuTime is the CPU time the process has used, where the system says it
// (Linux /proc), else "unknown". On a shared machine it shows what the
// run cost when the wall clock includes waiting for a core.
func cpuTime() string {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return "unknown"
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return "unknown"
	}
	// Fields after the command: state is f[0]; utime and stime are the
	// 14th and 15th fields of the line, f[11] and f[12] here, in clock
	// ticks (100 a second on Linux).
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return "unknown"
	}
	return (time.Duration(ut+st) * 10 * time.Millisecond).String()
}

// matchBench times Patient/$match over HTTP against a running server:
// each query is the second registration of a known duplicate (with its
// id, so the server leaves that record itself out), and a query is
// answered right when the other registration comes first.
func (c *MPICommand) matchBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("mpi match-bench", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() {
		fmt.Fprint(c.Stderr, mpiUsage)
		fs.PrintDefaults()
	}
	base := fs.String("url", "", "the server's address (http://HOST:PORT)")
	id := fs.String("client-id", "", "an API client allowed to read Patients (custodian client add)")
	secret := fs.String("client-secret", "", "its secret")
	in := fs.String("in", "", "the Patient NDJSON the server holds (custodian generate)")
	truthPath := fs.String("truth", "", "the generator's ground-truth.ndjson")
	n := fs.Int("queries", 2000, "how many $match requests")
	conc := fs.Int("concurrency", 1, "requests in flight at once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *base == "" || *id == "" || *in == "" || *truthPath == "" || *n < 1 || *conc < 1 {
		fs.Usage()
		return custodian.Errorf(custodian.EINVALID, "mpi match-bench: --url, --client-id, --client-secret, --in and --truth are required")
	}
	// The queries: second registrations of duplicates, and their firsts.
	other := map[string]string{}
	tf, err := os.Open(*truthPath)
	if err != nil {
		return err
	}
	err = synth.ReadFacts(bufio.NewReader(tf), func(f *synth.Fact) error {
		if f.Kind == synth.FactDuplicate && len(other) < *n {
			other[strings.TrimPrefix(f.Other, "Patient/")] = strings.TrimPrefix(f.Patient, "Patient/")
		}
		return nil
	})
	tf.Close()
	if err != nil {
		return err
	}
	queries, err := patientLines(*in, other)
	if err != nil {
		return err
	}
	token, err := clientToken(ctx, *base, *id, *secret)
	if err != nil {
		return err
	}
	type result struct {
		d     time.Duration
		right bool
		err   error
	}
	results := make([]result, len(queries))
	next := make(chan int)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: time.Minute}
	start := time.Now()
	for range *conc {
		wg.Go(func() {
			for i := range next {
				q := queries[i]
				t0 := time.Now()
				top, err := postMatch(ctx, client, *base, token, q.body)
				results[i] = result{time.Since(t0), top == other[q.id], err}
			}
		})
	}
	for i := range queries {
		next <- i
	}
	close(next)
	wg.Wait()
	wall := time.Since(start)
	lat := make([]time.Duration, 0, len(results))
	right := 0
	for _, r := range results {
		if r.err != nil {
			return r.err
		}
		lat = append(lat, r.d)
		if r.right {
			right++
		}
	}
	if len(lat) == 0 {
		return custodian.Errorf(custodian.EINVALID, "mpi match-bench: none of the duplicates' records is in %s", *in)
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(10 * time.Microsecond)
	}
	fmt.Fprintf(c.Stdout, "Patient/$match     %d requests, %d at a time, in %s: p50 %s, p95 %s, p99 %s, max %s\n",
		len(lat), *conc, wall.Round(time.Millisecond), pct(0.5), pct(0.95), pct(0.99), lat[len(lat)-1].Round(10*time.Microsecond))
	fmt.Fprintf(c.Stdout, "right first match  %d of %d (%.4f)\n", right, len(lat), float64(right)/float64(len(lat)))
	return nil
}

type patientLine struct {
	id   string
	body []byte
}

// patientLines returns the lines of the NDJSON file at path whose id is a
// key of want.
func patientLines(path string, want map[string]string) ([]patientLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(bufio.NewReaderSize(f, 1<<20))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var out []patientLine
	for sc.Scan() {
		var head struct{ ID string }
		if err := json.Unmarshal(sc.Bytes(), &head); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if _, ok := want[head.ID]; ok {
			out = append(out, patientLine{head.ID, bytes.Clone(sc.Bytes())})
		}
	}
	return out, sc.Err()
}

// clientToken gets an access token with the client credentials grant.
func clientToken(ctx context.Context, base, id, secret string) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimSuffix(base, "/")+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(id, secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		return "", fmt.Errorf("mpi match-bench: no token from %s (HTTP %d): %v", base, resp.StatusCode, err)
	}
	return tok.AccessToken, nil
}

// postMatch sends one $match and returns the id of the first match ("" if
// none).
func postMatch(ctx context.Context, client *http.Client, base, token string, patient []byte) (string, error) {
	var body bytes.Buffer
	body.WriteString(`{"resourceType":"Parameters","parameter":[{"name":"resource","resource":`)
	body.Write(patient)
	body.WriteString(`},{"name":"count","valueInteger":5}]}`)
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimSuffix(base, "/")+"/fhir/Patient/$match", &body)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("mpi match-bench: $match answered HTTP %d: %.300s", resp.StatusCode, b)
	}
	var bundle struct {
		Entry []struct {
			Resource struct{ ResourceType, ID string }
		}
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		return "", err
	}
	for _, e := range bundle.Entry {
		if e.Resource.ResourceType == "Patient" {
			return e.Resource.ID, nil
		}
	}
	return "", nil
}
