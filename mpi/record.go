package mpi

import (
	"strconv"
	"strings"
)

// Record is what one registration says about a person. Every field may be
// empty; values are taken as typed (normalisation happens inside).
type Record struct {
	ID string
	// Given is the first name (further given names may follow, separated
	// by spaces); Middle the middle names when kept apart.
	Given, Middle, Family string
	// Suffix is a generational suffix (Jr., Sr., III); one found at the end
	// of Given or Family counts too.
	Suffix string
	// Sex is M/F, male/female or similar; anything else is unknown.
	Sex string
	// BirthDate is YYYY-MM-DD, YYYYMMDD, YYYY-MM or YYYY.
	BirthDate string
	// StreetNumber is the house number when kept apart from Address1.
	StreetNumber       string
	Address1, Address2 string
	City, Postcode     string
	State              string
	Phones             []string
	Email              string
	// SSN is a national identifier (US SSN, or another number a registrar
	// records for the person, such as FEBRL's soc_sec_id).
	SSN string
}

// entry is a normalised Record with its precomputed codes.
type entry struct {
	id                   string
	given, first, family string // given: all given names compacted; first: first given name
	middle               string // first middle name
	canon                string // formal name of first
	givenDM, familyDM    string
	givenDM2, familyDM2  string
	givenNY, familyNY    string
	suffix               string
	sex                  byte
	year, month, day     int    // 0: unknown
	dob                  string // YYYYMMDD digits when the date is complete
	number               string
	street               []string
	streetKey            string
	city, postcode       string
	state                string
	phones               []string
	email, ssn           string
}

// newEntry normalises r.
func newEntry(r *Record) entry {
	e := entry{id: r.ID}
	given, sx1 := normName(r.Given)
	family, sx2 := normName(r.Family)
	sx3, _ := normName(r.Suffix)
	e.suffix = nameSuffixes[compact(sx3)]
	if e.suffix == "" {
		e.suffix = sx1 + sx2
	}
	e.given = compact(given)
	e.first, _, _ = strings.Cut(given, " ")
	e.family = compact(family)
	middle, _ := normName(r.Middle)
	e.middle, _, _ = strings.Cut(middle, " ")
	if _, rest, ok := strings.Cut(given, " "); ok && e.middle == "" {
		e.middle, _, _ = strings.Cut(rest, " ")
	}
	e.canon = canonicalGiven(e.first)
	e.givenDM, e.givenDM2 = DoubleMetaphone(e.canon)
	e.familyDM, e.familyDM2 = DoubleMetaphone(e.family)
	e.givenNY, e.familyNY = NYSIIS(e.first), NYSIIS(e.family)
	e.sex = normSex(r.Sex)
	e.year, e.month, e.day = parseDate(r.BirthDate)
	if e.year > 0 && e.month > 0 && e.day > 0 {
		e.dob = strconv.Itoa(e.year*10000 + e.month*100 + e.day)
	}
	addr := normAddress(r.Address1 + " " + r.Address2)
	e.number = digits(r.StreetNumber)
	if e.number == "" && len(addr) > 0 && addr[0][0] >= '0' && addr[0][0] <= '9' {
		e.number = digits(addr[0])
		addr = addr[1:]
	}
	e.street = addr
	e.streetKey = strings.Join(addr, "")
	e.city = compact(fold(r.City))
	e.postcode = compact(fold(r.Postcode))
	e.state = compact(fold(r.State))
	for _, p := range r.Phones {
		if p = normPhone(p); p != "" {
			e.phones = append(e.phones, p)
		}
	}
	e.email = strings.ToLower(strings.TrimSpace(r.Email))
	e.ssn = normSSN(r.SSN)
	return e
}

// parseDate reads YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, YYYY-MM and YYYY
// (a FHIR date, a partial date, or FEBRL's digits). Components out of
// range are kept when the digits are there: a keying error is still
// evidence. It returns zeros for what it cannot read.
func parseDate(s string) (y, m, d int) {
	s = strings.TrimSpace(s)
	if t, _, ok := strings.Cut(s, "T"); ok {
		s = t
	}
	var parts []string
	if strings.ContainsAny(s, "-/") {
		parts = strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '/' })
	} else {
		switch len(s) {
		case 8:
			parts = []string{s[:4], s[4:6], s[6:]}
		case 6:
			parts = []string{s[:4], s[4:]}
		case 4:
			parts = []string{s}
		}
	}
	if len(parts) == 0 || len(parts[0]) != 4 {
		return 0, 0, 0
	}
	nums := [3]int{}
	for i := 0; i < len(parts) && i < 3; i++ {
		n, err := strconv.Atoi(parts[i])
		if err != nil || n < 0 {
			return nums[0], nums[1], nums[2]
		}
		nums[i] = n
	}
	if nums[0] < 1000 || nums[1] > 99 || nums[2] > 99 {
		return 0, 0, 0
	}
	return nums[0], nums[1], nums[2]
}
