package deid

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/roi"
	"github.com/custodian-him/custodian/store"
)

// Source is what an export reads through: package store's Store.
type Source interface {
	ParseQueryString(typ, criteria string) (*store.Query, error)
	ExportPage(ctx context.Context, q *store.Query, f store.ExportFilter) ([]*store.Resource, int64, error)
	ExportCheck(ctx context.Context, typ string) error
	RecordExport(ctx context.Context, x store.ExportRecord) error
	Read(ctx context.Context, typ, id string) (*store.Resource, error)
}

// Method is a de-identification method.
type Method string

// Methods.
const (
	SafeHarbor Method = "safe-harbor" // 45 CFR 164.514(b)(2)
	Limited    Method = "limited"     // limited data set, 164.514(e)
)

// Export is one de-identified export.
type Export struct {
	Source Source
	Method Method
	// DateShift shifts dates per patient instead of keeping the year.
	DateShift bool
	Key       *Key
	// ZIP3 is the list of restricted three-digit ZIP areas
	// (DefaultRestrictedZIP3 when nil).
	ZIP3 map[string]bool
	// DUA names the data-use agreement of a limited data set: a Contract
	// or Consent in the store ("Contract/1", or an id tried as both).
	DUA string
	// Out is the output directory (made if missing).
	Out string
	// Types are the types exported, in order.
	Types []string
	// Since keeps only resources changed after it (zero for all).
	Since time.Time
	// ExcludeSensitive leaves out sensitive resources: those with sensitive
	// security labels, and unlabelled ones in Categories (the site's;
	// roi.DefaultCategories when nil) by their codes, type or name.
	ExcludeSensitive bool
	Categories       []roi.Category
	// Workers is how many goroutines de-identify (GOMAXPROCS when 0);
	// PageSize and PageMem bound a page read from the store.
	Workers  int
	PageSize int
	PageMem  int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// nameTypes are the types whose names and cities make the vocabulary the
// scrubber removes from text.
var nameTypes = []string{"Patient", "RelatedPerson", "Person", "Practitioner"}

// Run makes the export as the actor of ctx: it checks the data-use
// agreement of a limited data set, records the export in the audit trail,
// reads the names of the record, then writes TYPE.ndjson for every type
// with resources, report.json and report.txt. A failure after the start is
// recorded in the audit trail too.
func (x *Export) Run(ctx context.Context) (*Report, error) {
	if x.Method != SafeHarbor && x.Method != Limited {
		return nil, custodian.Errorf(custodian.EINVALID, "the method must be safe-harbor or limited, not %q", x.Method)
	}
	if x.Key == nil {
		return nil, custodian.Errorf(custodian.EINVALID, "an export needs a key")
	}
	if x.Out == "" {
		return nil, custodian.Errorf(custodian.EINVALID, "an export needs an output directory")
	}
	// A directory holding an earlier export would mix the two (a type
	// with nothing to write leaves the old file).
	if ents, err := os.ReadDir(x.Out); err == nil && len(ents) > 0 {
		return nil, custodian.Errorf(custodian.ECONFLICT, "the output directory %s is not empty", x.Out)
	}
	now := time.Now
	if x.Now != nil {
		now = x.Now
	}
	started := now().UTC()
	rep := &Report{Method: x.Method, DateShift: x.DateShift, DUA: x.DUA, Started: started, Types: map[string]*TypeReport{}}
	query := fmt.Sprintf("deid export method=%s date-shift=%t exclude-sensitive=%t types=%s", x.Method, x.DateShift, x.ExcludeSensitive, strings.Join(x.Types, ","))
	if !x.Since.IsZero() {
		query += " since=" + x.Since.UTC().Format(time.RFC3339)
	}
	if x.Method == Limited {
		dua, err := x.checkDUA(ctx)
		if err != nil {
			if rerr := x.Source.RecordExport(ctx, store.ExportRecord{Query: query, Failure: err}); rerr != nil {
				return nil, rerr
			}
			return nil, err
		}
		rep.DUA = dua
		query += " dua=" + dua
	}
	// The export reads every patient's record: it is recorded before
	// anything is read, and again with its outcome.
	if err := x.Source.RecordExport(ctx, store.ExportRecord{Query: query + " (started)"}); err != nil {
		return nil, err
	}
	err := x.run(ctx, rep, started)
	rec := store.ExportRecord{Query: query, Failure: err}
	if x.Method == Limited {
		rec.Resources = []string{rep.DUA}
	}
	if rerr := x.Source.RecordExport(context.WithoutCancel(ctx), rec); rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// checkDUA finds the data-use agreement a limited data set needs
// (164.514(e)(4)) and returns its reference.
func (x *Export) checkDUA(ctx context.Context) (string, error) {
	if x.DUA == "" {
		return "", custodian.Errorf(custodian.EINVALID, "a limited data set needs a data-use agreement: --dua naming a Contract or Consent")
	}
	typ, id, ok := strings.Cut(x.DUA, "/")
	cands := []string{"Contract", "Consent"}
	if ok {
		if typ != "Contract" && typ != "Consent" {
			return "", custodian.Errorf(custodian.EINVALID, "the data-use agreement must be a Contract or a Consent, not %s", typ)
		}
		cands = []string{typ}
	} else {
		id = x.DUA
	}
	for _, t := range cands {
		if _, err := x.Source.Read(ctx, t, id); err == nil {
			return t + "/" + id, nil
		} else if code := custodian.ErrorCode(err); code != custodian.ENOTFOUND && code != custodian.EGONE {
			return "", err
		}
	}
	return "", custodian.Errorf(custodian.EPRECONDITION, "there is no data-use agreement %q (a Contract or Consent) in the store: a limited data set cannot be made without one", x.DUA)
}

func (x *Export) run(ctx context.Context, rep *Report, started time.Time) error {
	if err := os.MkdirAll(x.Out, 0o700); err != nil {
		return custodian.Wrap(custodian.EINTERNAL, err, "the output directory cannot be made")
	}
	zip3 := x.ZIP3
	if zip3 == nil {
		zip3 = DefaultRestrictedZIP3()
	}
	rules := &Rules{Limited: x.Method == Limited, Shift: x.DateShift, Key: x.Key, ZIP3: zip3, Names: Names{}, Now: started,
		ExcludeSensitive: x.ExcludeSensitive, Categories: x.Categories}
	cpu0 := cpuTime()
	for _, typ := range nameTypes {
		if err := x.names(ctx, typ, rules.Names); err != nil {
			return err
		}
	}
	rep.Names = len(rules.Names)
	for _, typ := range x.Types {
		tr, err := x.exportType(ctx, rules, typ)
		if err != nil {
			return err
		}
		if tr.Read > 0 || tr.Skipped != "" {
			rep.Types[typ] = tr
			rep.Read += tr.Read
			rep.Written += tr.Written
			rep.Dropped += tr.Dropped
		}
	}
	rep.Seconds = time.Since(started).Seconds()
	rep.CPUSeconds = (cpuTime() - cpu0).Seconds()
	return rep.write(x.Out)
}

func (x *Export) query(typ string) (*store.Query, error) {
	criteria := ""
	if !x.Since.IsZero() {
		criteria = "_lastUpdated=gt" + x.Since.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return x.Source.ParseQueryString(typ, criteria)
}

func (x *Export) filter() store.ExportFilter {
	return store.ExportFilter{Limit: orDefault(x.PageSize, 1000), MaxBytes: orDefault(x.PageMem, 8<<20)}
}

func orDefault(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

// names adds the names and cities of every resource of typ to names
// (all of them, whatever --since says: old names appear in new notes).
func (x *Export) names(ctx context.Context, typ string, names Names) error {
	if x.Source.ExportCheck(ctx, typ) != nil {
		return nil // not readable: its resources are not exported either
	}
	q, err := x.Source.ParseQueryString(typ, "")
	if err != nil {
		return err
	}
	f := x.filter()
	for {
		rs, next, err := x.Source.ExportPage(ctx, q, f)
		if err != nil {
			return err
		}
		for _, r := range rs {
			var p person
			if err := json.Unmarshal(r.Body, &p); err != nil {
				return custodian.Wrap(custodian.EINTERNAL, err, "a stored resource cannot be read")
			}
			p.addTo(names)
		}
		if next == 0 {
			return nil
		}
		f.After = next
	}
}

// person is what the vocabulary takes from a person resource.
type person struct {
	Name    []humanName `json:"name"`
	Address []struct {
		City string `json:"city"`
	} `json:"address"`
	Contact []struct {
		Name humanName `json:"name"`
	} `json:"contact"`
}

type humanName struct {
	Text   string   `json:"text"`
	Family string   `json:"family"`
	Given  []string `json:"given"`
}

func (h humanName) addTo(names Names) {
	names.Add(h.Text)
	names.Add(h.Family)
	for _, g := range h.Given {
		names.Add(g)
	}
}

func (p *person) addTo(names Names) {
	for _, n := range p.Name {
		n.addTo(names)
	}
	for _, c := range p.Contact {
		c.Name.addTo(names)
	}
	for _, a := range p.Address {
		names.Add(a.City)
	}
}

// exportType de-identifies the resources of typ: one goroutine reads
// pages, Workers de-identify them, and each page is written as it is done
// (at most Workers+2 pages are held).
func (x *Export) exportType(ctx context.Context, rules *Rules, typ string) (*TypeReport, error) {
	tr := &TypeReport{Rules: map[string]int{}}
	if err := x.Source.ExportCheck(ctx, typ); err != nil {
		if custodian.ErrorCode(err) == custodian.EFORBIDDEN {
			tr.Skipped = "you may not read these resources"
			return tr, nil
		}
		return nil, err
	}
	q, err := x.query(typ)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan []*store.Resource, 1)
	var readErr error
	go func() {
		defer close(pages)
		f := x.filter()
		for {
			rs, next, err := x.Source.ExportPage(ctx, q, f)
			if err != nil {
				readErr = err
				return
			}
			select {
			case pages <- rs:
			case <-ctx.Done():
				return
			}
			if next == 0 {
				return
			}
			f.After = next
		}
	}()
	out := &ndjson{name: filepath.Join(x.Out, typ+".ndjson")}
	defer out.abort()
	var mu sync.Mutex // out and tr
	var firstErr error
	var wg sync.WaitGroup
	workers := orDefault(x.Workers, runtime.GOMAXPROCS(0))
	for range workers {
		wg.Go(func() {
			counts := map[string]int{}
			var lines [][]byte
			for rs := range pages {
				lines = lines[:0]
				dropped := 0
				for _, r := range rs {
					b, err := rules.Resource(r.Type, r.ID, r.Compartment, r.Body, counts)
					if err != nil {
						mu.Lock()
						firstErr = cmpErr(firstErr, fmt.Errorf("deid: %s: %w", r.Type, err))
						mu.Unlock()
						cancel()
						return
					}
					if b == nil {
						dropped++
						continue
					}
					lines = append(lines, b)
				}
				mu.Lock()
				err := out.write(lines)
				tr.Read += len(rs)
				tr.Written += len(lines)
				tr.Dropped += dropped
				mu.Unlock()
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
					cancel()
					return
				}
			}
			mu.Lock()
			for k, n := range counts {
				tr.Rules[k] += n
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = readErr
	}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if err := out.finish(); err != nil {
		return nil, err
	}
	if tr.Written > 0 {
		tr.File = filepath.Base(out.name)
	}
	return tr, nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// ndjson writes one type's file, made on the first line.
type ndjson struct {
	name string
	f    *os.File
	w    *bufio.Writer
}

func (o *ndjson) write(lines [][]byte) error {
	if len(lines) == 0 {
		return nil
	}
	if o.f == nil {
		f, err := os.OpenFile(o.name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return custodian.Wrap(custodian.EINTERNAL, err, "an output file cannot be written")
		}
		o.f, o.w = f, bufio.NewWriterSize(f, 1<<20)
	}
	for _, l := range lines {
		o.w.Write(l)
		if err := o.w.WriteByte('\n'); err != nil {
			return custodian.Wrap(custodian.EINTERNAL, err, "an output file cannot be written")
		}
	}
	return nil
}

func (o *ndjson) finish() error {
	if o.f == nil {
		return nil
	}
	err := o.w.Flush()
	if err == nil {
		err = o.f.Sync()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	o.f = nil
	if err != nil {
		return custodian.Wrap(custodian.EINTERNAL, err, "an output file cannot be written")
	}
	return nil
}

func (o *ndjson) abort() {
	if o.f != nil {
		o.f.Close()
		o.f = nil
	}
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
