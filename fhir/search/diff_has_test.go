package search_test

import (
	"cmp"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/custodian-him/custodian/store"
)

// hasQueries makes reverse-chain queries beyond generate's one per
// reference: for each way resources of one type refer to another (a
// referrer type and reference parameter), the referrers' most common
// token value (a common code: many referrers, many targets), a rarer one,
// both ORed, the common one with a token of the target itself ANDed, the
// common one negated (:not), and nested under a _has whose referrers refer
// to these referrers.
func hasQueries(bf *brute) []genQuery {
	// refKey is a way of referring: referrer type, parameter, target type.
	type refKey struct{ from, param, to string }
	type tokenCount struct {
		param, value string
		n            int
	}
	tokens := map[refKey]map[[2]string]int{}
	for _, from := range slices.Sorted(maps.Keys(bf.byType)) {
		for _, r := range bf.byType[from] {
			var refs []refKey
			for _, e := range r.entries {
				if e.Kind == store.KindReference && e.RefType != "" && bf.byRef[e.RefType+"/"+e.RefID] != nil {
					if k := (refKey{from, e.Param, e.RefType}); !slices.Contains(refs, k) {
						refs = append(refs, k)
					}
				}
			}
			for _, k := range refs {
				if tokens[k] == nil {
					tokens[k] = map[[2]string]int{}
				}
				seen := map[[2]string]bool{}
				for _, e := range r.entries {
					if e.Kind != store.KindToken || e.Code == "" || strings.HasPrefix(e.System, "of-type:") {
						continue
					}
					if pk, _ := registryKind(from, e.Param); pk != store.KindToken {
						continue
					}
					v := [2]string{e.Param, e.System + "|" + e.Code}
					if !seen[v] {
						seen[v] = true
						tokens[k][v]++
					}
				}
			}
		}
	}
	ranked := func(k refKey) []tokenCount {
		var out []tokenCount
		for v, n := range tokens[k] {
			out = append(out, tokenCount{v[0], v[1], n})
		}
		slices.SortFunc(out, func(a, b tokenCount) int {
			return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.param, b.param), cmp.Compare(a.value, b.value))
		})
		return out
	}
	keys := slices.SortedFunc(maps.Keys(tokens), func(a, b refKey) int {
		return cmp.Or(cmp.Compare(a.from, b.from), cmp.Compare(a.param, b.param), cmp.Compare(a.to, b.to))
	})
	// Every patient-facing way of referring, and every fifth other one
	// (all of them would make thousands of queries).
	var some []refKey
	for i, k := range keys {
		if k.to == "Patient" || k.to == "Encounter" || i%5 == 0 {
			some = append(some, k)
		}
	}
	var out []genQuery
	add := func(typ, label string, v url.Values) {
		out = append(out, genQuery{typ: typ, label: label, text: v.Encode()})
	}
	esc := func(s string) string { return strings.ReplaceAll(s, ",", `\,`) }
	// A token of the target type, to AND with the _has.
	targetToken := func(typ string) (string, string) {
		for _, r := range bf.byType[typ] {
			for _, e := range r.entries {
				if e.Kind == store.KindToken && e.Code != "" && !strings.HasPrefix(e.System, "of-type:") {
					if pk, _ := registryKind(typ, e.Param); pk == store.KindToken {
						return e.Param, e.Code
					}
				}
			}
		}
		return "", ""
	}
	for _, k := range some {
		rk := ranked(k)
		if len(rk) == 0 {
			continue
		}
		name := func(t tokenCount) string { return "_has:" + k.from + ":" + k.param + ":" + t.param }
		common := rk[0]
		add(k.to, "_has common", url.Values{name(common): {esc(common.value)}})
		add(k.to, "_has:not", url.Values{name(common) + ":not": {esc(common.value)}})
		if len(rk) > 1 {
			rare := rk[len(rk)-1]
			add(k.to, "_has rare", url.Values{name(rare): {esc(rare.value)}})
			// ORed values of one parameter.
			for _, t := range rk[1:] {
				if t.param == common.param {
					add(k.to, "_has OR", url.Values{name(common): {esc(common.value) + "," + esc(t.value)}})
					break
				}
			}
		}
		if p, v := targetToken(k.to); p != "" {
			add(k.to, "_has AND", url.Values{name(common): {esc(common.value)}, p: {esc(v)}})
		}
		// Nested: targets of referrers that are themselves referred to.
		for _, k2 := range keys {
			if k2.to != k.from || len(tokens[k2]) == 0 {
				continue
			}
			inner := ranked(k2)[0]
			add(k.to, "_has nested", url.Values{"_has:" + k.from + ":" + k.param + ":_has:" + k2.from + ":" + k2.param + ":" + inner.param: {esc(inner.value)}})
			break
		}
	}
	return out
}
