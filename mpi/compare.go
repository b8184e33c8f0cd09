package mpi

// String metrics on folded (ASCII) strings. They work on bytes and
// allocate nothing for strings up to 64 bytes, the common case for names
// and address lines; longer strings are cut to 64 bytes.

const maxMetricLen = 64

// JaroWinkler returns the Jaro-Winkler similarity of a and b in [0, 1]:
// 1 for equal strings, 0 when they share no character; a common prefix
// (up to 4 bytes) raises it (scale 0.1).
func JaroWinkler(a, b string) float64 {
	if a == b {
		if a == "" {
			return 0
		}
		return 1
	}
	if len(a) > maxMetricLen {
		a = a[:maxMetricLen]
	}
	if len(b) > maxMetricLen {
		b = b[:maxMetricLen]
	}
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	window := len(b)/2 - 1
	if window < 0 {
		window = 0
	}
	var ma, mb uint64 // matched flags
	m := 0
	for i := 0; i < len(a); i++ {
		lo, hi := max(0, i-window), min(len(b), i+window+1)
		for j := lo; j < hi; j++ {
			if mb&(1<<j) == 0 && a[i] == b[j] {
				ma |= 1 << i
				mb |= 1 << j
				m++
				break
			}
		}
	}
	if m == 0 {
		return 0
	}
	t, j := 0, 0
	for i := 0; i < len(a); i++ {
		if ma&(1<<i) == 0 {
			continue
		}
		for mb&(1<<j) == 0 {
			j++
		}
		if a[i] != b[j] {
			t++
		}
		j++
	}
	fm := float64(m)
	jaro := (fm/float64(len(a)) + fm/float64(len(b)) + (fm-float64(t/2))/fm) / 3
	p := 0
	for p < 4 && p < len(a) && a[p] == b[p] {
		p++
	}
	return jaro + float64(p)*0.1*(1-jaro)
}

// DamerauLevenshtein returns the optimal-string-alignment distance between
// a and b: the fewest insertions, deletions, substitutions and
// transpositions of adjacent bytes that turn one into the other (no
// substring edited twice).
func DamerauLevenshtein(a, b string) int {
	if a == b {
		return 0
	}
	if len(a) > maxMetricLen {
		a = a[:maxMetricLen]
	}
	if len(b) > maxMetricLen {
		b = b[:maxMetricLen]
	}
	if len(a) == 0 {
		return len(b)
	}
	if len(b) == 0 {
		return len(a)
	}
	var rows [3][maxMetricLen + 1]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
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
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// tokenSetSimilarity compares two token lists as sets, tolerant of typos:
// each token of the shorter list is paired with its most similar token
// (Jaro-Winkler) in the other, and the mean of those similarities is
// returned, scaled down when the lists differ in length.
func tokenSetSimilarity(a, b []string) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	var sum float64
	for _, x := range a {
		best := 0.0
		for _, y := range b {
			if s := JaroWinkler(x, y); s > best {
				best = s
				if s == 1 {
					break
				}
			}
		}
		sum += best
	}
	mean := sum / float64(len(a))
	// Extra tokens on one side (a unit, a complex name) cost a little.
	return mean * (0.9 + 0.1*float64(len(a))/float64(len(b)))
}

// withinOneEdit reports whether a and b are at most one insertion,
// deletion, substitution or adjacent transposition apart: the same as
// DamerauLevenshtein(a, b) <= 1, in linear time.
func withinOneEdit(a, b string) bool {
	if a == b {
		return true
	}
	la, lb := len(a), len(b)
	if la-lb > 1 || lb-la > 1 {
		return false
	}
	i := 0
	for i < la && i < lb && a[i] == b[i] {
		i++
	}
	switch {
	case la == lb:
		if a[i+1:] == b[i+1:] {
			return true // substitution
		}
		return i+1 < la && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:] // transposition
	case la > lb:
		return a[i+1:] == b[i:]
	default:
		return a[i:] == b[i+1:]
	}
}
