package deid

import (
	"encoding/base64"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custodian-him/custodian/roi"
	"github.com/custodian-him/custodian/store"
)

// AgeGroupExtension marks a person whose birth date was removed because it
// showed an age over 89; its valueString is "90+".
const AgeGroupExtension = "https://custodian-him.org/fhir/StructureDefinition/deid-age-group"

// IdentifierSystem is the system of pseudonymised identifiers.
const IdentifierSystem = "urn:custodian:deid:identifier"

// Rules de-identifies one resource at a time. It is read-only once made,
// so workers share one.
type Rules struct {
	// Limited makes a limited data set (dates, town, state and ZIP code
	// kept) instead of a Safe Harbor one.
	Limited bool
	// Shift moves every date of a patient's record by the patient's keyed
	// shift instead of cutting it to the year.
	Shift bool
	Key   *Key
	// ZIP3 holds the three-digit ZIP areas of 20,000 or fewer people.
	ZIP3 map[string]bool
	// Names is the vocabulary of person and place names of the record.
	Names Names
	// Now is when the export is made (ages of the living are taken then).
	Now time.Time
	// ExcludeSensitive leaves out resources with a sensitive security
	// label (store.SensitiveLabels: psychotherapy, substance use under 42
	// CFR Part 2, HIV, …) and those without a label that fall in one of
	// Categories by their codes, document type or name (roi.Sensitive: a
	// diagnosis of opioid dependence, an HIV viral load). References to
	// them from other resources stay.
	ExcludeSensitive bool
	// Categories are the site's sensitive categories
	// (roi.DefaultCategories when nil).
	Categories []roi.Category

	// clean remembers short strings (code displays, mostly) the scrubber
	// left as they were: with the same rules, names and method they are
	// left again, whatever the patient, so they are not scrubbed twice.
	// A string with a date or a name in it is never remembered.
	clean     sync.Map
	cleanSize atomic.Int64
}

// maxClean bounds the remembered strings and their length.
const (
	maxClean    = 200_000
	maxCleanLen = 160
)

// scrubShort scrubs a short string that is not prose (a Coding.display,
// an alias), remembering those that come out unchanged.
func (w *walker) scrubShort(v string) string {
	if len(v) > maxCleanLen {
		return w.scrub.Scrub(v, w.shift, w.counts)
	}
	if _, ok := w.Rules.clean.Load(v); ok {
		return v
	}
	if w.tmp == nil {
		w.tmp = map[string]int{}
	}
	out := w.scrub.Scrub(v, w.shift, w.tmp)
	if len(w.tmp) == 0 {
		if out == v && w.Rules.cleanSize.Load() < maxClean {
			if _, loaded := w.Rules.clean.LoadOrStore(v, struct{}{}); !loaded {
				w.Rules.cleanSize.Add(1)
			}
		}
		return out
	}
	for k, n := range w.tmp {
		w.counts[k] += n
	}
	clear(w.tmp)
	return out
}

// Resource de-identifies resource typ/id of the compartment of patient
// (""" for none). It returns nil for a resource left out of the export
// (a Binary: its content may be an image with a face or burned-in text).
// Each rule applied is counted in counts.
func (ru *Rules) Resource(typ, id, patient string, body []byte, counts map[string]int) ([]byte, error) {
	if typ == "Binary" {
		counts["binary-dropped"]++
		return nil, nil
	}
	m, err := decode(body)
	if err != nil {
		return nil, err
	}
	w := &walker{Rules: ru, counts: counts, shift: ru.Key.Shift(patient),
		scrub: &Scrubber{Names: ru.Names, Limited: ru.Limited, Shift: ru.Shift, Now: ru.Now}}
	if ru.ExcludeSensitive && ru.sensitive(m) {
		counts["sensitive-left-out"]++
		return nil, nil
	}
	m["id"] = ru.Key.Pseudonym(typ, id)
	if meta, ok := m["meta"].(map[string]any); ok {
		kept := map[string]any{}
		for _, k := range []string{"profile", "security", "tag"} {
			if v, ok := meta[k]; ok {
				kept[k] = v
			}
		}
		if len(kept) > 0 {
			m["meta"] = kept
		} else {
			delete(m, "meta")
		}
	}
	switch typ {
	case "Patient", "RelatedPerson", "Person", "Practitioner":
		w.birthDate(m)
	case "Device":
		for _, k := range []string{"udiCarrier", "serialNumber", "lotNumber", "distinctIdentifier"} {
			if _, ok := m[k]; ok {
				delete(m, k)
				counts["device-identifier"]++
			}
		}
	}
	w.object(m, true)
	return store.Encode(m)
}

type walker struct {
	*Rules
	counts map[string]int
	tmp    map[string]int // scrubShort's counts of one string
	shift  int
	scrub  *Scrubber
}

// freeText are the keys whose string values are prose to scrub.
var freeText = map[string]bool{"text": true, "div": true, "valueString": true, "valueMarkdown": true, "description": true,
	"comment": true, "conclusion": true, "summary": true, "patientInstruction": true, "title": true}

// notDates are keys whose strings are never dates of the individual.
var notDates = map[string]bool{"code": true, "system": true, "version": true, "url": true, "id": true, "value": true,
	"unit": true, "reference": true, "display": true}

// structural are keys whose strings are codes, URIs and other machine
// values, never prose: every other string that is not a date is scrubbed
// like text, so a name or a date written into an element this package
// does not know (Coding.display, Location.alias, an extension's
// valueString or valueUrl, a Questionnaire answer) does not pass through.
var structural = map[string]bool{"code": true, "system": true, "version": true, "url": true, "id": true, "value": true,
	"unit": true, "reference": true, "resourceType": true, "status": true, "contentType": true, "language": true,
	"linkId": true, "valueCode": true, "gender": true, "use": true, "intent": true, "priority": true, "mode": true,
	"type": true, "kind": true, "fullUrl": true, "profile": true, "valueCanonical": true, "instantiatesCanonical": true,
	"versionId": true, "comparator": true, "severity": true, "criticality": true, "docStatus": true, "valueBase64Binary": true,
	"data": true, "hash": true}

func (w *walker) object(obj map[string]any, top bool) {
	_, isRef := obj["reference"]
	_, isAttachment := obj["contentType"]
	if !isAttachment {
		_, hasData := obj["data"]
		_, hasURL := obj["url"]
		_, hasTitle := obj["title"]
		isAttachment = (hasData || hasURL) && hasTitle
	}
	if isAttachment {
		w.attachment(obj)
	}
	if !top {
		switch obj["resourceType"] {
		case "Patient", "RelatedPerson", "Person", "Practitioner":
			w.birthDate(obj) // a contained person
		}
	}
	for k, v := range obj {
		switch k {
		case "resourceType", "meta":
			continue
		case "id":
			continue // the resource's id is set; element and contained ids are local
		case "reference":
			w.reference(obj, v)
			continue
		case "display":
			_, isCoding := obj["system"]
			if _, ok := obj["code"]; ok {
				isCoding = true
			}
			if isRef || !isCoding {
				// A Reference's display names a person or a place; one
				// with a display and no code is a Reference too.
				delete(obj, k)
				w.counts["reference-display"]++
			} else if d, ok := v.(string); ok {
				obj[k] = w.scrubShort(d) // Coding.display
			}
			continue
		case "identifier", "valueIdentifier":
			if out := w.identifiers(v); out != nil {
				obj[k] = out
			} else {
				delete(obj, k)
			}
			continue
		case "telecom", "valueContactPoint", "photo":
			delete(obj, k)
			w.counts[k]++
			continue
		case "name", "valueHumanName":
			if s, ok := v.(string); ok {
				// The name of an organisation, place or device, or in an
				// AuditEvent an agent's: scrubbed like text.
				obj[k] = w.scrub.Scrub(s, w.shift, w.counts)
			} else {
				delete(obj, k)
				w.counts["name"]++
			}
			continue
		case "authorString":
			delete(obj, k)
			w.counts["name"]++
			continue
		case "address", "valueAddress":
			if s, ok := v.(string); ok {
				obj[k] = w.scrub.Scrub(s, w.shift, w.counts) // a network address (AuditEvent, Endpoint): IPs and URLs go
			} else {
				w.address(obj, k, v)
			}
			continue
		}
		switch x := v.(type) {
		case string:
			if w.tooOld(k, x) {
				delete(obj, k)
				w.counts["date-over-89-removed"]++
				continue
			}
			obj[k] = w.str(k, x)
		case map[string]any:
			if strings.HasSuffix(k, "Age") {
				w.age(x)
			}
			w.object(x, false)
		case []any:
			for i, e := range x {
				switch y := e.(type) {
				case map[string]any:
					w.object(y, false)
				case string:
					x[i] = w.str(k, y)
				}
			}
		}
	}
}

// tooOld reports whether the string of key k is a date (a date, dateTime
// or instant of a month or day) more than 89 years before the export: its
// year alone, or moved by a shift, would still show an age over 89
// (164.514(b)(2)(i)(C): "all elements of dates (including year)
// indicative of such age"), so Safe Harbor removes it.
func (w *walker) tooOld(k, s string) bool {
	if w.Limited || freeText[k] || notDates[k] || len(s) < 7 || s[4] != '-' || !digits(s[:4]) || !digits(s[5:7]) {
		return false
	}
	return atoi(s[:4]) <= w.Now.Year()-90
}

// str de-identifies the string value of key k: prose is scrubbed, a date
// cut or shifted, and any other string that is not structural scrubbed
// like prose.
func (w *walker) str(k, v string) string {
	if freeText[k] {
		return w.scrub.Scrub(v, w.shift, w.counts)
	}
	if !notDates[k] {
		if d, ok := w.date(k, v); ok {
			return d
		}
	}
	if structural[k] {
		return v
	}
	return w.scrubShort(v)
}

// reference rewrites a reference to the pseudonymous id of its target.
func (w *walker) reference(obj map[string]any, v any) {
	s, _ := v.(string)
	if strings.HasPrefix(s, "#") {
		return // a contained resource
	}
	if i := strings.Index(s, "/_history/"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, "/")
	if len(parts) >= 2 {
		typ, id := parts[len(parts)-2], parts[len(parts)-1]
		if typ != "" && typ != "Binary" && typ[0] >= 'A' && typ[0] <= 'Z' && store.ValidID(id) {
			obj["reference"] = typ + "/" + w.Key.Pseudonym(typ, id)
			w.counts["reference"]++
			return
		}
	}
	delete(obj, "reference") // a URN, a Binary left out, or not a reference
	w.counts["reference-removed"]++
}

// directIdentifier reports whether an identifier is one of Safe Harbor's
// direct identifiers (164.514(b)(2)(i)(G)–(M)): SSN, medical record,
// health plan, account, certificate or licence, vehicle and device
// numbers. v2 table 0203 codes and system names.
func directIdentifier(id map[string]any) bool {
	if t, ok := id["type"].(map[string]any); ok {
		if cs, ok := t["coding"].([]any); ok {
			for _, c := range cs {
				if c, ok := c.(map[string]any); ok {
					switch c["code"] {
					case "MR", "SS", "SB", "DL", "PPN", "MB", "MA", "MC", "SN", "AN", "ANT", "MCN", "WC", "PEN", "NIIP", "DR", "VN", "UDI", "SNO":
						return true
					}
				}
			}
		}
	}
	sys, _ := id["system"].(string)
	sys = strings.ToLower(sys)
	for _, s := range []string{"ssn", "mrn", "medical-record", "medicare", "medicaid", "member", "subscriber", "licen", "passport", "account", "policy", "udi", "serial", "vin", "insurance"} {
		if strings.Contains(sys, s) {
			return true
		}
	}
	return false
}

// identifiers removes direct identifiers and pseudonymises the others;
// it returns nil when none is left.
func (w *walker) identifiers(v any) any {
	one := func(x any) map[string]any {
		id, ok := x.(map[string]any)
		if !ok {
			return nil
		}
		if directIdentifier(id) {
			w.counts["identifier-removed"]++
			return nil
		}
		sys, _ := id["system"].(string)
		val, _ := id["value"].(string)
		out := map[string]any{"system": IdentifierSystem, "value": w.Key.identifier(sys, val)}
		if u, ok := id["use"]; ok {
			out["use"] = u
		}
		if t, ok := id["type"]; ok {
			out["type"] = t
		}
		w.counts["identifier-pseudonymised"]++
		return out
	}
	switch x := v.(type) {
	case []any:
		var out []any
		for _, e := range x {
			if id := one(e); id != nil {
				out = append(out, id)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	default:
		if id := one(x); id != nil {
			return id
		}
		return nil
	}
}

// address keeps state and country (and three-digit ZIP code), or for a
// limited data set town, state and ZIP code (164.514(e)(2)(ii)).
func (w *walker) address(obj map[string]any, k string, v any) {
	one := func(x any) any {
		a, ok := x.(map[string]any)
		if !ok {
			return x
		}
		keep := []string{"use", "type", "state", "country"}
		if w.Limited {
			keep = append(keep, "city", "postalCode", "period")
		}
		out := map[string]any{}
		for _, f := range keep {
			if v, ok := a[f]; ok {
				out[f] = v
			}
		}
		if zip, ok := a["postalCode"].(string); ok && !w.Limited {
			out["postalCode"] = w.zip3(zip)
		}
		if p, ok := out["period"].(map[string]any); ok {
			w.object(p, false)
		}
		w.counts["address"]++
		return out
	}
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = one(x[i])
		}
	default:
		obj[k] = one(x)
	}
}

// zip3 is the Safe Harbor form of a ZIP code: its first three digits, or
// 000 where the three-digit area has 20,000 or fewer people.
func (w *walker) zip3(zip string) string {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, zip)
	if len(digits) < 3 || w.ZIP3[digits[:3]] {
		w.counts["zip-000"]++
		return "000"
	}
	return digits[:3]
}

// instants are keys of type instant, which needs a full timestamp.
var instants = map[string]bool{"issued": true, "recorded": true, "lastUpdated": true, "timestamp": true, "date": true}

// date de-identifies a date, dateTime or instant: the year only, or moved
// by the patient's shift; ok is false for a string that is no date.
func (w *walker) date(key, s string) (string, bool) {
	if len(s) < 7 || s[4] != '-' || !digits(s[:4]) || !digits(s[5:7]) {
		return s, false
	}
	if len(s) > 7 && (len(s) < 10 || s[7] != '-' || !digits(s[8:10])) {
		return s, false
	}
	if w.Shift {
		w.counts["date-shifted"]++
		if len(s) == 7 {
			t, err := time.Parse("2006-01", s)
			if err != nil {
				return s, false
			}
			return t.AddDate(0, 0, 14+w.shift).Format("2006-01"), true
		}
		t, err := time.Parse("2006-01-02", s[:10])
		if err != nil {
			return s, false
		}
		return t.AddDate(0, 0, w.shift).Format("2006-01-02") + s[10:], true
	}
	if w.Limited {
		return s, false
	}
	w.counts["date-year"]++
	if instants[key] && len(s) > 10 {
		return s[:4] + "-01-01T00:00:00Z", true // the type needs a full timestamp; only the year is true
	}
	return s[:4], true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// age groups an Age over 89 as 90 or over (164.514(b)(2)(i)(C)).
func (w *walker) age(q map[string]any) {
	if w.Limited {
		return
	}
	var years float64
	switch v := q["value"].(type) {
	case interface{ Float64() (float64, error) }:
		years, _ = v.Float64()
	case float64:
		years = v
	default:
		return
	}
	unit, _ := q["code"].(string)
	switch unit {
	case "mo":
		years /= 12
	case "wk":
		years /= 52
	case "d":
		years /= 365
	}
	if years > 89 {
		q["value"] = 90
		q["comparator"] = ">="
		q["code"], q["unit"] = "a", "years"
		w.counts["age-90+"]++
	}
}

// birthDate applies the age rule to a person: a birth date that shows an
// age over 89 (at death, or now) is removed and the person marked "90+";
// otherwise the generic date rule keeps its year or shifts it.
func (w *walker) birthDate(m map[string]any) {
	bd, ok := m["birthDate"].(string)
	if !ok || len(bd) < 4 || !digits(bd[:4]) || w.Limited {
		return
	}
	ref := w.Now
	if d, ok := m["deceasedDateTime"].(string); ok && len(d) >= 10 {
		if t, err := time.Parse("2006-01-02", d[:10]); err == nil {
			ref = t
		}
	}
	born := atoi(bd[:4])
	age := ref.Year() - born
	if len(bd) >= 10 {
		if t, err := time.Parse("2006-01-02", bd[:10]); err == nil && ref.YearDay() < t.YearDay() {
			age--
		}
	}
	if age > 89 {
		delete(m, "birthDate")
		ext, _ := m["extension"].([]any)
		m["extension"] = append(ext, map[string]any{"url": AgeGroupExtension, "valueString": age90})
		w.counts["age-90+"]++
	}
}

// attachment scrubs text content and drops any other (an image may show
// a face or burned-in text; a PDF may hold anything), with the URL and
// hash of the original.
func (w *walker) attachment(a map[string]any) {
	ct, _ := a["contentType"].(string)
	if data, ok := a["data"].(string); ok {
		raw, err := base64.StdEncoding.DecodeString(data)
		if err == nil && strings.HasPrefix(ct, "text/") {
			clean := w.scrub.Scrub(string(raw), w.shift, w.counts)
			a["data"] = base64.StdEncoding.EncodeToString([]byte(clean))
			a["size"] = len(clean)
			w.counts["attachment-text-scrubbed"]++
		} else {
			delete(a, "data")
			delete(a, "size")
			w.counts["attachment-dropped"]++
		}
	}
	if _, ok := a["url"]; ok {
		delete(a, "url")
		delete(a, "size")
		w.counts["attachment-url-removed"]++
	}
	delete(a, "hash")
}

// sensitive reports whether a resource carries a sensitive security
// label or falls in one of the site's sensitive categories.
func (ru *Rules) sensitive(m map[string]any) bool {
	if labelled(m) {
		return true
	}
	cats := ru.Categories
	if cats == nil {
		cats = defaultCategories
	}
	in, uncovered := roi.Sensitive(m, cats)
	return len(in) > 0 || uncovered
}

// defaultCategories is roi.DefaultCategories, made once; never changed.
var defaultCategories = roi.DefaultCategories()

// labelled reports whether a resource carries a sensitive security label.
func labelled(m map[string]any) bool {
	meta, _ := m["meta"].(map[string]any)
	labels, _ := meta["security"].([]any)
	for _, l := range labels {
		c, _ := l.(map[string]any)
		sys, _ := c["system"].(string)
		code, _ := c["code"].(string)
		if store.SensitiveLabels[sys][code] {
			return true
		}
	}
	return false
}
