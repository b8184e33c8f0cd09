package search_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/internal/fhirexamples"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// TestDifferential stores the official examples and part of the Synthea
// data, generates search queries of every parameter kind and modifier from
// the stored values, and compares what the SQL engine finds with a
// brute-force evaluation: the FHIRPath engine run over every resource (no
// plans, no index tables) and the search semantics applied in Go.
func TestDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("differential search test skipped in -short mode")
	}
	reg := registry(t)
	ctx := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "diff", Kind: "system"})
	db := sqldbtest.Open(t) // CUSTODIAN_TEST_ENGINE=postgres: the same on PostgreSQL
	if err := db.RegisterParams(ctx, reg.Indexed()); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, fhir.R4(), reg)
	start := time.Now()
	loadExamples(t, ctx, st)
	loadSynthea(t, ctx, st, 8)
	t.Logf("loaded in %v", time.Since(start).Round(time.Millisecond))

	// The brute-force side: every current resource, indexed by the engine.
	bf := newBrute(t, ctx, st, reg.EngineOnly())
	queries := generate(bf, rand.New(rand.NewPCG(1, 2)))
	queries = append(queries, hasQueries(bf)...)
	kinds := map[string]int{}
	failed := 0
	for _, gq := range queries {
		kinds[gq.label]++
		q, err := st.ParseQueryString(gq.typ, gq.text)
		if err != nil {
			t.Errorf("%s?%s: %v", gq.typ, gq.text, err)
			failed++
			continue
		}
		want := bf.search(gq.typ, q)
		slices.Sort(want)
		// A reverse chain is checked answered each way it can be (by
		// cost, gathering, walking, walking against a set), in pages of
		// fifty so that the paging of each is checked too.
		plans := []sqldb.HasPlan{sqldb.HasByCost}
		count := store.MaxCount
		if strings.HasPrefix(gq.label, "_has") {
			plans = append(plans, sqldb.HasGather, sqldb.HasWalk, sqldb.HasSet)
			count = 50
		}
		for _, plan := range plans {
			q.Count, q.Cursor = count, ""
			got, err := searchAll(sqldb.WithHasPlan(ctx, plan), st, q)
			if err != nil {
				t.Errorf("%s?%s (plan %d): %v", gq.typ, gq.text, plan, err)
				failed++
				continue
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				failed++
				if failed <= 30 {
					t.Errorf("%s?%s (plan %d): engine %d %v, brute force %d %v", gq.typ, gq.text, plan, len(got), clip(got), len(want), clip(want))
				}
			}
		}
	}
	t.Logf("%d queries (%d failed) in %v: %v", len(queries), failed, time.Since(start).Round(time.Millisecond), kinds)
	if len(queries) < 1000 {
		t.Errorf("only %d queries generated, want at least 1000", len(queries))
	}
}

// searchAll reads every page of q.
func searchAll(ctx context.Context, st *store.Store, q *store.Query) ([]string, error) {
	var got []string
	for {
		page, err := st.Search(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Resources {
			got = append(got, r.ID)
		}
		if page.Next == "" {
			return got, nil
		}
		q.Cursor = page.Next
	}
}

func clip(s []string) []string {
	if len(s) > 6 {
		return append(s[:6:6], "…")
	}
	return s
}

func loadExamples(t testing.TB, ctx context.Context, st *store.Store) {
	var batch []map[string]any
	flush := func() {
		if _, err := st.PutBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
		batch = nil
	}
	err := fhirexamples.Each(func(name string, body []byte) error {
		res, err := store.Decode(body)
		if err != nil {
			return nil
		}
		batch = append(batch, res)
		if len(batch) == 500 {
			flush()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	flush()
}

// loadSynthea stores the shared bundles and the first n patients, each as
// the transaction it is (so its references are resolved).
func loadSynthea(t testing.TB, ctx context.Context, st *store.Store, n int) {
	patients := 0
	err := fhirexamples.EachSynthea(func(name string, body []byte) error {
		if !strings.HasPrefix(name, "hospital") && !strings.HasPrefix(name, "practitioner") {
			if patients == n {
				return nil
			}
			patients++
		}
		b, err := store.Decode(body)
		if err != nil {
			return err
		}
		var entries []store.Entry
		for _, e := range b["entry"].([]any) {
			em := e.(map[string]any)
			req := em["request"].(map[string]any)
			full, _ := em["fullUrl"].(string)
			res, _ := em["resource"].(map[string]any)
			entries = append(entries, store.Entry{Method: store.Method(req["method"].(string)), URL: req["url"].(string), FullURL: full, Resource: res})
		}
		if b["type"] == "batch" {
			for _, e := range entries {
				if _, err := st.Transaction(ctx, []store.Entry{e}); err != nil && custodian.ErrorCode(err) != custodian.EPRECONDITION {
					return fmt.Errorf("%s: %w", name, err)
				}
			}
			return nil
		}
		_, err = st.Transaction(ctx, entries)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// bfRes is one resource as the brute-force evaluator sees it.
type bfRes struct {
	typ, id string
	ts      int64
	entries []store.IndexEntry
}

type brute struct {
	byRef  map[string]*bfRes
	byType map[string][]*bfRes
}

func newBrute(t *testing.T, ctx context.Context, st *store.Store, eng *search.Registry) *brute {
	bf := &brute{byRef: map[string]*bfRes{}, byType: map[string][]*bfRes{}}
	// Every current resource, read back through the store.
	for _, typ := range fhir.R4().ResourceTypes() {
		q := &store.Query{Types: []string{typ}, Count: store.MaxCount}
		for {
			page, err := st.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Resources {
				res, err := store.Decode(r.Body)
				if err != nil {
					t.Fatal(err)
				}
				es, _ := eng.Index(typ, res)
				br := &bfRes{typ: typ, id: r.ID, ts: r.LastUpdated.UnixMilli(), entries: es}
				bf.byRef[typ+"/"+r.ID] = br
				bf.byType[typ] = append(bf.byType[typ], br)
			}
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
	}
	return bf
}

func (bf *brute) search(typ string, q *store.Query) []string {
	var out []string
	for _, r := range bf.byType[typ] {
		ok := true
		for _, cl := range q.Clauses {
			if !bf.match(r, cl) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, r.id)
		}
	}
	return out
}

// match is the search semantics of one clause, written independently of
// the SQL (sqldb/search.go) it checks.
func (bf *brute) match(r *bfRes, cl store.Clause) bool {
	switch {
	case cl.Chain != nil:
		for _, e := range r.entries {
			if e.Param != cl.Param || e.Kind != store.KindReference {
				continue
			}
			t := bf.byRef[e.RefType+"/"+e.RefID]
			if t != nil && slices.Contains(cl.ChainTypes, t.typ) && bf.match(t, *cl.Chain) {
				return true
			}
		}
		return false
	case cl.Has != nil:
		for _, h := range bf.byType[cl.HasType] {
			for _, e := range h.entries {
				if e.Param == cl.HasParam && e.Kind == store.KindReference && e.RefType == r.typ && e.RefID == r.id && bf.match(h, *cl.Has) {
					return true
				}
			}
		}
		return false
	}
	switch cl.Param {
	case "_text", "_content":
		for _, v := range cl.Values {
			if !slices.ContainsFunc(r.entries, func(e store.IndexEntry) bool {
				return e.Kind == store.KindString && (cl.Param == "_content" || e.Param == "_text") && strings.HasPrefix(e.Text, v.Text)
			}) {
				return false
			}
		}
		return true
	case "_id":
		return slices.ContainsFunc(cl.Values, func(v store.ClauseValue) bool { return v.Text == r.id })
	case "_lastUpdated":
		return slices.ContainsFunc(cl.Values, func(v store.ClauseValue) bool { return dateOK(v, r.ts, r.ts) })
	}
	kind := cl.Kind
	switch cl.Modifier {
	case "text":
		kind = store.KindString
	case "identifier":
		kind = store.KindToken
	}
	var mine []store.IndexEntry
	for _, e := range r.entries {
		if e.Param == cl.Param && e.Kind == kind {
			mine = append(mine, e)
		}
	}
	if cl.Modifier == "missing" {
		return (len(mine) == 0) == cl.Values[0].Missing
	}
	any := func(pred func(store.IndexEntry) bool) bool { return slices.ContainsFunc(mine, pred) }
	if cl.Modifier == "not" || cl.Modifier == "not-in" {
		for _, v := range cl.Values {
			if any(func(e store.IndexEntry) bool { return valueOK(cl, v, e) }) {
				return false
			}
		}
		return true
	}
	for _, v := range cl.Values {
		if v.Prefix == "ne" {
			eq := v
			eq.Prefix = "eq"
			if !any(func(e store.IndexEntry) bool { return valueOK(cl, eq, e) }) {
				return true
			}
			continue
		}
		if any(func(e store.IndexEntry) bool { return valueOK(cl, v, e) }) {
			return true
		}
	}
	return false
}

func valueOK(cl store.Clause, v store.ClauseValue, e store.IndexEntry) bool {
	switch cl.Modifier {
	case "text":
		return strings.HasPrefix(e.Text, v.Text)
	case "identifier":
		return tokenOK(v, e.System, e.Code)
	case "in", "not-in":
		return slices.Contains(v.Codes, [2]string{e.System, e.Code})
	}
	switch cl.Kind {
	case store.KindToken:
		return tokenOK(v, e.System, e.Code)
	case store.KindReference:
		return e.RefID == v.RefID && (v.RefType == "" || e.RefType == v.RefType)
	case store.KindDate:
		return dateOK(v, e.Low, e.High)
	case store.KindString:
		switch cl.Modifier {
		case "exact":
			return e.Code == v.Text
		case "contains":
			return strings.Contains(e.Text, v.Text)
		}
		return strings.HasPrefix(e.Text, v.Text)
	case store.KindURI:
		switch cl.Modifier {
		case "below":
			return strings.HasPrefix(e.Text, v.Text)
		case "above":
			return strings.HasPrefix(v.Text, e.Text) && (e.Text == v.Text || v.Text[len(e.Text)] == '/')
		}
		return e.Text == v.Text
	case store.KindNumber:
		return numOK(v.Prefix, v.Num, v.NumLow, v.NumHigh, e.NumLow, e.NumHigh)
	case store.KindQuantity:
		return quantityOK(v, e.System, e.Code, e.Text, e.NumLow, e.NumHigh, e.CanonCode, e.CanonLow, e.CanonHigh)
	case store.KindComposite:
		if !tokenOK(v, e.System, e.Code) {
			return false
		}
		s := *v.Second
		switch cl.Components[1] {
		case store.KindToken:
			return tokenOK(s, e.System2, e.Code2)
		case store.KindQuantity:
			return quantityOK(s, e.System2, e.Code2, e.Code2, e.NumLow, e.NumHigh, e.Code2, e.NumLow, e.NumHigh)
		case store.KindDate:
			return dateOK(s, int64(e.NumLow), int64(e.NumHigh))
		case store.KindString:
			return strings.HasPrefix(e.Code2, s.Text)
		}
	}
	return false
}

func tokenOK(v store.ClauseValue, system, code string) bool {
	switch {
	case v.AnySystem:
		return code == v.Code
	case v.Code == "":
		return system == v.System
	}
	return code == v.Code && system == v.System
}

func dateOK(v store.ClauseValue, lo, hi int64) bool {
	within := lo >= v.Low && hi <= v.High
	switch v.Prefix {
	case "ne":
		return !within
	case "gt":
		return hi > v.High
	case "lt":
		return lo < v.Low
	case "ge":
		return hi > v.High || within
	case "le":
		return lo < v.Low || within
	case "sa":
		return lo > v.High
	case "eb":
		return hi < v.Low
	case "ap":
		d := max((v.High-v.Low)/10, 86_400_000)
		return lo <= v.High+d && hi >= v.Low-d
	}
	return within
}

func numOK(prefix string, n, slo, shi, lo, hi float64) bool {
	switch prefix {
	case "ne":
		return !(lo >= slo && hi < shi)
	case "gt":
		return hi > n
	case "lt":
		return lo < n
	case "ge":
		return hi >= n
	case "le":
		return lo <= n
	case "sa":
		return lo > n
	case "eb":
		return hi < n
	case "ap":
		d := n * 0.1
		if d < 0 {
			d = -d
		}
		return lo <= n+d && hi >= n-d
	}
	return lo >= slo && hi < shi
}

func quantityOK(v store.ClauseValue, system, code, unit string, lo, hi float64, ccode string, clo, chi float64) bool {
	if v.CanonCode != "" && ccode == v.CanonCode && numOK(v.Prefix, v.Canon, v.CanonLo, v.CanonHi, clo, chi) {
		return true
	}
	switch {
	case v.Code != "" && v.System != "":
		if system != v.System || code != v.Code {
			return false
		}
	case v.Code != "":
		if code != v.Code && unit != v.Code {
			return false
		}
	case v.System != "":
		if system != v.System {
			return false
		}
	}
	return numOK(v.Prefix, v.Num, v.NumLow, v.NumHigh, lo, hi)
}

// genQuery is one generated search.
type genQuery struct {
	typ, text, label string
}

// generate makes queries from the stored values: for each type and each of
// its parameters with values, queries of each form that kind takes.
func generate(bf *brute, rng *rand.Rand) []genQuery {
	var out []genQuery
	add := func(typ, label, name, value string) {
		if len(value) > 200 {
			return // long texts make unwieldy URLs; the store refuses > 2048
		}
		value = strings.ReplaceAll(value, ",", `\,`)
		out = append(out, genQuery{typ: typ, label: label, text: url.Values{name: {value}}.Encode()})
	}
	types := make([]string, 0, len(bf.byType))
	for t := range bf.byType {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, typ := range types {
		rs := bf.byType[typ]
		// Parameters with values on this type, and one sample entry each.
		samples := map[string][]store.IndexEntry{}
		for _, r := range rs {
			for _, e := range r.entries {
				k := e.Param + "\x00" + string(e.Kind)
				if len(samples[k]) < 8 {
					samples[k] = append(samples[k], e)
				}
			}
		}
		keys := make([]string, 0, len(samples))
		for k := range samples {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if len(rs) > 0 {
			add(typ, "_id", "_id", rs[rng.IntN(len(rs))].id)
			// _text and _content: two words of a narrative.
			r := rs[rng.IntN(len(rs))]
			var words []string
			for _, e := range r.entries {
				if e.Param == "_text" {
					words = append(words, e.Text)
				}
			}
			if len(words) > 0 {
				w := words[rng.IntN(len(words))] + " " + words[rng.IntN(len(words))]
				add(typ, "_text", "_text", w)
				add(typ, "_content", "_content", w)
			}
		}
		for _, k := range keys {
			es := samples[k]
			e := es[rng.IntN(len(es))]
			p := e.Param
			if p == "_text" {
				continue // the narrative words; _text queries are made above
			}
			if e.Kind == store.KindToken && e.Code == "" || e.Kind == store.KindString && strings.TrimSpace(e.Text) == "" {
				continue
			}
			switch e.Kind {
			case store.KindToken:
				if strings.HasPrefix(e.System, "of-type:") {
					add(typ, "token:of-type", p+":of-type", strings.TrimPrefix(e.System, "of-type:")+"|"+e.Code)
					continue
				}
				if pk, _ := registryKind(typ, p); pk == store.KindReference {
					add(typ, "reference:identifier", p+":identifier", e.System+"|"+e.Code)
					continue
				}
				add(typ, "token", p, e.Code)
				add(typ, "token system|code", p, e.System+"|"+e.Code)
				if e.System != "" {
					add(typ, "token system|", p, e.System+"|")
				}
				add(typ, "token:not", p+":not", e.Code)
				add(typ, "token:missing", p+":missing", []string{"true", "false"}[rng.IntN(2)])
				if vs := valueSetWith(e.System, e.Code); vs != "" {
					add(typ, "token:in", p+":in", vs)
					add(typ, "token:not-in", p+":not-in", vs)
				}
				if len(es) > 1 {
					other := es[(rng.IntN(len(es)-1)+1+slices.Index(es, e))%len(es)].Code
					esc := func(s string) string { return strings.ReplaceAll(s, ",", `\,`) }
					out = append(out, genQuery{typ: typ, label: "token OR", text: url.Values{p: {esc(e.Code) + "," + esc(other)}}.Encode()})
				}
			case store.KindString:
				if pk, _ := registryKind(typ, p); pk == store.KindToken {
					add(typ, "token:text", p+":text", prefix(e.Text, rng))
					continue
				}
				add(typ, "string", p, prefix(e.Text, rng))
				add(typ, "string:exact", p+":exact", e.Code)
				if len(e.Text) > 3 {
					add(typ, "string:contains", p+":contains", e.Text[1:len(e.Text)-1])
				}
				add(typ, "string:missing", p+":missing", "false")
			case store.KindReference:
				ref := e.RefID
				if e.RefType != "" {
					ref = e.RefType + "/" + e.RefID
				}
				add(typ, "reference", p, ref)
				add(typ, "reference id", p, e.RefID)
				if e.RefType != "" && fhir.R4().IsResourceType(e.RefType) {
					add(typ, "reference:[type]", p+":"+e.RefType, e.RefID)
					if t := bf.byRef[e.RefType+"/"+e.RefID]; t != nil {
						// Chain: a value of the target's own parameters.
						for _, te := range t.entries {
							if te.Kind == store.KindToken && !strings.HasPrefix(te.System, "of-type:") {
								if pk, _ := registryKind(t.typ, te.Param); pk == store.KindToken {
									add(typ, "chain", p+":"+t.typ+"."+te.Param, te.Code)
									break
								}
							}
						}
						// Reverse chain, from the target's point of view.
						if es2 := tokenOf(rs, e); es2 != nil {
							add(t.typ, "_has", "_has:"+typ+":"+p+":"+es2.Param, es2.Code)
						}
					}
				}
				add(typ, "reference:missing", p+":missing", []string{"true", "false"}[rng.IntN(2)])
			case store.KindDate:
				at := e.Low
				if at == math.MinInt64 {
					at = e.High
				}
				if at == math.MaxInt64 {
					continue
				}
				d := time.UnixMilli(at).UTC()
				for _, pf := range []string{"", "lt", "gt", "ge", "le", "sa", "eb", "ne", "ap"} {
					v := d.Format([]string{"2006", "2006-01", "2006-01-02", "2006-01-02T15:04:05Z"}[rng.IntN(4)])
					add(typ, "date "+pf, p, pf+v)
				}
			case store.KindURI:
				add(typ, "uri", p, e.Text)
				if i := strings.LastIndexByte(e.Text, '/'); i > 8 {
					add(typ, "uri:below", p+":below", e.Text[:i])
				}
				add(typ, "uri:above", p+":above", e.Text+"/sub")
			case store.KindNumber:
				for _, pf := range []string{"", "gt", "lt", "ge", "le", "ne", "ap"} {
					add(typ, "number "+pf, p, pf+strconv.FormatFloat(e.NumLow, 'f', -1, 64))
				}
			case store.KindQuantity:
				n := strconv.FormatFloat(e.NumLow, 'f', -1, 64)
				add(typ, "quantity", p, n)
				add(typ, "quantity gt", p, "gt"+n)
				add(typ, "quantity le", p, "le"+n)
				if e.Code != "" {
					add(typ, "quantity|system|code", p, n+"|"+e.System+"|"+e.Code)
					add(typ, "quantity||code", p, "ge"+n+"||"+e.Code)
				}
			case store.KindComposite:
				first := e.Code
				if e.System != "" {
					first = e.System + "|" + e.Code
				}
				second := e.Code2
				pk, comps := registryKind(typ, p)
				_ = pk
				switch comps[1] {
				case store.KindQuantity:
					second = strconv.FormatFloat(e.NumLow, 'f', -1, 64)
					if e.Code2 != "" {
						second += "|" + e.System2 + "|" + e.Code2
					}
				case store.KindDate:
					second = "ge" + time.UnixMilli(int64(e.NumLow)).UTC().Format("2006-01-02")
				case store.KindToken:
					if e.System2 != "" {
						second = e.System2 + "|" + e.Code2
					}
				}
				if first != "" && second != "" {
					add(typ, "composite", p, first+"$"+second)
				}
			}
		}
	}
	return out
}

// tokenOf finds a token value of the resource that has reference entry e.
func tokenOf(rs []*bfRes, e store.IndexEntry) *store.IndexEntry {
	for _, r := range rs {
		if !slices.Contains(r.entries, e) {
			continue
		}
		for i := range r.entries {
			if x := &r.entries[i]; x.Kind == store.KindToken && !strings.HasPrefix(x.System, "of-type:") {
				if pk, _ := registryKind(r.typ, x.Param); pk == store.KindToken {
					return x
				}
			}
		}
	}
	return nil
}

func registryKind(typ, code string) (store.ParamKind, [2]store.ParamKind) {
	info, ok := reg.ParamInfo(typ, code)
	if !ok {
		return "", [2]store.ParamKind{}
	}
	return info.Kind, info.Components
}

// valueSetWith names an R4 value set of at most 200 codes that has the
// code, "" if none.
func valueSetWith(system, code string) string {
	for _, url := range []string{
		"http://hl7.org/fhir/ValueSet/administrative-gender", "http://hl7.org/fhir/ValueSet/observation-status",
		"http://hl7.org/fhir/ValueSet/encounter-status", "http://hl7.org/fhir/ValueSet/condition-clinical",
		"http://hl7.org/fhir/ValueSet/request-status", "http://hl7.org/fhir/ValueSet/publication-status",
		"http://hl7.org/fhir/ValueSet/identifier-use", "http://hl7.org/fhir/ValueSet/name-use",
	} {
		codes, _ := reg.ValueSet(url)
		if slices.Contains(codes, [2]string{system, code}) {
			return url
		}
	}
	return ""
}

func prefix(s string, rng *rand.Rand) string {
	if len(s) <= 2 {
		return s
	}
	n := 2 + rng.IntN(len(s)-1)
	for n < len(s) && s[n]&0xC0 == 0x80 { // do not cut a UTF-8 sequence
		n++
	}
	return s[:n]
}
