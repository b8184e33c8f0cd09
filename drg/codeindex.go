package drg

// codeIndex maps ICD-10 codes to table rows. Codes (up to 7 letters and
// digits) are packed into a uint64 and kept in an open-addressing table, so
// a lookup hashes no string and usually touches one cache line.
type codeIndex struct {
	keys []uint64 // 0: empty
	rows []int32
	mask uint64
}

// codeKey packs a code of 1 to 7 characters [0-9A-Z] into 6 bits each.
func codeKey(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 7 {
		return 0, false
	}
	var k uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var v uint64
		switch {
		case c >= '0' && c <= '9':
			v = uint64(c-'0') + 1
		case c >= 'A' && c <= 'Z':
			v = uint64(c-'A') + 11
		default:
			return 0, false
		}
		k = k<<6 | v
	}
	return k, true
}

func newCodeIndex(n int) *codeIndex {
	size := 1
	for size < 2*n {
		size <<= 1
	}
	return &codeIndex{keys: make([]uint64, size), rows: make([]int32, size), mask: uint64(size - 1)}
}

func (x *codeIndex) slot(k uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> 20 & x.mask }

func (x *codeIndex) put(code string, row int32) bool {
	k, ok := codeKey(code)
	if !ok {
		return false
	}
	for i := x.slot(k); ; i = (i + 1) & x.mask {
		if x.keys[i] == 0 || x.keys[i] == k {
			x.keys[i], x.rows[i] = k, row
			return true
		}
	}
}

func (x *codeIndex) get(code string) (int32, bool) {
	k, ok := codeKey(code)
	if !ok {
		return -1, false
	}
	for i := x.slot(k); ; i = (i + 1) & x.mask {
		switch x.keys[i] {
		case k:
			return x.rows[i], true
		case 0:
			return -1, false
		}
	}
}
