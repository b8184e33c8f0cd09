package chart

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/projection"
	"github.com/custodian-him/custodian/store"
)

// Store is what the reviewer needs of the record store (*store.Store).
type Store interface {
	Search(ctx context.Context, q *store.Query) (*store.SearchPage, error)
	Read(ctx context.Context, typ, id string) (*store.Resource, error)
	PutBatch(ctx context.Context, resources []map[string]any) ([]store.BatchResult, error)
}

// Reviewer keeps chart deficiencies current: it holds the record's index
// and the Tasks it wrote, evaluates encounters as writes arrive (Watcher)
// or over a date range (Review), and writes Task changes through the store
// as the system actor, so each change is a new, audited version.
type Reviewer struct {
	Store Store
	// Now is the clock (tests set it).
	Now func() time.Time
	// Codes, when set, checks codes are valid on the date of service
	// (the code-validity rule); the codeset package provides it.
	Codes CodeValidator
	// Delay is how long Run gathers writes before evaluating them, so a
	// burst of writes to one record makes one evaluation (default 1s).
	Delay  time.Duration
	Logger *slog.Logger
	// Facts, when set, keeps the index between starts (persist.go): Load
	// reads the saved facts and the changes written since, and Run saves
	// what changed every SaveInterval (5 minutes if 0), after SaveAfter
	// changed resources (20,000 if 0) and when it stops. SaveMargin (2
	// minutes if 0) is how long a write may take from being given its
	// change position to being committed and told to the watcher.
	Facts        Facts
	SaveInterval time.Duration
	SaveAfter    int
	SaveMargin   time.Duration

	mu    sync.Mutex
	rules *RuleSet
	ix    *Index
	tasks map[string]*taskRec            // by key
	byEnc map[string]map[string]*taskRec // encounter → key → task
	// taskKeys are the keys of the Tasks by id; tr the facts changed
	// since the last save (nil without Facts); format the facts' format
	// of the index; stats how the last Load went.
	taskKeys map[string]string
	tr       *tracker
	format   string
	stats    LoadStats
	dirty    map[string]bool
	all      bool
	wake     chan struct{}
	loaded   bool
	// loading is set from MarkLoading or the start of Load to its end:
	// the watcher keeps writes in backlog, and done is closed at the end.
	// failed is why the first Load failed; reload asks Run to read the
	// index again (the rules changed what it keeps).
	loading, reload bool
	backlog         []*store.Resource
	done            chan struct{}
	failed          error
	// loadMu lets one Load or Save run at a time; it guards marks (the
	// change positions a save may replay from) and lastSave.
	loadMu   sync.Mutex
	marks    []mark
	lastSave time.Time
}

// NewReviewer returns a reviewer over st with the default rules; Load
// reads the site's rules and the record.
func NewReviewer(st Store) *Reviewer {
	rs := DefaultRules()
	return &Reviewer{Store: st, Now: time.Now, Delay: time.Second, rules: rs, ix: NewIndex(rs),
		tasks: map[string]*taskRec{}, byEnc: map[string]map[string]*taskRec{}, taskKeys: map[string]string{},
		dirty: map[string]bool{}, wake: make(chan struct{}, 1), format: factsFormat(rs)}
}

// system returns ctx acting as Custodian itself.
func system(ctx context.Context) context.Context {
	return custodian.NewContextWithActor(ctx, custodian.SystemActor())
}

// Rules returns the active rule set.
func (rv *Reviewer) Rules() *RuleSet {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return rv.rules
}

// MarkLoading tells the reviewer a Load is coming (serve calls it before
// it starts serving and loads in the background): until that Load ends,
// the writes the watcher sees are kept and applied once the index is read,
// evaluations (Sync, Review, ReviewDays) wait for it, and Ready is false.
func (rv *Reviewer) MarkLoading() {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.startLoading()
}

// startLoading holds writes back from here on; rv.mu is held.
func (rv *Reviewer) startLoading() {
	if !rv.loading {
		rv.loading, rv.backlog, rv.done = true, nil, make(chan struct{})
	}
}

// Ready says whether the index has been read: the queues and reports are
// empty until then.
func (rv *Reviewer) Ready() bool {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return rv.loaded
}

// Err is why the index could not be read (nil when it was, or is being
// read).
func (rv *Reviewer) Err() error {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return rv.failed
}

// wait returns once no Load is in progress (or ctx ends), with the error
// of a first Load that failed.
func (rv *Reviewer) wait(ctx context.Context) error {
	rv.mu.Lock()
	done, failed := rv.done, rv.failed
	rv.mu.Unlock()
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
		rv.mu.Lock()
		failed = rv.failed
		rv.mu.Unlock()
	}
	return failed
}

// Load reads the active rule set (the Library RulesLibraryID, or the
// defaults when there is none), indexes every resource the rules read and
// the Tasks already written. Writes that arrive meanwhile are applied once
// the reading is done, so Load may run while the store is written and the
// watcher registered. Reading the record is recorded in the audit trail
// once per type (store.RecordBulkRead), not once per page.
//
// With Facts, Load reads the facts saved by the last run and the changes
// written after them instead, when they are of the index's format (the
// same release and the same rules for what the index keeps); otherwise
// it reads the whole record and saves its facts as it goes.
func (rv *Reviewer) Load(ctx context.Context) error {
	rv.loadMu.Lock()
	defer rv.loadMu.Unlock()
	ctx = system(ctx)
	rv.mu.Lock()
	rv.startLoading()
	rv.reload = false
	rv.mu.Unlock()
	start := time.Now()
	s, stats, err := rv.read(ctx)
	stats.Elapsed = time.Since(start)
	rv.mu.Lock()
	defer rv.mu.Unlock()
	switch {
	case err == nil:
		rv.rules, rv.ix, rv.tasks, rv.byEnc, rv.loaded, rv.failed = s.rs, s.ix, s.tasks, s.byEnc, true, nil
		rv.taskKeys, rv.tr, rv.format, rv.stats = s.taskKeys, s.tr, s.format, stats
		for e := range s.dirty {
			rv.dirty[e] = true
		}
		rv.all = rv.all || s.all
		rv.marks, rv.lastSave = s.marks, time.Now()
		if rv.Logger != nil {
			rv.Logger.Info("chart review index read", "saved", stats.Saved, "facts", stats.Facts, "replayed", stats.Replayed,
				"position", stats.Position, "seconds", stats.Elapsed.Seconds())
		}
	case !rv.loaded:
		rv.failed = err // evaluating a partial record would raise false deficiencies
	}
	backlog := rv.backlog
	rv.loading, rv.backlog = false, nil
	close(rv.done)
	rv.done = nil
	if rv.failed == nil {
		rv.applyLocked(backlog)
	}
	if len(rv.dirty) > 0 || rv.all {
		select {
		case rv.wake <- struct{}{}:
		default:
		}
	}
	return err
}

// read reads the rules, then the index and the Tasks: from the saved
// facts and the changes since when there are facts of the index's format,
// otherwise from the whole record.
func (rv *Reviewer) read(ctx context.Context) (*state, LoadStats, error) {
	rs, err := rv.storedRules(ctx)
	if err != nil {
		return nil, LoadStats{}, err
	}
	if rv.Facts != nil {
		s := newState(rs, true)
		st, ok, err := rv.Facts.Saved(ctx)
		if err != nil {
			return nil, LoadStats{}, err
		}
		if ok && st.Format == s.format {
			ok, err = rv.fewChanges(ctx, st)
			if err != nil {
				return nil, LoadStats{}, err
			}
		}
		if ok && st.Format == s.format {
			stats, err := rv.readSaved(ctx, s, st)
			if !errors.Is(err, errFact) {
				return s, stats, err
			}
			if rv.Logger != nil {
				rv.Logger.Error("the chart review facts are unreadable: reading the whole record", "error", err)
			}
		}
	}
	s := newState(rs, rv.Facts != nil)
	stats, err := rv.readWhole(ctx, s)
	return s, stats, err
}

// readWhole reads every resource the index reads and every Task; with
// Facts it replaces the saved facts with theirs as it goes, and saves the
// state (the position read before the reading began) at the end.
func (rv *Reviewer) readWhole(ctx context.Context, s *state) (LoadStats, error) {
	var stats LoadStats
	var whole *projection.Whole
	if rv.Facts != nil {
		var err error
		if whole, err = projection.BeginWhole(ctx, rv.Facts, time.Now()); err != nil {
			return stats, err
		}
	}
	type decoded struct {
		v    any
		data []byte
	}
	var batch []Fact
	for _, typ := range factTypes {
		err := rv.scan(ctx, typ, func(r *store.Resource) any {
			v := s.decodeVersion(r.Type, r.Body)
			if whole == nil {
				return decoded{v: v}
			}
			return decoded{v, encodeFact(r.Type, v)}
		}, func(r *store.Resource, x any) {
			d := x.(decoded)
			s.file(r.Type, r.ID, d.v)
			stats.Facts++
			if whole != nil && d.data != nil {
				batch = append(batch, Fact{Type: r.Type, ID: r.ID, Version: r.VersionID, Data: d.data})
				if len(batch) == 2000 {
					whole.C <- batch
					batch = nil
				}
			}
		})
		if err != nil {
			if whole != nil {
				whole.Finish()
			}
			return stats, err
		}
	}
	s.dirty, s.all = map[string]bool{}, false
	if whole == nil {
		return stats, nil
	}
	if len(batch) > 0 {
		whole.C <- batch
	}
	st, marks, err := whole.End(ctx, s.format)
	if err != nil {
		return stats, err
	}
	stats.Position = st.Position
	s.marks = fromMarks(marks)
	return stats, nil
}

func addTask(byEnc map[string]map[string]*taskRec, t *taskRec) {
	m := byEnc[t.D.Encounter]
	if m == nil {
		m = map[string]*taskRec{}
		byEnc[t.D.Encounter] = m
	}
	m[t.D.Key] = t
}

// storedRules reads the site's rule set from the store.
func (rv *Reviewer) storedRules(ctx context.Context) (*RuleSet, error) {
	r, err := rv.Store.Read(ctx, "Library", RulesLibraryID)
	switch {
	case custodian.ErrorCode(err) == custodian.ENOTFOUND || custodian.ErrorCode(err) == custodian.EGONE:
		return DefaultRules(), nil
	case err != nil:
		return nil, err
	}
	return RulesFromLibrary(r.Body)
}

// bulkReader is a Store that reads a whole type a page at a time without
// an audit entry per page (*store.Store): the read is recorded once.
type bulkReader interface {
	ParseQueryString(typ, criteria string) (*store.Query, error)
	ExportPage(ctx context.Context, q *store.Query, f store.ExportFilter) ([]*store.Resource, int64, error)
	RecordBulkRead(ctx context.Context, typ, why string) error
}

// scan decodes every current resource of typ on every core and applies
// what was decoded, one resource at a time, in this goroutine.
func (rv *Reviewer) scan(ctx context.Context, typ string, decode func(*store.Resource) any, apply func(*store.Resource, any)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	pages := make(chan []*store.Resource, 2)
	type decoded struct {
		rs []*store.Resource
		vs []any
	}
	out := make(chan decoded, 2)
	var readErr error
	go func() {
		defer close(pages)
		readErr = rv.pages(ctx, typ, func(rs []*store.Resource) error {
			select {
			case pages <- rs:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		})
		if readErr != nil {
			cancel(readErr)
		}
	}()
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for rs := range pages {
				vs := make([]any, len(rs))
				for i, r := range rs {
					vs[i] = decode(r)
				}
				out <- decoded{rs, vs}
			}
		})
	}
	go func() { wg.Wait(); close(out) }()
	for d := range out {
		for i, r := range d.rs {
			apply(r, d.vs[i])
		}
	}
	if readErr != nil {
		return readErr
	}
	return ctx.Err()
}

// pages reads every current resource of typ as the system and hands it to
// fn a page at a time.
func (rv *Reviewer) pages(ctx context.Context, typ string, fn func([]*store.Resource) error) error {
	if br, ok := rv.Store.(bulkReader); ok {
		q, err := br.ParseQueryString(typ, "")
		if err != nil {
			return err
		}
		if err := br.RecordBulkRead(ctx, typ, "chart review"); err != nil {
			return err
		}
		var after int64
		for {
			rs, next, err := br.ExportPage(ctx, q, store.ExportFilter{After: after, Limit: 1000, MaxBytes: 8 << 20})
			if err != nil {
				return err
			}
			if len(rs) > 0 {
				if err := fn(rs); err != nil {
					return err
				}
			}
			if next == 0 {
				return nil
			}
			after = next
		}
	}
	cursor := ""
	for {
		p, err := rv.Store.Search(ctx, &store.Query{Types: []string{typ}, Count: 1000, Cursor: cursor, Text: "chart review: " + typ})
		if err != nil {
			return err
		}
		if len(p.Resources) > 0 {
			if err := fn(p.Resources); err != nil {
				return err
			}
		}
		if p.Next == "" {
			return nil
		}
		cursor = p.Next
	}
}

// SetRules makes rs the site's rule set: it is stored as a new version of
// the Library RulesLibraryID (so the change is versioned and audited) and
// every encounter is evaluated again at the next Sync.
func (rv *Reviewer) SetRules(ctx context.Context, rs *RuleSet) error {
	if err := rs.check(); err != nil {
		return err
	}
	res, err := rv.Store.PutBatch(system(ctx), []map[string]any{rs.Library()})
	if err != nil {
		return err
	}
	if res[0].Err != nil {
		return res[0].Err
	}
	return rv.Load(ctx) // the index keeps what the rules read, so it is rebuilt
}

// Watcher returns the store.Watcher that keeps the index current and
// queues the encounters each write affects for evaluation (Run or Sync
// evaluates them and writes the Tasks). It does no I/O. While a Load is in
// progress it keeps the writes for Load to apply.
func (rv *Reviewer) Watcher() store.Watcher {
	return func(ctx context.Context, versions []*store.Resource) {
		relevant := false
		for _, v := range versions {
			if v.Type != "Task" {
				relevant = true
				break
			}
		}
		if !relevant {
			return
		}
		rv.mu.Lock()
		if rv.loading {
			for _, v := range versions {
				if v.Type != "Task" {
					rv.backlog = append(rv.backlog, v)
				}
			}
			rv.mu.Unlock()
			return
		}
		if rv.failed != nil {
			rv.mu.Unlock()
			return
		}
		rv.applyLocked(versions)
		queued := len(rv.dirty) > 0 || rv.all || rv.reload
		rv.mu.Unlock()
		if queued {
			select {
			case rv.wake <- struct{}{}:
			default:
			}
		}
	}
}

// applyLocked files written versions in the index and queues the
// encounters they affect; rv.mu is held.
func (rv *Reviewer) applyLocked(versions []*store.Resource) {
	s := rv.view()
	now := time.Now()
	for _, v := range versions {
		if v.Type == "Task" {
			continue
		}
		if v.Type == "Library" && v.ID == RulesLibraryID && !v.Deleted {
			if rs, err := RulesFromLibrary(v.Body); err == nil {
				// New ranges, surgical categories or summary types change
				// what the index keeps: it is read again (Sync does it).
				rv.reload = rv.reload || rs.indexKey() != rv.ix.key
				rv.rules, rv.all = rs, true
			}
			continue
		}
		body := v.Body
		if v.Deleted {
			body = nil
		}
		s.take(v.Type, v.ID, v.VersionID, body, now)
	}
	rv.all = rv.all || s.all
}

// Run evaluates queued encounters and writes their Tasks until ctx ends,
// waiting Delay after the first queued write to gather a burst.
//
// With Facts it also saves the facts (see the Facts field), and once more
// when ctx ends.
func (rv *Reviewer) Run(ctx context.Context) error {
	var tick <-chan time.Time
	if rv.Facts != nil {
		t := time.NewTicker(min(rv.saveInterval(), 10*time.Second))
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			rv.finalSave(ctx)
			return ctx.Err()
		case <-tick:
			if rv.saveDue() {
				if err := rv.Save(ctx); err != nil && rv.Logger != nil && ctx.Err() == nil {
					rv.Logger.Error("saving the chart review facts failed", "error", err)
				}
			}
			continue
		case <-rv.wake:
		}
		select {
		case <-ctx.Done():
			rv.finalSave(ctx)
			return ctx.Err()
		case <-time.After(rv.Delay):
		}
		if _, err := rv.Sync(ctx); err != nil && rv.Logger != nil {
			rv.Logger.Error("chart review", "err", err)
		}
	}
}

// Summary says what an evaluation did.
type Summary struct {
	Encounters int `json:"encounters"`
	// Open and Late count the deficiencies found: open ones, and breaches
	// already ended (a note filed late).
	Open   int            `json:"open"`
	Late   int            `json:"late"`
	ByKind map[string]int `json:"byKind"`
	// Task changes written.
	Created  int `json:"created"`
	Reopened int `json:"reopened"`
	Updated  int `json:"updated"`
	Closed   int `json:"closed"`
	// Records with an open deficiency past the completion limit.
	Delinquent int `json:"delinquent"`
}

// Sync evaluates the encounters queued by the watcher and writes their
// Tasks now. When new rules changed what the index keeps, it reads the
// record again first.
func (rv *Reviewer) Sync(ctx context.Context) (*Summary, error) {
	if err := rv.wait(ctx); err != nil {
		return nil, err
	}
	rv.mu.Lock()
	reload := rv.reload
	rv.mu.Unlock()
	if reload {
		if err := rv.Load(ctx); err != nil {
			return nil, err
		}
	}
	rv.mu.Lock()
	var refs []string
	if rv.all {
		refs = rv.ix.Encounters()
		for e := range rv.byEnc {
			if rv.ix.encounters[e] == nil {
				refs = append(refs, e)
			}
		}
	} else {
		for e := range rv.dirty {
			refs = append(refs, e)
		}
		sort.Strings(refs)
	}
	rv.dirty, rv.all = map[string]bool{}, false
	rv.mu.Unlock()
	return rv.evaluate(ctx, refs)
}

// Review evaluates every encounter that ended in [from, to) (and those
// still in progress that began before to) and writes their Tasks.
func (rv *Reviewer) Review(ctx context.Context, from, to time.Time) (*Summary, error) {
	if err := rv.wait(ctx); err != nil {
		return nil, err
	}
	rv.mu.Lock()
	var refs []string
	for ref, e := range rv.ix.encounters {
		if e.Discharged() && !e.End.Before(from) && e.End.Before(to) || !e.Discharged() && e.Start.Before(to) {
			refs = append(refs, ref)
		}
	}
	rv.mu.Unlock()
	sort.Strings(refs)
	return rv.evaluate(ctx, refs)
}

// ReviewDays is Review for the encounters discharged on the calendar days
// from to to (inclusive, YYYY-MM-DD) in the hospital's time zone (the
// rule set's, or each admission's own offset), and those in progress.
func (rv *Reviewer) ReviewDays(ctx context.Context, from, to string) (*Summary, error) {
	if err := rv.wait(ctx); err != nil {
		return nil, err
	}
	rv.mu.Lock()
	var refs []string
	for ref, e := range rv.ix.encounters {
		loc := rv.rules.loc
		if loc == nil {
			loc = e.Zone()
		}
		if !e.Discharged() {
			refs = append(refs, ref)
			continue
		}
		if d := e.End.In(loc).Format(time.DateOnly); d >= from && d <= to {
			refs = append(refs, ref)
		}
	}
	rv.mu.Unlock()
	sort.Strings(refs)
	return rv.evaluate(ctx, refs)
}

// evaluate runs the rules over refs and writes the Task changes.
func (rv *Reviewer) evaluate(ctx context.Context, refs []string) (*Summary, error) {
	now := rv.Now()
	sum := &Summary{ByKind: map[string]int{}}
	type change struct {
		rec  *taskRec
		body map[string]any
	}
	var changes []change
	rv.mu.Lock()
	rs := rv.rules
	limit := rs.recordLimit()
	for _, ref := range refs {
		e := rv.ix.encounters[ref]
		defs := rv.ix.Evaluate(rs, ref, now, rv.Codes)
		if e != nil {
			sum.Encounters++
		}
		seen := map[string]bool{}
		delinquent := false
		for _, d := range defs {
			seen[d.Key] = true
			sum.ByKind[d.Kind]++
			status := StatusCompleted
			if d.Open {
				status = StatusRequested
				sum.Open++
				delinquent = delinquent || (e.Discharged() && now.After(e.End.Add(limit)))
			} else {
				sum.Late++
			}
			old := rv.tasks[d.Key]
			authored := now
			switch {
			case old == nil:
				sum.Created++
			case same(old, d, status):
				continue
			case old.Status != StatusRequested && status == StatusRequested:
				sum.Reopened++
				authored = old.Authored
			default:
				sum.Updated++
				authored = old.Authored
			}
			rec := &taskRec{ID: TaskID(d.Key), Status: status, Authored: authored, D: d}
			changes = append(changes, change{rec, toTask(d, status, authored)})
		}
		if delinquent {
			sum.Delinquent++
		}
		for key, old := range rv.byEnc[ref] {
			if seen[key] || old.Status != StatusRequested {
				continue
			}
			d := *old.D
			d.Open, d.Cleared = false, now
			status := StatusCompleted
			if r := rs.Rule(d.Rule); e == nil || r == nil || !r.applies(e.Class) {
				status = StatusCancelled
			}
			sum.Closed++
			rec := &taskRec{ID: old.ID, Status: status, Authored: old.Authored, D: &d}
			changes = append(changes, change{rec, toTask(&d, status, old.Authored)})
		}
	}
	rv.mu.Unlock()
	// Written outside the lock: the store tells the watcher of these writes.
	const batch = 500
	var errs []error
	for i := 0; i < len(changes); i += batch {
		part := changes[i:min(i+batch, len(changes))]
		bodies := make([]map[string]any, len(part))
		for j, c := range part {
			bodies[j] = c.body
		}
		res, err := rv.Store.PutBatch(system(ctx), bodies)
		if err != nil {
			return sum, err
		}
		rv.mu.Lock()
		s := rv.view()
		for j, c := range part {
			if res[j].Err != nil {
				errs = append(errs, res[j].Err)
				continue
			}
			s.putTask(c.rec.ID, c.rec)
			// The fact saved is the Task as stored, as a start reads it.
			if o := res[j].Outcome; rv.tr != nil && o != nil && o.Resource != nil && !o.Unchanged {
				t, _ := fromTask(o.Resource.Body)
				rv.tr.track("Task", o.Resource.ID, o.Resource.VersionID, encodeFact("Task", t), time.Now())
			}
		}
		rv.mu.Unlock()
	}
	return sum, errors.Join(errs...)
}
