package roi

import (
	"strconv"
	"strings"
	"time"
)

// Small readers of decoded FHIR JSON trees.

func obj(m map[string]any, k string) map[string]any {
	v, _ := m[k].(map[string]any)
	return v
}

func str(m map[string]any, k string) string {
	v, _ := m[k].(string)
	return v
}

func list(m map[string]any, k string) []map[string]any {
	xs, _ := m[k].([]any)
	out := make([]map[string]any, 0, len(xs))
	for _, x := range xs {
		if v, ok := x.(map[string]any); ok {
			out = append(out, v)
		}
	}
	return out
}

func hasCode(cc map[string]any, system, code string) bool {
	for _, c := range list(cc, "coding") {
		if str(c, "system") == system && str(c, "code") == code {
			return true
		}
	}
	return false
}

// codeOf returns the code of cc's first coding in system.
func codeOf(cc map[string]any, system string) string {
	for _, c := range list(cc, "coding") {
		if str(c, "system") == system {
			return str(c, "code")
		}
	}
	return ""
}

// display is what a person calls a CodeableConcept: its text, or a
// coding's display, or a code.
func display(cc map[string]any) string {
	if t := str(cc, "text"); t != "" {
		return t
	}
	for _, c := range list(cc, "coding") {
		if d := str(c, "display"); d != "" {
			return d
		}
	}
	for _, c := range list(cc, "coding") {
		if d := str(c, "code"); d != "" {
			return d
		}
	}
	return ""
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// parseDay reads a FHIR date or dateTime (zero when empty or unreadable).
func parseDay(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, f := range []string{time.RFC3339Nano, time.DateOnly, "2006-01", "2006"} {
		if t, err := time.Parse(f, s); err == nil {
			return t.UTC()
		}
	}
	if t, err := time.Parse(time.DateOnly, s[:min(len(s), 10)]); err == nil {
		return t
	}
	return time.Time{}
}

func instant(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func trimRef(ref, typ string) string { return strings.TrimPrefix(ref, typ+"/") }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
