package mpi

import "strconv"

// Blocking keys. Two records are compared only if they share a key; each
// key is built so that one kind of error (a typo in a name, a transposed
// birth date, a move, a married name, a missing identifier) leaves at
// least one other key intact. Keys are 64-bit FNV-1a hashes of a kind
// letter and the parts.

// DefaultMaxBlock is the largest block compared: a key shared by more
// records than this says too little (a placeholder value, a very common
// name) and comparing all its pairs would cost too much.
const DefaultMaxBlock = 500

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

type keyHash uint64

func newKey(kind byte) keyHash { return (fnvOffset ^ keyHash(kind)) * fnvPrime }

func (h keyHash) add(s string) keyHash {
	for i := 0; i < len(s); i++ {
		h = (h ^ keyHash(s[i])) * fnvPrime
	}
	return (h ^ 0xFF) * fnvPrime // separator
}

func (h keyHash) addInt(n int) keyHash { return h.add(strconv.Itoa(n)) }

// sorted2 returns a and b in order, so that a swap of given and family
// name gives the same key.
func sorted2(a, b string) (string, string) {
	if a > b {
		return b, a
	}
	return a, b
}

// blockKeys appends the blocking keys of e to out.
func blockKeys(e *entry, out []uint64) []uint64 {
	put := func(h keyHash) { out = append(out, uint64(h)) }
	if e.ssn != "" {
		put(newKey('S').add(e.ssn))
		// The identifier with one digit left out, each digit in turn, with
		// the house number: a mistyped or transposed digit still shares a
		// key. (Alone these keys would pair too many strangers where
		// identifiers are dense.)
		if len(e.ssn) >= 6 && len(e.ssn) <= 12 && e.number != "" {
			for i := range len(e.ssn) {
				put(newKey('s').add(e.ssn[:i]).add(e.ssn[i+1:]).add(e.number))
			}
		}
	}
	for _, p := range e.phones {
		put(newKey('P').add(p))
	}
	if e.email != "" {
		put(newKey('E').add(e.email))
	}
	if e.dob != "" {
		if e.familyDM != "" {
			put(newKey('D').add(e.dob).add(e.familyDM))
		}
		if e.givenDM != "" {
			put(newKey('G').add(e.dob).add(e.givenDM))
		}
		if e.number != "" {
			put(newKey('H').add(e.dob).add(e.number))
		}
		if e.first != "" && e.family != "" {
			// Both names mistyped, but not their first letters.
			put(newKey('B').add(e.dob).add(e.first[:1]).add(e.family[:1]))
		}
		if e.postcode != "" {
			lo, hi := min(e.month, e.day), max(e.month, e.day)
			put(newKey('R').addInt(e.year).addInt(lo).addInt(hi).add(e.postcode))
		}
	}
	if e.givenDM != "" && e.familyDM != "" {
		a, b := sorted2(e.givenDM, e.familyDM)
		if e.year != 0 {
			put(newKey('N').add(a).add(b).addInt(e.year))
		}
		if e.month != 0 {
			// The year mistyped.
			put(newKey('Q').add(a).add(b).addInt(e.month))
		}
		if e.postcode != "" {
			put(newKey('A').add(a).add(b).add(e.postcode))
		}
	}
	if e.year != 0 && e.postcode != "" {
		if e.givenDM != "" {
			put(newKey('M').add(e.givenDM).addInt(e.year).add(e.postcode))
		}
		if e.familyDM != "" {
			put(newKey('F').add(e.familyDM).addInt(e.year).add(e.postcode))
		}
	}
	if e.number != "" && len(e.street) > 0 && e.postcode != "" {
		put(newKey('T').add(e.number).add(e.street[0]).add(e.postcode))
	}
	return out
}
