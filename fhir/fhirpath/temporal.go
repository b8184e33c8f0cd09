package fhirpath

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TemporalKind says whether a [Temporal] is a Date, a DateTime or a Time.
type TemporalKind uint8

// The kinds of [Temporal] value.
const (
	KindDate TemporalKind = iota + 1
	KindDateTime
	KindTime
)

// Precision is the finest component a [Temporal] value carries.
type Precision uint8

// Precisions, coarsest first.
const (
	PrecisionYear Precision = iota + 1
	PrecisionMonth
	PrecisionDay
	PrecisionHour
	PrecisionMinute
	PrecisionSecond
	PrecisionMillisecond
)

// Temporal is a FHIRPath Date, DateTime or Time with the precision it was written with
// (FHIRPath § 2.1.20: "@2015-02" is a date known to the month only).
type Temporal struct {
	Kind      TemporalKind
	Precision Precision
	Year      int
	Month     int // 1-12
	Day       int
	Hour      int
	Minute    int
	Second    int
	Nano      int  // fraction of the second, in nanoseconds
	HasZone   bool // whether a time zone offset was given
	Zone      int  // offset east of UTC in seconds
}

// ParseTemporal parses a FHIR date, dateTime/instant or time string (without FHIRPath's
// leading '@'), e.g. "1974-12-25", "2013-05-15T19:32:52+01:00", "14:30:00".
func ParseTemporal(s string) (Temporal, error) {
	if len(s) >= 3 && s[2] == ':' || len(s) == 2 {
		return parseTime(s)
	}
	return parseDateTime(s)
}

func parseTemporalLiteral(kind tokenKind, s string) (Temporal, error) {
	switch kind {
	case tokTime:
		return parseTime(s[1:])
	case tokDateTime:
		t, err := parseDateTime(strings.TrimSuffix(s, "T"))
		t.Kind = KindDateTime
		return t, err
	}
	return parseDateTime(s)
}

func atoiN(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func parseDateTime(s string) (Temporal, error) {
	t := Temporal{Kind: KindDate}
	bad := func() (Temporal, error) { return Temporal{}, fmt.Errorf("invalid date/time %q", s) }
	date, rest, hasTime := strings.Cut(s, "T")
	parts := strings.Split(date, "-")
	if len(parts) > 3 || len(parts[0]) != 4 {
		return bad()
	}
	var ok bool
	if t.Year, ok = atoiN(parts[0]); !ok {
		return bad()
	}
	t.Precision = PrecisionYear
	if len(parts) > 1 {
		if t.Month, ok = atoiN(parts[1]); !ok || len(parts[1]) != 2 || t.Month < 1 || t.Month > 12 {
			return bad()
		}
		t.Precision = PrecisionMonth
	}
	if len(parts) > 2 {
		if t.Day, ok = atoiN(parts[2]); !ok || len(parts[2]) != 2 || t.Day < 1 || t.Day > daysIn(t.Year, t.Month) {
			return bad()
		}
		t.Precision = PrecisionDay
	}
	if !hasTime {
		return t, nil
	}
	t.Kind = KindDateTime
	if rest == "" {
		return t, nil
	}
	// Split off the zone.
	zone := ""
	if i := strings.IndexAny(rest, "Z+-"); i >= 0 {
		rest, zone = rest[:i], rest[i:]
	}
	if rest != "" {
		tm, err := parseTime(rest)
		if err != nil {
			return bad()
		}
		t.Hour, t.Minute, t.Second, t.Nano, t.Precision = tm.Hour, tm.Minute, tm.Second, tm.Nano, tm.Precision
	}
	if zone != "" {
		off, ok := parseZone(zone)
		if !ok {
			return bad()
		}
		t.HasZone, t.Zone = true, off
	}
	return t, nil
}

func parseZone(z string) (int, bool) {
	if z == "Z" {
		return 0, true
	}
	if len(z) != 6 || z[3] != ':' {
		return 0, false
	}
	h, ok1 := atoiN(z[1:3])
	m, ok2 := atoiN(z[4:6])
	if !ok1 || !ok2 {
		return 0, false
	}
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	return off, true
}

func parseTime(s string) (Temporal, error) {
	t := Temporal{Kind: KindTime}
	bad := func() (Temporal, error) { return Temporal{}, fmt.Errorf("invalid time %q", s) }
	parts := strings.Split(s, ":")
	if len(parts) > 3 || len(parts[0]) != 2 {
		return bad()
	}
	var ok bool
	if t.Hour, ok = atoiN(parts[0]); !ok || t.Hour > 23 {
		return bad()
	}
	t.Precision = PrecisionHour
	if len(parts) > 1 {
		if t.Minute, ok = atoiN(parts[1]); !ok || len(parts[1]) != 2 || t.Minute > 59 {
			return bad()
		}
		t.Precision = PrecisionMinute
	}
	if len(parts) > 2 {
		sec, frac, hasFrac := strings.Cut(parts[2], ".")
		if t.Second, ok = atoiN(sec); !ok || len(sec) != 2 || t.Second > 59 {
			return bad()
		}
		t.Precision = PrecisionSecond
		if hasFrac {
			if _, ok := atoiN(frac); !ok {
				return bad()
			}
			for len(frac) < 9 {
				frac += "0"
			}
			t.Nano, _ = strconv.Atoi(frac[:9])
			t.Precision = PrecisionMillisecond
		}
	}
	return t, nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// String formats the value as FHIR does (without FHIRPath's '@').
func (t Temporal) String() string {
	var b strings.Builder
	if t.Kind != KindTime {
		fmt.Fprintf(&b, "%04d", t.Year)
		if t.Precision >= PrecisionMonth {
			fmt.Fprintf(&b, "-%02d", t.Month)
		}
		if t.Precision >= PrecisionDay {
			fmt.Fprintf(&b, "-%02d", t.Day)
		}
		if t.Kind == KindDate || t.Precision < PrecisionHour {
			return b.String()
		}
		b.WriteByte('T')
	}
	fmt.Fprintf(&b, "%02d", t.Hour)
	if t.Precision >= PrecisionMinute {
		fmt.Fprintf(&b, ":%02d", t.Minute)
	}
	if t.Precision >= PrecisionSecond {
		fmt.Fprintf(&b, ":%02d", t.Second)
	}
	if t.Precision >= PrecisionMillisecond {
		fmt.Fprintf(&b, ".%03d", t.Nano/1e6)
	}
	if t.Kind == KindDateTime && t.HasZone {
		if t.Zone == 0 {
			b.WriteByte('Z')
		} else {
			z, sign := t.Zone, '+'
			if z < 0 {
				z, sign = -z, '-'
			}
			fmt.Fprintf(&b, "%c%02d:%02d", sign, z/3600, z%3600/60)
		}
	}
	return b.String()
}

// Time converts to a time.Time; missing components take their lowest value and a
// missing zone is read as UTC.
func (t Temporal) Time() time.Time {
	y, mo, d := t.Year, t.Month, t.Day
	if t.Kind == KindTime {
		y, mo, d = 1970, 1, 1
	}
	if mo == 0 {
		mo = 1
	}
	if d == 0 {
		d = 1
	}
	loc := time.UTC
	if t.HasZone && t.Zone != 0 {
		loc = time.FixedZone("", t.Zone)
	}
	return time.Date(y, time.Month(mo), d, t.Hour, t.Minute, t.Second, t.Nano, loc)
}

// fromTime builds a Temporal of the given kind and precision from a time.Time.
func fromTime(tm time.Time, kind TemporalKind, prec Precision, hasZone bool) Temporal {
	_, off := tm.Zone()
	return Temporal{Kind: kind, Precision: prec, Year: tm.Year(), Month: int(tm.Month()), Day: tm.Day(),
		Hour: tm.Hour(), Minute: tm.Minute(), Second: tm.Second(), Nano: tm.Nanosecond(), HasZone: hasZone, Zone: off}
}

// utc normalises a value carrying a time of day and a zone to UTC.
func (t Temporal) utc() Temporal {
	if !t.HasZone || t.Zone == 0 || t.Kind != KindDateTime || t.Precision < PrecisionHour {
		return t
	}
	u := fromTime(t.Time().UTC(), t.Kind, t.Precision, true)
	return u
}

func (t Temporal) component(p Precision) int {
	switch p {
	case PrecisionYear:
		return t.Year
	case PrecisionMonth:
		return t.Month
	case PrecisionDay:
		return t.Day
	case PrecisionHour:
		return t.Hour
	case PrecisionMinute:
		return t.Minute
	default:
		return t.Second*1e9 + t.Nano
	}
}

// compareTemporal compares a and b component by component. ok is false when the result
// is unknown because the values have different precisions (FHIRPath § 6.1.1), or the
// kinds are not comparable.
func compareTemporal(a, b Temporal) (cmp int, ok bool) {
	if (a.Kind == KindTime) != (b.Kind == KindTime) {
		return 0, false
	}
	if a.Kind != KindTime && (a.HasZone || b.HasZone) {
		if a.HasZone != b.HasZone && min(a.Precision, b.Precision) >= PrecisionHour {
			// One value has a zone and the other not: the order is unknown.
			return 0, false
		}
		a, b = a.utc(), b.utc()
	}
	first := PrecisionYear
	if a.Kind == KindTime {
		first = PrecisionHour
	}
	pa, pb := a.Precision, b.Precision
	if pa == PrecisionMillisecond {
		pa = PrecisionSecond
	}
	if pb == PrecisionMillisecond {
		pb = PrecisionSecond
	}
	for p := first; p <= min(pa, pb); p++ {
		x, y := a.component(p), b.component(p)
		if x < y {
			return -1, true
		}
		if x > y {
			return 1, true
		}
	}
	if pa != pb {
		return 0, false
	}
	return 0, true
}

// calendarUnits maps the FHIRPath calendar duration keywords (and the UCUM units that may
// be used with dates) to a canonical calendar unit.
var calendarUnits = map[string]string{
	"year": "year", "years": "year", "month": "month", "months": "month",
	"week": "week", "weeks": "week", "day": "day", "days": "day",
	"hour": "hour", "hours": "hour", "minute": "minute", "minutes": "minute",
	"second": "second", "seconds": "second", "millisecond": "millisecond", "milliseconds": "millisecond",
}

var ucumCalendarUnits = map[string]string{
	"wk": "week", "d": "day", "h": "hour", "min": "minute", "s": "second", "ms": "millisecond",
}

// addQuantity adds a time-valued quantity to t (FHIRPath § 6.6.1 Date/Time Arithmetic).
func addQuantity(t Temporal, q Quantity, sign int) (Temporal, error) {
	unit, ok := calendarUnits[q.Unit]
	if !ok {
		unit, ok = ucumCalendarUnits[q.Unit]
	}
	if !ok {
		return Temporal{}, execErrorf("cannot add a quantity with unit %q to a date/time", q.Unit)
	}
	v := q.Value
	if sign < 0 {
		v = v.neg()
	}
	n := v.truncInt().Int64()
	// Express the amount at the precision of the value when the unit is finer.
	unitPrec := map[string]Precision{"year": PrecisionYear, "month": PrecisionMonth, "week": PrecisionDay, "day": PrecisionDay,
		"hour": PrecisionHour, "minute": PrecisionMinute, "second": PrecisionSecond, "millisecond": PrecisionMillisecond}[unit]
	if t.Kind == KindTime && unitPrec < PrecisionHour {
		return Temporal{}, execErrorf("cannot add %s to a time", unit)
	}
	prec := t.Precision
	if prec == PrecisionMillisecond {
		prec = PrecisionSecond
	}
	if unitPrec > prec && !(unit == "millisecond" && t.Precision == PrecisionMillisecond) {
		secs := map[string]int64{"week": 7 * 86400, "day": 86400, "hour": 3600, "minute": 60, "second": 1}
		switch {
		case unit == "month" && prec == PrecisionYear:
			unit, n = "year", n/12
		case prec <= PrecisionMonth:
			// Durations finer than a month cannot be expressed in months or years.
			unit, n = "day", 0
		default:
			total := v.rat()
			if unit == "millisecond" {
				total = newRatMul(total, 1, 1000)
			} else {
				total = newRatMul(total, secs[unit], 1)
			}
			per := map[Precision]int64{PrecisionDay: 86400, PrecisionHour: 3600, PrecisionMinute: 60, PrecisionSecond: 1}[prec]
			d := decimalFromRat(newRatMul(total, 1, per), 0)
			n = d.truncInt().Int64()
			unit = map[Precision]string{PrecisionDay: "day", PrecisionHour: "hour", PrecisionMinute: "minute", PrecisionSecond: "second"}[prec]
		}
	}
	tm := t.Time()
	switch unit {
	case "year", "month":
		months := int(n)
		if unit == "year" {
			months *= 12
		}
		y, m := tm.Year(), int(tm.Month())-1+months
		y += m / 12
		m %= 12
		if m < 0 {
			m += 12
			y--
		}
		d := tm.Day()
		if dd := daysIn(y, m+1); d > dd {
			d = dd
		}
		tm = time.Date(y, time.Month(m+1), d, tm.Hour(), tm.Minute(), tm.Second(), tm.Nanosecond(), tm.Location())
	case "week":
		tm = tm.AddDate(0, 0, 7*int(n))
	case "day":
		tm = tm.AddDate(0, 0, int(n))
	case "hour":
		tm = tm.Add(time.Duration(n) * time.Hour)
	case "minute":
		tm = tm.Add(time.Duration(n) * time.Minute)
	case "second":
		// Fractional seconds are truncated, as the test suite expects (+ 0.1 's' is a no-op).
		tm = tm.Add(time.Duration(n) * time.Second)
	case "millisecond":
		tm = tm.Add(time.Duration(n) * time.Millisecond)
	}
	out := fromTime(tm, t.Kind, t.Precision, t.HasZone)
	if !t.HasZone {
		out.Zone = 0
	}
	return out, nil
}
