package web

import (
	"strconv"
	"strings"
	"time"
)

// This file reads the few things the pages show out of resource JSON trees
// (as store.Decode returns them), tolerating anything missing.

// get walks keys through nested objects; a number key picks from an array.
func get(v any, keys ...string) any {
	for _, k := range keys {
		switch t := v.(type) {
		case map[string]any:
			v = t[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

func str(v any, keys ...string) string {
	switch t := get(v, keys...).(type) {
	case string:
		return t
	case interface{ String() string }: // json.Number
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	}
	return ""
}

func list(v any, keys ...string) []any {
	l, _ := get(v, keys...).([]any)
	return l
}

// concept is the text a person reads for a CodeableConcept: its text, or
// its first coding's display, or code.
func concept(v any) string {
	if t := str(v, "text"); t != "" {
		return t
	}
	for _, c := range list(v, "coding") {
		if d := str(c, "display"); d != "" {
			return d
		}
	}
	for _, c := range list(v, "coding") {
		if d := str(c, "code"); d != "" {
			return d
		}
	}
	return ""
}

// coding returns the code and system of a CodeableConcept's first coding.
func coding(v any) (system, code string) {
	c := get(v, "coding", "0")
	return str(c, "system"), str(c, "code")
}

// humanName formats a HumanName as "Family, Given Middle".
func humanName(n any) string {
	if t := str(n, "text"); t != "" && str(n, "family") == "" {
		return t
	}
	var given []string
	for _, g := range list(n, "given") {
		if s, ok := g.(string); ok {
			given = append(given, s)
		}
	}
	name := str(n, "family")
	if len(given) > 0 {
		if name != "" {
			name += ", "
		}
		name += strings.Join(given, " ")
	}
	if s := str(n, "suffix", "0"); s != "" {
		name += " " + s
	}
	return name
}

// patientName is the official (else first) name of a Patient.
func patientName(p any) string {
	names := list(p, "name")
	for _, n := range names {
		if str(n, "use") == "official" {
			return humanName(n)
		}
	}
	if len(names) > 0 {
		return humanName(names[0])
	}
	return "(no name)"
}

// systemMRN is the system of the medical record numbers synth and the
// demo use; an identifier typed MR is an MRN whatever its system.
const systemMRN = "https://custodian.example/fhir/mrn"

// mrn returns a Patient's medical record number.
func mrn(p any) string {
	for _, id := range list(p, "identifier") {
		_, code := coding(get(id, "type"))
		if code == "MR" || str(id, "system") == systemMRN {
			return str(id, "value")
		}
	}
	return ""
}

// identifierView is one identifier as shown.
type identifierView struct {
	Type, System, Value, Use string
}

func identifiers(p any) []identifierView {
	var out []identifierView
	for _, id := range list(p, "identifier") {
		out = append(out, identifierView{Type: concept(get(id, "type")), System: str(id, "system"), Value: str(id, "value"), Use: str(id, "use")})
	}
	return out
}

// refID returns the id of a literal reference "Type/id" if it is of typ.
func refID(ref any, typ string) string {
	s := str(ref, "reference")
	if t, id, ok := strings.Cut(s, "/"); ok && t == typ {
		return id
	}
	return ""
}

// when parses a FHIR date, dateTime or instant; zero when it is not one.
func when(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// showDate writes a FHIR date or dateTime for people: the date, and the
// time of day when it has one (in its own offset, as recorded).
func showDate(s string) string {
	t := when(s)
	if t.IsZero() {
		return s
	}
	if len(s) <= 10 {
		return s
	}
	return t.Format("2006-01-02 15:04")
}

// period formats a Period's start and end.
func period(p any) string {
	start, end := str(p, "start"), str(p, "end")
	switch {
	case start == "" && end == "":
		return ""
	case end == "":
		return showDate(start) + " –"
	case start == "":
		return "– " + showDate(end)
	case start[:min(10, len(start))] == end[:min(10, len(end))]:
		return showDate(start) + "–" + when(end).Format("15:04")
	}
	return showDate(start) + " – " + showDate(end)
}

// age returns whole years between a birth date and at.
func age(birth string, at time.Time) string {
	b := when(birth)
	if b.IsZero() {
		return ""
	}
	y := at.Year() - b.Year()
	if at.YearDay() < b.YearDay() {
		y--
	}
	return strconv.Itoa(y)
}

// quantity formats a Quantity's value and unit.
func quantity(q any) (value float64, ok bool, text string) {
	s := str(q, "value")
	if s == "" {
		return 0, false, ""
	}
	v, err := strconv.ParseFloat(s, 64)
	unit := str(q, "unit")
	if unit == "" {
		unit = str(q, "code")
	}
	return v, err == nil, strings.TrimSpace(s + " " + unit)
}
