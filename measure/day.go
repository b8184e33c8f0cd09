package measure

import (
	"fmt"
	"time"

	"github.com/custodian-him/custodian"
)

// Day is a calendar date as the record wrote it (the local date of a
// dateTime, before any time-zone conversion), counted in days from
// 1970-01-01. Zero means unknown; dates before 1970 are negative, which
// is why unknown is kept apart by its own flag where it matters.
type Day int32

// noDay marks an absent date.
const noDay Day = -1 << 30

// parseDay reads the YYYY-MM-DD at the start of a FHIR date or dateTime
// (a year or year-month alone becomes its first day).
func parseDay(s string) Day {
	if len(s) < 4 {
		return noDay
	}
	y, ok := digits(s[0:4])
	if !ok {
		return noDay
	}
	m, d := 1, 1
	if len(s) >= 7 && s[4] == '-' {
		if m, ok = digits(s[5:7]); !ok || m < 1 || m > 12 {
			return noDay
		}
		if len(s) >= 10 && s[7] == '-' {
			if d, ok = digits(s[8:10]); !ok || d < 1 || d > 31 {
				return noDay
			}
		}
	}
	return civilDay(y, m, d)
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// civilDay counts days from 1970-01-01 to y-m-d (proleptic Gregorian).
func civilDay(y, m, d int) Day {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return Day(era*146097 + doe - 719468)
}

// Known reports whether the day is a date (not absent).
func (d Day) Known() bool { return d != noDay }

// ParseDay reads the date at the start of a FHIR date or dateTime; the
// result is not Known if there is none.
func ParseDay(s string) Day { return parseDay(s) }

// Date returns the day as a time at midnight UTC.
func (d Day) Date() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String writes the day as YYYY-MM-DD.
func (d Day) String() string {
	if d == noDay {
		return ""
	}
	return d.Date().Format("2006-01-02")
}

// Month is the day's year and month, YYYY-MM.
func (d Day) Month() string {
	if d == noDay {
		return ""
	}
	return d.Date().Format("2006-01")
}

// yearsBetween is the age in whole years on day at of someone born on
// birth.
func yearsBetween(birth, at Day) int {
	b, a := birth.Date(), at.Date()
	years := a.Year() - b.Year()
	if a.Month() < b.Month() || (a.Month() == b.Month() && a.Day() < b.Day()) {
		years--
	}
	return years
}

// Period is a closed range of days.
type Period struct {
	Start, End Day
}

// ParsePeriod reads "FROM/TO" (YYYY-MM-DD each, both included).
func ParsePeriod(s string) (Period, error) {
	from, to, ok := cutSlash(s)
	if !ok {
		return Period{}, custodian.Errorf(custodian.EINVALID, "the period %q must be FROM/TO, both YYYY-MM-DD", s)
	}
	return NewPeriod(from, to)
}

// NewPeriod makes the period from start to end (YYYY-MM-DD, or a longer
// FHIR dateTime whose date is used), both included.
func NewPeriod(start, end string) (Period, error) {
	p := Period{Start: parseDay(start), End: parseDay(end)}
	if p.Start == noDay || len(start) < 10 {
		return Period{}, custodian.Errorf(custodian.EINVALID, "the period start %q is not a date (YYYY-MM-DD)", start)
	}
	if p.End == noDay || len(end) < 10 {
		return Period{}, custodian.Errorf(custodian.EINVALID, "the period end %q is not a date (YYYY-MM-DD)", end)
	}
	if p.End < p.Start {
		return Period{}, custodian.Errorf(custodian.EINVALID, "the period ends (%s) before it starts (%s)", end, start)
	}
	return p, nil
}

func cutSlash(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return "", "", false
}

// Contains reports whether d falls in the period.
func (p Period) Contains(d Day) bool { return d != noDay && d >= p.Start && d <= p.End }

// String writes the period as FROM/TO.
func (p Period) String() string { return fmt.Sprintf("%s/%s", p.Start, p.End) }

// instant reads a FHIR dateTime as Unix seconds; a bare date (or a
// malformed time) counts from midnight UTC of its day, and nothing at all
// is 0.
func instant(s string) int64 {
	if len(s) > 10 {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t.Unix()
		}
	}
	if d := parseDay(s); d != noDay {
		return int64(d) * 86400
	}
	return 0
}
