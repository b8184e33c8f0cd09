package search

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"sync"

	"github.com/custodian-him/custodian/store"
)

// Index implements store.Indexer: it evaluates every indexed search
// parameter of typ on res and returns the values, without duplicates.
//
// A parameter whose expression fails on this resource (an expression that
// expects one value and finds several, say) contributes nothing; the write
// itself goes on, as the resource is valid FHIR.
func (r *Registry) Index(typ string, res map[string]any) ([]store.IndexEntry, error) {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.seenFrom = -1
	out := make([]store.IndexEntry, 0, 32)
	for _, p := range r.byType[typ] {
		if !p.indexed {
			continue
		}
		start := len(out)
		if p.plans != nil && !r.engineOnly {
			sc.out = sc.out[:0]
			ok := true
			for _, pl := range p.plans {
				items, good := pl.run(r, res, typ, sc)
				if !good {
					ok = false
					break
				}
				sc.out = append(sc.out, items...)
			}
			if !ok {
				continue
			}
			for _, n := range sc.out {
				out = appendEntries(out, start, p, n.typ, n.val, sc)
			}
			continue
		}
		items, err := p.expr.Evaluate(context.Background(), res, r.env)
		if err != nil {
			continue
		}
		for _, it := range items {
			out = appendEntries(out, start, p, it.Type(), it.JSON(), sc)
		}
	}
	return out, nil
}

var scratchPool = sync.Pool{New: func() any { return &scratch{} }}

// appendEntries appends the index entries of one value v of FHIR type typ
// for p, leaving out those already in out[start:] (the entries of p so far).
func appendEntries(out []store.IndexEntry, start int, p *Param, typ string, v any, sc *scratch) []store.IndexEntry {
	add := func(e store.IndexEntry) {
		mine := out[start:]
		if len(mine) < 16 {
			for _, x := range mine {
				if x == e {
					return
				}
			}
		} else {
			// Many values (a Provenance with hundreds of targets): a set.
			if sc.seenFrom != start || sc.seen == nil {
				if sc.seen == nil {
					sc.seen = map[store.IndexEntry]struct{}{}
				}
				clear(sc.seen)
				for _, x := range mine {
					sc.seen[x] = struct{}{}
				}
				sc.seenFrom = start
			}
			if _, dup := sc.seen[e]; dup {
				return
			}
			sc.seen[e] = struct{}{}
		}
		out = append(out, e)
	}
	base := store.IndexEntry{Param: p.Code, Kind: p.Kind}
	switch p.Kind {
	case store.KindToken:
		tokens(typ, v, func(system, code string) {
			e := base
			e.System, e.Code = system, code
			add(e)
		})
	case store.KindReference:
		m, _ := v.(map[string]any)
		ref, _ := m["reference"].(string)
		if s, ok := v.(string); ok { // canonical or uri used as a reference
			ref = s
		}
		if ref == "" || strings.HasPrefix(ref, "#") {
			return out
		}
		e := base
		e.RefType, e.RefID = splitRef(ref)
		add(e)
	case store.KindDate:
		if low, high, ok := dateRange(typ, v); ok {
			e := base
			e.Low, e.High = low, high
			add(e)
		}
	case store.KindString:
		strs(typ, v, func(s string) {
			e := base
			e.Text = store.NormalizeString(s)
			if e.Text != "" {
				add(e)
			}
		})
	case store.KindURI:
		if s, ok := v.(string); ok && s != "" {
			e := base
			e.Text = s
			add(e)
		}
	}
	return out
}

// splitRef splits "Patient/1", "http://x/fhir/Patient/1" (with or without
// _history) into type and id; anything else is kept whole as the id.
func splitRef(ref string) (string, string) {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(ref, "/")
	if len(parts) >= 2 {
		t, id := parts[len(parts)-2], parts[len(parts)-1]
		if t != "" && t[0] >= 'A' && t[0] <= 'Z' && store.ValidID(id) {
			return t, id
		}
	}
	return "", ref
}

// tokens calls f with the system and code of each token a value holds.
func tokens(typ string, v any, f func(system, code string)) {
	switch x := v.(type) {
	case string:
		f("", x)
	case bool:
		if x {
			f("", "true")
		} else {
			f("", "false")
		}
	case json.Number:
		f("", x.String())
	case map[string]any:
		str := func(k string) string { s, _ := x[k].(string); return s }
		switch typ {
		case "CodeableConcept":
			codings, _ := x["coding"].([]any)
			for _, c := range codings {
				tokens("Coding", c, f)
			}
		case "Identifier":
			if val := str("value"); val != "" {
				f(str("system"), val)
			}
		case "ContactPoint":
			if val := str("value"); val != "" {
				f("", val)
			}
		default: // Coding and codes with a system
			if code := str("code"); code != "" {
				f(str("system"), code)
			} else if val := str("value"); val != "" {
				f(str("system"), val)
			}
		}
	}
}

// strs calls f with each searchable string of a value.
func strs(typ string, v any, f func(string)) {
	switch x := v.(type) {
	case string:
		f(x)
	case map[string]any:
		for _, k := range []string{"text", "family", "given", "prefix", "suffix", "line", "city", "district", "state", "postalCode", "country", "value", "display"} {
			switch y := x[k].(type) {
			case string:
				f(y)
			case []any:
				for _, s := range y {
					if s, ok := s.(string); ok {
						f(s)
					}
				}
			}
		}
	}
}

// dateRange gives the millisecond range a date-like value covers.
func dateRange(typ string, v any) (int64, int64, bool) {
	switch x := v.(type) {
	case string:
		return store.DateRange(x)
	case map[string]any:
		switch typ {
		case "Period":
			low, high := int64(math.MinInt64), int64(math.MaxInt64)
			s, hasStart := x["start"].(string)
			e, hasEnd := x["end"].(string)
			if !hasStart && !hasEnd {
				return 0, 0, false
			}
			if hasStart {
				l, _, ok := store.DateRange(s)
				if !ok {
					return 0, 0, false
				}
				low = l
			}
			if hasEnd {
				_, h, ok := store.DateRange(e)
				if !ok {
					return 0, 0, false
				}
				high = h
			}
			return low, high, true
		case "Timing":
			events, _ := x["event"].([]any)
			low, high, ok := int64(math.MaxInt64), int64(math.MinInt64), false
			for _, ev := range events {
				if s, isStr := ev.(string); isStr {
					if l, h, good := store.DateRange(s); good {
						low, high, ok = min(low, l), max(high, h), true
					}
				}
			}
			return low, high, ok
		}
	}
	return 0, 0, false
}
