package search

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/custodian-him/custodian/store"
)

// Custom search parameters are SearchParameter resources stored in the
// record (status active). Once a process knows one, every write indexes its
// values; it can be searched only when custodian reindex has indexed every
// stored resource by that version of it and recorded so (the backend's
// CustomSource). Until then a search by it is an unknown parameter.

// CustomSource is where a registry finds the stored SearchParameters;
// package sqldb implements it.
type CustomSource interface {
	// CustomSearchParams returns the current SearchParameter resources,
	// each marked Active if every resource has been indexed by its version.
	CustomSearchParams(ctx context.Context) ([]store.CustomParam, error)
	// RegisterParams numbers (type, code) pairs for the index tables. It
	// must not be called inside a write transaction.
	RegisterParams(ctx context.Context, keys [][2]string) error
}

// customSet is a registry's custom parameters at one moment.
type customSet struct {
	byType map[string][]*Param
	byCode map[string]map[string]*Param
	// loaded are the SearchParameters the set was made from.
	loaded []store.CustomParam
}

// CustomProblem is a stored SearchParameter Custodian cannot use, and why.
type CustomProblem struct {
	ID  string
	Err error
}

func (p CustomProblem) Error() string { return fmt.Sprintf("SearchParameter/%s: %v", p.ID, p.Err) }

// LoadCustom reads the stored SearchParameters from src, numbers their
// parameters and makes them the registry's custom parameters: indexed at
// every write from now on, searchable if active (or if allActive is set,
// for the reindexer, which indexes by them all). It returns the
// SearchParameters it took and the ones it could not use. Call it when the
// store opens, after a SearchParameter is written, and now and then for
// those written by other processes and for activations by custodian
// reindex; never inside a write transaction.
func (r *Registry) LoadCustom(ctx context.Context, src CustomSource, allActive bool) ([]store.CustomParam, []CustomProblem, error) {
	stored, err := src.CustomSearchParams(ctx)
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(stored, func(a, b store.CustomParam) int { return strings.Compare(a.ID, b.ID) })
	cs := &customSet{byType: map[string][]*Param{}, byCode: map[string]map[string]*Param{}}
	var problems []CustomProblem
	var keys [][2]string
	for _, sp := range stored {
		ps, err := r.compileCustom(sp, cs)
		if err != nil {
			problems = append(problems, CustomProblem{ID: sp.ID, Err: err})
			continue
		}
		if ps == nil {
			continue // not active, or nothing to index
		}
		for _, p := range ps {
			p.pending = !sp.Active && !allActive
			if cs.byCode[p.Type] == nil {
				cs.byCode[p.Type] = map[string]*Param{}
			}
			cs.byCode[p.Type][p.Code] = p
			cs.byType[p.Type] = append(cs.byType[p.Type], p)
			if p.indexed {
				keys = append(keys, [2]string{p.Type, p.Code})
			}
		}
		cs.loaded = append(cs.loaded, sp)
	}
	if len(keys) > 0 {
		if err := src.RegisterParams(ctx, keys); err != nil {
			return nil, nil, err
		}
	}
	r.custom.Store(cs)
	return cs.loaded, problems, nil
}

// Custom returns the SearchParameters the registry's custom parameters
// came from (by LoadCustom).
func (r *Registry) Custom() []store.CustomParam {
	if cs := r.custom.Load(); cs != nil {
		return cs.loaded
	}
	return nil
}

// compileCustom compiles a stored SearchParameter: nil if it is not
// active; an error if Custodian cannot index by it or it clashes with a
// parameter already defined.
func (r *Registry) compileCustom(sp store.CustomParam, cs *customSet) ([]*Param, error) {
	var doc struct {
		spDoc
		Status string `json:"status"`
	}
	if err := json.Unmarshal(sp.Body, &doc); err != nil {
		return nil, fmt.Errorf("cannot be read: %v", err)
	}
	if doc.Status != "active" {
		return nil, nil
	}
	if !validCode(doc.Code) {
		return nil, fmt.Errorf("code %q is not a search parameter name (letters, digits, - and _, not starting with _)", doc.Code)
	}
	if !indexedKinds[store.ParamKind(doc.Type)] {
		return nil, fmt.Errorf("type %q is not one Custodian indexes", doc.Type)
	}
	if doc.Expression == "" {
		return nil, fmt.Errorf("it has no expression")
	}
	for _, b := range doc.Base {
		if b != "Resource" && b != "DomainResource" && !r.defs.IsResourceType(b) {
			return nil, fmt.Errorf("base %q is not a resource type", b)
		}
	}
	byURL := r.byURL
	if doc.Type == string(store.KindComposite) {
		byURL = maps(r.byURL, cs)
	}
	ps, err := r.compile(doc.spDoc, byURL)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if _, dup := r.byCode[p.Type][p.Code]; dup {
			return nil, fmt.Errorf("%s already has a search parameter %s", p.Type, p.Code)
		}
		if _, dup := cs.byCode[p.Type][p.Code]; dup {
			return nil, fmt.Errorf("another SearchParameter defines %s on %s", p.Code, p.Type)
		}
	}
	return ps, nil
}

// maps adds the custom parameters' definitions to the R4 ones, for a custom
// composite's components.
func maps(r4 map[string]spDoc, cs *customSet) map[string]spDoc {
	m := make(map[string]spDoc, len(r4))
	for k, v := range r4 {
		m[k] = v
	}
	for _, ps := range cs.byType {
		for _, p := range ps {
			m[p.URL] = spDoc{URL: p.URL, Code: p.Code, Type: string(p.Kind)}
		}
	}
	return m
}

func validCode(c string) bool {
	if c == "" || len(c) > 64 || c[0] == '_' || c[0] == '-' {
		return false
	}
	for i := 0; i < len(c); i++ {
		ch := c[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return false
		}
	}
	return true
}

// Follower keeps a registry's custom parameters current in a server.
type Follower struct {
	Registry *Registry
	Source   CustomSource
	Logger   *slog.Logger

	mu             sync.Mutex
	running, again bool
}

// Watcher is a store.Watcher that reloads the custom parameters when a
// SearchParameter is written, so that writes from then on index by it. The
// reload runs in its own goroutine: watchers run in the writer's goroutine,
// where registering parameters would wait for itself.
func (f *Follower) Watcher() store.Watcher {
	return func(_ context.Context, versions []*store.Resource) {
		for _, v := range versions {
			if v.Type == "SearchParameter" {
				go f.reload(context.Background())
				return
			}
		}
	}
}

// Run reloads the custom parameters every interval until ctx ends: for
// SearchParameters written by other processes, and for custodian reindex
// activating them.
func (f *Follower) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.reload(ctx)
		}
	}
}

// reload runs LoadCustom, or asks the one running to run again (it may
// have read before the write that called for this one).
func (f *Follower) reload(ctx context.Context) {
	f.mu.Lock()
	if f.running {
		f.again = true
		f.mu.Unlock()
		return
	}
	f.running = true
	f.mu.Unlock()
	for {
		f.reloadOnce(ctx)
		f.mu.Lock()
		if !f.again {
			f.running = false
			f.mu.Unlock()
			return
		}
		f.again = false
		f.mu.Unlock()
	}
}

func (f *Follower) reloadOnce(ctx context.Context) {
	before := f.Registry.Custom()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	loaded, problems, err := f.Registry.LoadCustom(ctx, f.Source, false)
	if f.Logger == nil {
		return
	}
	if err != nil {
		f.Logger.Error("search: reading the stored SearchParameters", "err", err)
		return
	}
	same := func(a, b store.CustomParam) bool {
		return a.ID == b.ID && a.Version == b.Version && a.Active == b.Active
	}
	if slices.EqualFunc(before, loaded, same) {
		return
	}
	for _, p := range problems {
		f.Logger.Warn("search: a stored SearchParameter cannot be used", "id", p.ID, "err", p.Err)
	}
	for _, sp := range loaded {
		f.Logger.Info("search: custom search parameter", "id", sp.ID, "version", sp.Version, "active", sp.Active)
	}
}
