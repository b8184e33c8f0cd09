package synth

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed data/given-male.txt
var givenMaleTxt []byte

//go:embed data/given-female.txt
var givenFemaleTxt []byte

//go:embed data/surnames.txt
var surnamesTxt []byte

//go:embed data/nicknames.tsv
var nicknamesTxt []byte

//go:embed data/streets.txt
var streetsTxt []byte

//go:embed data/cities.tsv
var citiesTxt []byte

// city is a place patients live, with its share of the hospital's patients.
type city struct {
	name, state, zip3 string
	weight            int
}

// nameData holds the embedded name and address lists, parsed once.
type nameData struct {
	male, female, surnames, streets []string
	nicknames                       map[string][]string
	cities                          []city
	cityTotal                       int
}

var loadNames = sync.OnceValue(func() *nameData {
	d := &nameData{
		male:      lines(givenMaleTxt),
		female:    lines(givenFemaleTxt),
		surnames:  dedupe(lines(surnamesTxt)),
		streets:   lines(streetsTxt),
		nicknames: map[string][]string{},
	}
	for _, l := range lines(nicknamesTxt) {
		formal, nicks, ok := strings.Cut(l, "\t")
		if ok {
			d.nicknames[formal] = strings.Split(nicks, ",")
		}
	}
	for _, l := range lines(citiesTxt) {
		f := strings.Split(l, "\t")
		w, _ := strconv.Atoi(f[3])
		d.cities = append(d.cities, city{f[0], f[1], f[2], w})
		d.cityTotal += w
	}
	return d
})

// lines returns the non-empty lines of b that are not comments.
func lines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// demo is a person's registration data: what a registrar types in.
type demo struct {
	sex                   byte // 'M' or 'F'
	given, middle, family string
	suffix                string
	birth                 time.Time
	line, city, state     string
	zip                   string
	phone, mobile, email  string
	ssn                   string // "" when not given
	hasSSN                bool   // whether the person gives an SSN (newDemo decides, ssnFor makes it)
	marital               string // v3 MaritalStatus code
}

func (d *demo) gender() string {
	if d.sex == 'F' {
		return "female"
	}
	return "male"
}

// ageBands is the age distribution of the hospital's population
// (upper bound exclusive, cumulative weight).
var ageBands = []struct{ lo, hi, w int }{
	{0, 5, 6}, {5, 18, 12}, {18, 35, 19}, {35, 50, 18}, {50, 65, 20}, {65, 80, 17}, {80, 100, 8},
}

// newDemo makes a person's registration data from r, aged as of asOf.
func newDemo(r *rand.Rand, asOf time.Time) demo {
	nd := loadNames()
	var d demo
	if r.IntN(100) < 51 {
		d.sex = 'F'
	} else {
		d.sex = 'M'
	}
	d.given = pickGiven(r, d.sex)
	if r.IntN(100) < 60 {
		d.middle = pickGiven(r, d.sex)
		if d.middle == d.given {
			d.middle = ""
		}
	}
	d.family = nd.surnames[zipf(r, len(nd.surnames))]
	total := 0
	for _, b := range ageBands {
		total += b.w
	}
	x := r.IntN(total)
	age := 0
	for _, b := range ageBands {
		if x < b.w {
			age = b.lo + r.IntN(b.hi-b.lo)
			break
		}
		x -= b.w
	}
	d.birth = asOf.AddDate(-age-1, 0, 0).AddDate(0, 0, 1+r.IntN(365))
	d.birth = time.Date(d.birth.Year(), d.birth.Month(), d.birth.Day(), 0, 0, 0, 0, time.UTC)
	d.newAddress(r)
	d.phone = randomPhone(r)
	if r.IntN(100) < 55 {
		d.mobile = randomPhone(r)
	}
	if age >= 16 && r.IntN(100) < 45 {
		d.email = newEmail(r, d.given, d.family)
	}
	// The SSN itself is set by the caller (ssnFor): unique per person.
	d.hasSSN = r.IntN(100) < 92
	switch {
	case age < 18:
		d.marital = "U"
	case r.IntN(100) < 50:
		d.marital = "M"
	case age > 70 && r.IntN(100) < 40:
		d.marital = "W"
	case r.IntN(100) < 25:
		d.marital = "D"
	default:
		d.marital = "S"
	}
	return d
}

// newAddress moves the person to a random address.
func (d *demo) newAddress(r *rand.Rand) {
	nd := loadNames()
	d.line = fmt.Sprintf("%d %s", 100+r.IntN(9800), nd.streets[r.IntN(len(nd.streets))])
	if r.IntN(100) < 12 {
		d.line += fmt.Sprintf(" Apt %d", 1+r.IntN(40))
	}
	x := r.IntN(nd.cityTotal)
	for _, c := range nd.cities {
		if x < c.weight {
			d.city, d.state = c.name, c.state
			d.zip = fmt.Sprintf("%s%02d", c.zip3, 1+r.IntN(40))
			return
		}
		x -= c.weight
	}
}

func pickGiven(r *rand.Rand, sex byte) string {
	nd := loadNames()
	l := nd.male
	if sex == 'F' {
		l = nd.female
	}
	return l[zipf(r, len(l))]
}

// zipf picks an index in [0, n) with a long-tailed skew toward the
// front: common names are common.
func zipf(r *rand.Rand, n int) int {
	f := r.Float64()
	return int(float64(n) * f * f)
}

// randomPhone is a clearly fictitious number: area code 555 is not
// assigned in the North American Numbering Plan.
func randomPhone(r *rand.Rand) string {
	return fmt.Sprintf("555-%03d-%04d", 200+r.IntN(800), r.IntN(10000))
}

// Duplicate variations: how a second registration of the same person
// differs from the first.
const (
	VarNickname    = "nickname"       // a nickname for the given name (Robert -> Bob)
	VarTypoGiven   = "typo-given"     // a keying error in the given name
	VarTypoFamily  = "typo-family"    // a keying error in the family name
	VarSwapDayMon  = "swap-day-month" // day and month of birth transposed
	VarBirthTypo   = "birth-typo"     // one digit of the birth date mistyped
	VarMoved       = "moved"          // a new address (and home phone)
	VarNoSSN       = "no-ssn"         // SSN not given at the second registration
	VarMarriedName = "married-name"   // a new family name after marriage
	VarNoMiddle    = "no-middle"      // middle name dropped
	VarNewPhone    = "new-phone"      // a different phone number
)

// Non-duplicate traps: different people whose records look alike.
const (
	TrapTwin         = "twin"          // same family name, birth date, address and phone
	TrapJuniorSenior = "junior-senior" // same name, address and phone; births decades apart
	TrapNamesake     = "namesake"      // same given and family name only
	TrapSpouse       = "spouse"        // a household: same address and home phone, opposite sex, similar age
	TrapParentChild  = "parent-child"  // a household: same address and home phone, usually the family name, a generation apart
)

// duplicateOf returns a second registration of d with 1–3 variations,
// and the variations applied.
func duplicateOf(r *rand.Rand, d demo, asOf time.Time) (demo, []string) {
	nd := loadNames()
	dup := d
	var vars []string
	want := 1 + r.IntN(3)
	for tries := 0; len(vars) < want && tries < 20; tries++ {
		var v string
		switch x := r.IntN(100); {
		case x < 16:
			v = VarNickname
		case x < 30:
			v = VarTypoGiven
		case x < 44:
			v = VarTypoFamily
		case x < 54:
			v = VarSwapDayMon
		case x < 60:
			v = VarBirthTypo
		case x < 74:
			v = VarMoved
		case x < 84:
			v = VarNoSSN
		case x < 89:
			v = VarMarriedName
		case x < 95:
			v = VarNoMiddle
		default:
			v = VarNewPhone
		}
		if contains(vars, v) {
			continue
		}
		switch v {
		case VarNickname:
			n := nd.nicknames[dup.given]
			if len(n) == 0 {
				continue
			}
			dup.given = n[r.IntN(len(n))]
		case VarTypoGiven:
			dup.given = typo(r, dup.given)
		case VarTypoFamily:
			dup.family = typo(r, dup.family)
		case VarSwapDayMon:
			day, mon := dup.birth.Day(), int(dup.birth.Month())
			if day > 12 || day == mon {
				continue
			}
			dup.birth = time.Date(dup.birth.Year(), time.Month(day), mon, 0, 0, 0, 0, time.UTC)
		case VarBirthTypo:
			b := dup.birth
			switch r.IntN(3) {
			case 0:
				if b.Day() > 28 || b.Day() < 2 {
					continue
				}
				b = b.AddDate(0, 0, []int{-1, 1}[r.IntN(2)])
			case 1:
				// Only the year changes: 29 February has no twin in the
				// year before or after, so it takes another variation.
				y := time.Date(b.Year()+[]int{-1, 1}[r.IntN(2)], b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
				if y.Month() != b.Month() {
					continue
				}
				b = y
			default:
				if b.Day() < 10 || b.Day() > 19 {
					continue
				}
				b = time.Date(b.Year(), b.Month(), b.Day()+10, 0, 0, 0, 0, time.UTC) // 1x -> 2x
			}
			if b.After(asOf) {
				continue
			}
			dup.birth = b
		case VarMoved:
			dup.newAddress(r)
			dup.phone = randomPhone(r)
		case VarNoSSN:
			if dup.ssn == "" {
				continue
			}
			dup.ssn = ""
		case VarMarriedName:
			if dup.sex != 'F' || asOf.Sub(dup.birth) < 20*365*24*time.Hour {
				continue
			}
			dup.family = nd.surnames[zipf(r, len(nd.surnames))]
			if dup.family == d.family {
				continue
			}
			dup.marital = "M"
		case VarNoMiddle:
			if dup.middle == "" {
				continue
			}
			dup.middle = ""
		case VarNewPhone:
			dup.phone = randomPhone(r)
			dup.mobile = ""
		}
		vars = append(vars, v)
	}
	if len(vars) == 0 { // nothing applied: at least a keying error
		dup.family = typo(r, dup.family)
		vars = append(vars, VarTypoFamily)
	}
	if r.IntN(100) < 50 {
		dup.email = ""
	}
	return dup, vars
}

// typo makes one keying error: a transposition, a substitution by a
// neighbouring key, a deletion or a doubled letter.
func typo(r *rand.Rand, s string) string {
	if len(s) < 3 {
		return s + "e"
	}
	b := []byte(s)
	i := 1 + r.IntN(len(b)-2)
	switch r.IntN(4) {
	case 0:
		b[i], b[i+1] = b[i+1], b[i]
		if b[i] == b[i+1] {
			b[i] = neighbour(b[i])
		}
	case 1:
		b[i] = neighbour(b[i])
	case 2:
		b = append(b[:i], b[i+1:]...)
	default:
		b = append(b[:i+1], b[i:]...)
	}
	return string(b)
}

// neighbour is a key next to c on a QWERTY keyboard.
func neighbour(c byte) byte {
	const rows = "qwertyuiopasdfghjklzxcvbnm"
	next := map[byte]string{'q': "wa", 'w': "qes", 'e': "wrd", 'r': "etf", 't': "ryg", 'y': "tuh", 'u': "yij", 'i': "uok", 'o': "ipl", 'p': "ol",
		'a': "qsz", 's': "adw", 'd': "sfe", 'f': "dgr", 'g': "fht", 'h': "gjy", 'j': "hku", 'k': "jli", 'l': "ko",
		'z': "xa", 'x': "zcs", 'c': "xvd", 'v': "cbf", 'b': "vng", 'n': "bmh", 'm': "nj"}
	lc := c | 0x20
	if n, ok := next[lc]; ok && strings.IndexByte(rows, lc) >= 0 {
		out := n[int(c)%len(n)]
		if c < 'a' {
			out &^= 0x20
		}
		return out
	}
	return c
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}
