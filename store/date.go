package store

import (
	"time"
)

// DateRange parses a FHIR date, dateTime or instant and returns the range
// of milliseconds it covers, both ends inclusive: "2024" covers the whole
// year, "2024-03-05T10:00" the whole minute. Values without a time zone are
// taken as UTC.
func DateRange(s string) (low, high int64, ok bool) {
	layouts := []struct {
		layout string
		next   func(time.Time) time.Time
	}{
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
	}
	for _, l := range layouts {
		if len(s) != len(l.layout) {
			continue
		}
		t, err := time.Parse(l.layout, s)
		if err != nil {
			return 0, 0, false
		}
		return t.UnixMilli(), l.next(t).UnixMilli() - 1, true
	}
	if len(s) < 16 || s[10] != 'T' {
		return 0, 0, false
	}
	// Split off the zone; without one the value is taken as UTC.
	body, zone := s, ""
	if z := s[len(s)-1]; z == 'Z' {
		body, zone = s[:len(s)-1], "Z"
	} else if len(s) > 19 && (s[len(s)-6] == '+' || s[len(s)-6] == '-') {
		body, zone = s[:len(s)-6], s[len(s)-6:]
	}
	var layout string
	var step time.Duration
	switch {
	case len(body) == 16:
		layout, step = "2006-01-02T15:04", time.Minute
	case len(body) == 19:
		layout, step = "2006-01-02T15:04:05", time.Second
	case len(body) > 20 && body[19] == '.':
		layout, step = "2006-01-02T15:04:05.999999999", time.Millisecond
	default:
		return 0, 0, false
	}
	zl := ""
	switch {
	case zone == "Z":
		zl = "Z07:00"
	case zone != "":
		zl = "-07:00"
	}
	t, err := time.Parse(layout+zl, body+zone)
	if err != nil {
		return 0, 0, false
	}
	low = t.UnixMilli()
	if step == time.Millisecond {
		return low, low, true
	}
	return low, t.Add(step).UnixMilli() - 1, true
}
