package search

import (
	"context"
	"encoding/json"
	"github.com/custodian-him/custodian/fhir/ucum"
	"math"
	"slices"
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
	// Entries gather in a reused buffer; the caller gets an exact copy.
	out := sc.entries[:0]
	defer func() { sc.entries = out[:0] }()
	for _, p := range r.Params(typ) {
		if !p.indexed {
			continue
		}
		start := len(out)
		if p.Kind == store.KindComposite {
			out = r.composites(out, start, p, res, sc)
			continue
		}
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
	if r.textTypes[typ] {
		out = narrativeWords(out, res)
	}
	return slices.Clone(out), nil
}

// composites appends the entries of composite parameter p: for each value
// of its expression, every pairing of its two components' values.
func (r *Registry) composites(out []store.IndexEntry, start int, p *Param, res map[string]any, sc *scratch) []store.IndexEntry {
	if p.compositeTypes != nil && !r.engineOnly {
		return r.plannedComposites(out, start, p, res, sc)
	}
	ctx := context.Background()
	items, err := p.expr.Evaluate(ctx, res, r.env)
	if err != nil || len(items) == 0 {
		return out
	}
	env := *r.env
	env.Resource = res
	for _, it := range items {
		var parts [2][]store.IndexEntry
		for i, c := range p.Components[:2] {
			vals, err := c.expr.Evaluate(ctx, it, &env)
			if err != nil {
				return out[:start]
			}
			for _, v := range vals {
				kindEntries(c.Kind, "", "", v.Type(), v.JSON(), false, func(e store.IndexEntry) {
					if e.Kind == c.Kind {
						parts[i] = append(parts[i], e)
					}
				})
			}
		}
		for _, a := range parts[0] {
			for _, b := range parts[1] {
				e := store.IndexEntry{Param: p.Code, Kind: store.KindComposite, System: a.System, Code: a.Code}
				if a.Kind == store.KindReference {
					e.System, e.Code = "", a.RefType+"/"+a.RefID
				}
				e.System2, e.Code2, e.NumLow, e.NumHigh = compositeSecond(b)
				out = appendEntry(out, start, e, sc)
			}
		}
	}
	return out
}

// plannedComposites is composites with plans.
func (r *Registry) plannedComposites(out []store.IndexEntry, start int, p *Param, res map[string]any, sc *scratch) []store.IndexEntry {
	var items []node
	for _, pl := range p.plans {
		got, ok := pl.run(r, res, p.Type, sc)
		if !ok {
			return out[:start]
		}
		items = append(items, got...)
	}
	for _, it := range items {
		var parts [2][]store.IndexEntry
		// The second part first: without one (an Observation with a
		// quantity has no value for code-value-concept) the first part
		// need not be worked out.
		for _, i := range [2]int{1, 0} {
			c := p.Components[i]
			if i == 0 && len(parts[1]) == 0 {
				break
			}
			for _, pl := range c.plans {
				// A plan compiled for another type of value yields nothing.
				vals, ok := pl.runFrom(r, res, it, sc)
				if !ok {
					return out[:start]
				}
				for _, v := range vals {
					kindEntries(c.Kind, "", "", v.typ, v.val, false, func(e store.IndexEntry) {
						if e.Kind == c.Kind {
							parts[i] = append(parts[i], e)
						}
					})
				}
			}
		}
		for _, a := range parts[0] {
			for _, b := range parts[1] {
				e := store.IndexEntry{Param: p.Code, Kind: store.KindComposite, System: a.System, Code: a.Code}
				if a.Kind == store.KindReference {
					e.System, e.Code = "", a.RefType+"/"+a.RefID
				}
				e.System2, e.Code2, e.NumLow, e.NumHigh = compositeSecond(b)
				out = appendEntry(out, start, e, sc)
			}
		}
	}
	return out
}

// compositeSecond maps the second component of a composite onto the
// columns of idx_composite.
func compositeSecond(b store.IndexEntry) (system, code string, lo, hi float64) {
	switch b.Kind {
	case store.KindToken:
		return b.System, b.Code, 0, 0
	case store.KindQuantity:
		// As written: a composite's quantity is compared in its own unit.
		code := b.Code
		if code == "" {
			code = b.Text
		}
		return b.System, code, b.NumLow, b.NumHigh
	case store.KindDate:
		return "", "", float64(b.Low), float64(b.High)
	case store.KindString:
		return "", b.Text, 0, 0
	}
	return "", "", 0, 0
}

var scratchPool = sync.Pool{New: func() any { return &scratch{} }}

// appendEntries appends the index entries of one value v of FHIR type typ
// for p, leaving out those already in out[start:] (the entries of p so far).
func appendEntries(out []store.IndexEntry, start int, p *Param, typ string, v any, sc *scratch) []store.IndexEntry {
	valueEntries(p.Kind, p.Code, p.codeSystem, typ, v, func(e store.IndexEntry) {
		out = appendEntry(out, start, e, sc)
	})
	return out
}

// appendEntry appends e unless out[start:] has it already.
func appendEntry(out []store.IndexEntry, start int, e store.IndexEntry, sc *scratch) []store.IndexEntry {
	mine := out[start:]
	if len(mine) < 16 {
		for _, x := range mine {
			if x == e {
				return out
			}
		}
		return append(out, e)
	}
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
		return out
	}
	sc.seen[e] = struct{}{}
	return append(out, e)
}

// valueEntries calls add with the index entries of value v of FHIR type typ
// for a parameter code of the given kind. codeSystem is the code system of
// plain code values, when the element is bound to one.
func valueEntries(kind store.ParamKind, code, codeSystem, typ string, v any, add func(store.IndexEntry)) {
	kindEntries(kind, code, codeSystem, typ, v, true, add)
}

// kindEntries is valueEntries; extras adds the entries of other kinds
// (:text strings of a token, :identifier tokens of a reference).
func kindEntries(kind store.ParamKind, code, codeSystem, typ string, v any, extras bool, add func(store.IndexEntry)) {
	base := store.IndexEntry{Param: code, Kind: kind}
	switch kind {
	case store.KindToken:
		tokens(typ, v, codeSystem, func(system, code string) {
			e := base
			e.System, e.Code = system, code
			add(e)
		})
		if !extras {
			return
		}
		// :text matches CodeableConcept.text and Coding.display.
		texts(typ, v, func(s string) {
			if n := store.NormalizeString(s); n != "" {
				// No Code (as written): :exact does not apply to tokens, and
				// a display that only differs in case is then one row.
				add(store.IndexEntry{Param: code, Kind: store.KindString, Text: n})
			}
		})
	case store.KindReference:
		m, _ := v.(map[string]any)
		ref, _ := m["reference"].(string)
		if s, ok := v.(string); ok { // canonical or uri used as a reference
			ref = s
		}
		if id, ok := m["identifier"].(map[string]any); ok && extras {
			// :identifier searches the reference's identifier.
			if val, _ := id["value"].(string); val != "" {
				sys, _ := id["system"].(string)
				add(store.IndexEntry{Param: code, Kind: store.KindToken, System: sys, Code: val})
			}
		}
		if ref == "" || strings.HasPrefix(ref, "#") {
			return
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
			e.Text, e.Code = store.NormalizeString(s), s
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
	case store.KindNumber:
		if lo, hi, ok := numberRange(v); ok {
			e := base
			e.NumLow, e.NumHigh = lo, hi
			add(e)
		}
	case store.KindQuantity:
		quantities(typ, v, func(e store.IndexEntry) {
			e.Param, e.Kind = code, kind
			add(e)
		})
	}
}

// texts calls f with the display texts of a CodeableConcept or Coding.
func texts(typ string, v any, f func(string)) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	switch typ {
	case "CodeableConcept":
		if s, ok := m["text"].(string); ok {
			f(s)
		}
		codings, _ := m["coding"].([]any)
		for _, c := range codings {
			texts("Coding", c, f)
		}
	case "Coding":
		if s, ok := m["display"].(string); ok {
			f(s)
		}
	}
}

// numberRange reads a decimal or integer, or the ends of a Range.
func numberRange(v any) (float64, float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, f, err == nil
	case map[string]any:
		lo, hasLo := quantityValue(x["low"])
		hi, hasHi := quantityValue(x["high"])
		if !hasLo && !hasHi {
			return 0, 0, false
		}
		if !hasLo {
			lo = math.Inf(-1)
		}
		if !hasHi {
			hi = math.Inf(1)
		}
		return lo, hi, true
	}
	return 0, 0, false
}

func quantityValue(v any) (float64, bool) {
	m, _ := v.(map[string]any)
	n, ok := m["value"].(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// quantities calls f with the quantity entry of a Quantity (or Age,
// Duration, Money, …) or Range value. A Range is stored as its two ends
// in the first end's unit.
func quantities(typ string, v any, f func(store.IndexEntry)) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	if typ == "Range" {
		lo, hasLo := quantityValue(m["low"])
		hi, hasHi := quantityValue(m["high"])
		if !hasLo && !hasHi {
			return
		}
		unitOf, _ := m["low"].(map[string]any)
		if !hasLo {
			lo = math.Inf(-1)
			unitOf, _ = m["high"].(map[string]any)
		}
		if !hasHi {
			hi = math.Inf(1)
		}
		f(quantityEntry(str(unitOf, "system"), str(unitOf, "code"), str(unitOf, "unit"), lo, hi))
		return
	}
	val, ok := quantityValue(m)
	if !ok {
		return
	}
	if cur := str(m, "currency"); cur != "" { // Money
		f(quantityEntry("urn:iso:std:iso:4217", cur, cur, val, val))
		return
	}
	f(quantityEntry(str(m, "system"), str(m, "code"), str(m, "unit"), val, val))
}

func quantityEntry(system, code, unit string, lo, hi float64) store.IndexEntry {
	e := store.IndexEntry{System: system, Code: code, Text: unit, NumLow: lo, NumHigh: hi}
	if system == ucum.System && code != "" {
		if f, cc, ok := ucum.Factor(code); ok {
			e.CanonCode, e.CanonLow, e.CanonHigh = cc, lo*f, hi*f
		}
	}
	return e
}

// OfTypeSystem is the system under which an identifier is indexed a second
// time for :of-type, with the identifier type's system and code.
func OfTypeSystem(system, code string) string { return "of-type:" + system + "|" + code }

// splitRef splits a reference as the search does (store.SplitReference).
func splitRef(ref string) (string, string) { return store.SplitReference(ref) }

// tokens calls f with the system and code of each token a value holds;
// codeSystem is the system of a plain code.
func tokens(typ string, v any, codeSystem string, f func(system, code string)) {
	switch x := v.(type) {
	case string:
		if typ == "code" {
			f(codeSystem, x)
			return
		}
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
				tokens("Coding", c, "", f)
			}
		case "Identifier":
			if val := str("value"); val != "" {
				f(str("system"), val)
				// :of-type: the identifier's type code with its value.
				tc, _ := x["type"].(map[string]any)
				codings, _ := tc["coding"].([]any)
				for _, c := range codings {
					cm, _ := c.(map[string]any)
					sys, _ := cm["system"].(string)
					code, _ := cm["code"].(string)
					if code != "" {
						f(OfTypeSystem(sys, code), val)
					}
				}
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
