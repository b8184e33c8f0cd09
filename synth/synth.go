package synth

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Config says what to generate.
type Config struct {
	// Patients is the number of distinct people. Duplicate registrations
	// add Patient resources beyond this number.
	Patients int
	// Seed makes the output: the same Config gives byte-identical output.
	Seed uint64
	// Start and End bound every encounter (the data set's "as of" date is
	// End). Zero values mean 2022-10-01 and 2025-09-30 (FY2023–FY2025,
	// the years the embedded ICD-10 codes are valid for).
	Start, End time.Time
	// DuplicateRate is the share of people registered twice (default 0.02).
	DuplicateRate float64
	// TrapRate is the share of people who are a twin, a junior/senior or a
	// namesake of another person (default 0.012, split between the kinds).
	TrapRate float64
	// HouseholdRate is the share of people who live with another patient
	// of the hospital — a spouse, a parent or a child: same address and
	// home phone (default 0.03).
	HouseholdRate float64
	// OverlayRate is the share of people one of whose visits is filed
	// under another person's record (an overlay; default 0.002).
	OverlayRate float64
	// PatientsOnly writes only the Patient resources (without their
	// references to the shared Organization and Practitioner) and the
	// identity facts (duplicates, look-alikes), for master patient index
	// tests at scale. No clinical data is made, so nobody dies and there
	// are no overlays.
	PatientsOnly bool
	// Workers is how many goroutines generate (default GOMAXPROCS). The
	// output does not depend on it.
	Workers int
}

var (
	defaultStart = time.Date(2022, 10, 1, 0, 0, 0, 0, time.UTC)
	defaultEnd   = time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC)
)

func (c *Config) setDefaults() error {
	if c.Patients < 0 {
		return errors.New("synth: Patients must not be negative")
	}
	if c.Start.IsZero() {
		c.Start = defaultStart
	}
	if c.End.IsZero() {
		c.End = defaultEnd
	}
	c.Start = time.Date(c.Start.Year(), c.Start.Month(), c.Start.Day(), 0, 0, 0, 0, zone)
	c.End = time.Date(c.End.Year(), c.End.Month(), c.End.Day(), 0, 0, 0, 0, zone)
	if c.End.Sub(c.Start) < 120*24*time.Hour {
		return errors.New("synth: End must be at least 120 days after Start")
	}
	if c.DuplicateRate == 0 {
		c.DuplicateRate = 0.02
	}
	if c.TrapRate == 0 {
		c.TrapRate = 0.012
	}
	if c.HouseholdRate == 0 {
		c.HouseholdRate = 0.03
	}
	if c.OverlayRate == 0 {
		c.OverlayRate = 0.002
	}
	if c.PatientsOnly {
		c.OverlayRate = -1 // overlays need encounters
	}
	if c.DuplicateRate < 0 || c.DuplicateRate > 0.5 || c.TrapRate < 0 || c.TrapRate > 0.5 || c.HouseholdRate < 0 || c.HouseholdRate > 0.5 || c.OverlayRate > 0.5 {
		return errors.New("synth: rates must be between 0 and 0.5")
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Patients >= 50_000_000 {
		return errors.New("synth: at most 49,999,999 patients")
	}
	return nil
}

// zone is the hospital's local time (fixed offset, so output never
// depends on the machine's time zone database).
var zone = time.FixedZone("-0500", -5*3600)

// Writer receives what Generate makes. Generate calls it from one
// goroutine, in a deterministic order: the shared resources
// (Organization, Location, Practitioner, PractitionerRole) first, then
// each person's resources and facts.
type Writer interface {
	// Resource receives one resource as compact JSON (no trailing newline).
	// body is only valid during the call.
	Resource(resourceType, id string, body []byte) error
	// Fact receives one ground-truth fact.
	Fact(f *Fact) error
}

// Summary counts what Generate wrote.
type Summary struct {
	Patients  int            // distinct people
	Resources map[string]int // per resource type
	Facts     map[string]int // per fact kind
	Total     int            // resources
	Bytes     int64          // JSON bytes of the resources
	Elapsed   time.Duration
}

// Rate is resources per second.
func (s *Summary) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Total) / s.Elapsed.Seconds()
}

// unitsPerJob is how many people one worker job generates.
const unitsPerJob = 16

type job struct {
	first, last int
	done        chan []*batch
}

// Generate makes the synthetic hospital described by cfg and hands every
// resource and fact to w. Memory stays flat whatever cfg.Patients is:
// people are generated in small jobs by cfg.Workers goroutines and
// written in order as they finish.
func Generate(ctx context.Context, cfg Config, w Writer) (*Summary, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	began := time.Now()
	sum := &Summary{Patients: cfg.Patients, Resources: map[string]int{}, Facts: map[string]int{}}
	sh := newShared(&cfg)
	if !cfg.PatientsOnly {
		if err := sh.emit(w, sum); err != nil {
			return sum, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *job, cfg.Workers*2)
	order := make(chan *job, cfg.Workers*4)
	go func() {
		defer close(jobs)
		defer close(order)
		for first := 0; first < cfg.Patients; first += unitsPerJob {
			j := &job{first: first, last: min(first+unitsPerJob, cfg.Patients), done: make(chan []*batch, 1)}
			select {
			case order <- j:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				out := make([]*batch, 0, j.last-j.first)
				for u := j.first; u < j.last; u++ {
					out = append(out, generateUnit(&cfg, sh, u))
				}
				j.done <- out
			}
		}()
	}
	defer wg.Wait()
	var deferred deferHeap
	for j := range order {
		var bs []*batch
		select {
		case bs = <-j.done:
		case <-ctx.Done():
			return sum, ctx.Err()
		}
		for _, b := range bs {
			if err := b.write(w, sum); err != nil {
				cancel()
				return sum, err
			}
			if b.deferred != nil {
				heap.Push(&deferred, b.deferred)
			}
			for len(deferred) > 0 && deferred[0].after <= b.unit {
				if err := heap.Pop(&deferred).(*batch).write(w, sum); err != nil {
					cancel()
					return sum, err
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	for len(deferred) > 0 {
		if err := heap.Pop(&deferred).(*batch).write(w, sum); err != nil {
			return sum, err
		}
	}
	sum.Elapsed = time.Since(began)
	return sum, nil
}

// batch is the output of one person (or of one deferred duplicate
// registration): encoded resources in one buffer, and facts.
type batch struct {
	unit     int
	after    int // a deferred batch is written after unit `after`
	buf      []byte
	recs     []rec
	facts    []*Fact
	deferred *batch
}

type rec struct {
	typ, id    string
	start, end int
}

func (b *batch) write(w Writer, sum *Summary) error {
	for _, r := range b.recs {
		if err := w.Resource(r.typ, r.id, b.buf[r.start:r.end]); err != nil {
			return fmt.Errorf("synth: writing %s/%s: %w", r.typ, r.id, err)
		}
		sum.Resources[r.typ]++
		sum.Total++
		sum.Bytes += int64(r.end - r.start)
	}
	for _, f := range b.facts {
		if err := w.Fact(f); err != nil {
			return fmt.Errorf("synth: writing a fact: %w", err)
		}
		sum.Facts[f.Kind]++
	}
	return nil
}

// deferHeap orders deferred batches by when they are due, then by unit.
type deferHeap []*batch

func (h deferHeap) Len() int { return len(h) }
func (h deferHeap) Less(i, j int) bool {
	if h[i].after != h[j].after {
		return h[i].after < h[j].after
	}
	return h[i].unit < h[j].unit
}
func (h deferHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *deferHeap) Push(x any)   { *h = append(*h, x.(*batch)) }
func (h *deferHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Collector is a Writer that keeps everything in memory, for tests and
// small demos.
type Collector struct {
	Types  []string // resource type of each resource, in order
	IDs    []string
	Bodies [][]byte
	Facts  []Fact
}

// Resource implements Writer.
func (c *Collector) Resource(typ, id string, body []byte) error {
	c.Types = append(c.Types, typ)
	c.IDs = append(c.IDs, id)
	c.Bodies = append(c.Bodies, slices.Clone(body))
	return nil
}

// Fact implements Writer.
func (c *Collector) Fact(f *Fact) error {
	c.Facts = append(c.Facts, *f)
	return nil
}

// Discard is a Writer that drops everything (for benchmarks).
type Discard struct{}

// Resource implements Writer.
func (Discard) Resource(string, string, []byte) error { return nil }

// Fact implements Writer.
func (Discard) Fact(*Fact) error { return nil }
