package codeset

import (
	"sort"
	"strings"
)

// fuzzy returns the vocabulary tokens nearest t (edit distance 1 for words
// up to 5 letters, 2 for longer; transpositions count once), at most 4.
func (ix *searchIndex) fuzzy(t string) []int32 {
	if len(t) < 4 {
		return nil
	}
	maxD := 1
	if len(t) > 5 {
		maxD = 2
	}
	best := maxD
	var out []int32
	for l := len(t) - maxD; l <= len(t)+maxD; l++ {
		if l < 0 || l >= len(ix.byLen) {
			continue
		}
		for _, id := range ix.byLen[l] {
			d := editDistance(t, ix.words[id], best+1) // best+1: "more than best"
			if d > best {
				continue
			}
			if d < best {
				best, out = d, out[:0]
			}
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(ix.post[out[i]]) > len(ix.post[out[j]]) })
	if len(out) > 4 {
		out = out[:4]
	}
	return out
}

// related returns the words that share a long beginning with t (7
// letters, and all but the last 3 of the shorter word), at most 4.
func (ix *searchIndex) related(t string) []int32 {
	const shared = 7
	if len(t) < shared+1 {
		return nil
	}
	stemOf := t[:shared]
	i := sort.Search(len(ix.sorted), func(i int) bool { return ix.words[ix.sorted[i]] >= stemOf })
	var out []int32
	for ; i < len(ix.sorted) && strings.HasPrefix(ix.words[ix.sorted[i]], stemOf) && len(out) < 4; i++ {
		w := ix.words[ix.sorted[i]]
		n := min(len(w), len(t)) - 3
		if w != t && len(w) > shared && w[:max(n, shared)] == t[:max(n, shared)] {
			out = append(out, ix.sorted[i])
		}
	}
	return out
}

// prefixed returns up to n vocabulary tokens that start with t, most
// frequent first.
func (ix *searchIndex) prefixed(t string, n int) []int32 {
	var out []int32
	for l := len(t) + 1; l < len(ix.byLen); l++ {
		for _, id := range ix.byLen[l] {
			if strings.HasPrefix(ix.words[id], t) {
				out = append(out, id)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(ix.post[out[i]]) > len(ix.post[out[j]]) })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// editDistance is the optimal-string-alignment distance between a and b,
// or limit if it is limit or more.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	var rows [3][32]int
	if len(b) >= 31 || len(a) >= 31 {
		return limit
	}
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin >= limit {
			return limit
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit)
}
