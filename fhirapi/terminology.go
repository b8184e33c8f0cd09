package fhirapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/codeset"
)

const (
	defLookup   = "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup"
	defValidate = "http://hl7.org/fhir/OperationDefinition/CodeSystem-validate-code"
	defSubsumes = "http://hl7.org/fhir/OperationDefinition/CodeSystem-subsumes"
	defExpand   = "http://hl7.org/fhir/OperationDefinition/ValueSet-expand"
	defFindCode = "https://custodian-him.github.io/fhir/OperationDefinition/CodeSystem-find-code"
)

// TerminologyOperations serve ICD-10-CM (http://hl7.org/fhir/sid/icd-10-cm)
// and ICD-10-PCS (http://www.cms.gov/Medicare/Coding/ICD10) from cs, as GET
// or POST:
//
//   - CodeSystem/$lookup (system, code or coding, date or version): name,
//     version, display, and properties: parent, child, billable (on the
//     date), notSelectable (a header), chapter, block, inactive, and every
//     tabular note that applies
//     (own and inherited; property code = the note kind, description = where
//     it is written), seventh-character, mce (MCE attributes on the date).
//   - CodeSystem/$validate-code (url or system, code or coding, display,
//     date or version): result, message, display. An unknown or malformed
//     code, a code not valid on the date, or a wrong display is
//     result=false with a message; a header (E11) is result=true with a
//     message saying it is not reportable.
//   - CodeSystem/$subsumes (system, codeA/codeB or codingA/codingB).
//   - ValueSet/$expand (url = SYSTEM?fhir_vs or SYSTEM?fhir_vs=isa/CODE;
//     filter: text search ranked as codeset.Search does; offset, count (at
//     most 1000, default 100); date; activeOnly: reportable codes only).
//   - CodeSystem/$find-code (text; system, default ICD-10-CM; limit, at most
//     100, default 20; date; billable): the ranked search for the coding
//     workbench and scripts, as a Parameters resource with one "match" per
//     hit (code, display, system, score, matched, how, billable).
//
// Codes are accepted as people type them (e11.9, E119, " E11.9 ") and
// answered in their dotted form (E11.9).
func TerminologyOperations(cs *codeset.Set) []Operation {
	t := &terminology{set: cs}
	var ops []Operation
	for _, o := range []struct {
		path, name, typ, def string
		h                    func(http.ResponseWriter, *http.Request) error
	}{
		{"/fhir/CodeSystem/$lookup", "lookup", "CodeSystem", defLookup, t.lookup},
		{"/fhir/CodeSystem/$validate-code", "validate-code", "CodeSystem", defValidate, t.validate},
		{"/fhir/CodeSystem/$subsumes", "subsumes", "CodeSystem", defSubsumes, t.subsumes},
		{"/fhir/ValueSet/$expand", "expand", "ValueSet", defExpand, t.expand},
		{"/fhir/CodeSystem/$find-code", "find-code", "CodeSystem", defFindCode, t.find},
	} {
		for _, m := range []string{"GET ", "POST "} {
			ops = append(ops, Operation{Pattern: m + o.path, Name: o.name, Type: o.typ, Definition: o.def, Handle: o.h})
		}
	}
	return ops
}

type terminology struct{ set *codeset.Set }

// system returns the code system a URI names; an unknown one is ENOTFOUND.
func (t *terminology) system(uri string) (*codeset.CodeSystem, error) {
	if strings.TrimSpace(uri) == "" {
		return nil, custodian.Errorf(custodian.EINVALID, "the system parameter is required (%s or %s)", codeset.URIICD10CM, codeset.URIICD10PCS)
	}
	cs, err := t.set.ByURI(uri)
	if err != nil {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "the code system %q is not known to this server; it serves %s (ICD-10-CM) and %s (ICD-10-PCS)", uri, codeset.URIICD10CM, codeset.URIICD10PCS)
	}
	return cs, nil
}

// termCoding reads the system and code from the parameters: code with system
// (or sysParam), or a Coding in codingParam.
func termCoding(p *Params, codeParam, codingParam, sysParam string) (system, code, display string) {
	system, code, display = p.Get(sysParam), p.Get(codeParam), p.Get("display")
	if sysParam == "url" && system == "" {
		system = p.Get("system")
	}
	for _, part := range p.Parts(codingParam) {
		if c, ok := part["valueCoding"].(map[string]any); ok {
			s, _ := c["system"].(string)
			k, _ := c["code"].(string)
			d, _ := c["display"].(string)
			if system == "" {
				system = s
			}
			if code == "" {
				code = k
			}
			if display == "" {
				display = d
			}
		}
	}
	if cc := p.Parts("codeableConcept"); codingParam == "coding" && code == "" && len(cc) > 0 {
		if c, ok := cc[0]["valueCodeableConcept"].(map[string]any); ok {
			if list, ok := c["coding"].([]any); ok && len(list) > 0 {
				if first, ok := list[0].(map[string]any); ok {
					system, _ = first["system"].(string)
					code, _ = first["code"].(string)
				}
			}
		}
	}
	return system, code, display
}

// termDate reads the date (or the version, a fiscal year: its last day) the
// answer is for; the zero Date means the latest covered.
func termDate(p *Params, cs *codeset.CodeSystem) (codeset.Date, error) {
	d, err := codeset.ParseDate(p.Get("date"))
	if err != nil {
		return 0, err
	}
	if v := strings.TrimSpace(p.Get("version")); v != "" && d == 0 {
		y, err := strconv.Atoi(strings.TrimPrefix(strings.ToUpper(v), "FY"))
		from, to := cs.Coverage()
		if err != nil || y < from.FiscalYear() || y > to.FiscalYear() {
			return 0, custodian.Errorf(custodian.ENOTFOUND, "version %q of %s is not loaded: fiscal years %d to %d are", v, cs.Name(), from.FiscalYear(), to.FiscalYear())
		}
		d = codeset.Date(y*10000 + 930)
	}
	return d, nil
}

func paramString(name, v string) map[string]any {
	return map[string]any{"name": name, "valueString": v}
}

func termProperty(code string, value map[string]any, description string) map[string]any {
	parts := []any{map[string]any{"name": "code", "valueCode": code}, value}
	if description != "" {
		parts = append(parts, map[string]any{"name": "description", "valueString": description})
	}
	return map[string]any{"name": "property", "part": parts}
}

func (t *terminology) lookup(w http.ResponseWriter, r *http.Request) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	sys, code, _ := termCoding(p, "code", "coding", "system")
	cs, err := t.system(sys)
	if err != nil {
		return err
	}
	if strings.TrimSpace(code) == "" {
		return custodian.Errorf(custodian.EINVALID, "the code parameter (or a coding) is required")
	}
	on, err := termDate(p, cs)
	if err != nil {
		return err
	}
	c, err := cs.Lookup(code)
	if err != nil {
		return err
	}
	out := []any{
		paramString("name", cs.Name()),
		paramString("version", cs.VersionOn(on)),
		paramString("display", c.Label()),
		termProperty("notSelectable", map[string]any{"name": "value", "valueBoolean": c.Header() && !c.Billable(on)}, "a header: not reportable itself"),
		termProperty("billable", map[string]any{"name": "value", "valueBoolean": c.Billable(on)}, "reportable on "+dateOrLatest(on, cs)),
		termProperty("inactive", map[string]any{"name": "value", "valueBoolean": !c.Exists(on)}, ""),
	}
	if pa := c.Parent(); pa != nil {
		out = append(out, termProperty("parent", map[string]any{"name": "value", "valueCode": pa.Display()}, pa.Label()))
	}
	for _, ch := range c.Children() {
		out = append(out, termProperty("child", map[string]any{"name": "value", "valueCode": ch.Display()}, ch.Label()))
	}
	if ch := c.Chapter(); ch != nil {
		out = append(out, termProperty("chapter", map[string]any{"name": "value", "valueString": ch.ID + " (" + ch.Range + ")"}, ch.Title))
	}
	if b := c.Block(); b != nil {
		out = append(out, termProperty("block", map[string]any{"name": "value", "valueString": b.ID}, b.Title))
	}
	for _, n := range c.Notes() {
		if n.Kind == codeset.NoteSeventh {
			continue
		}
		out = append(out, termProperty(string(n.Kind), map[string]any{"name": "value", "valueString": n.Text}, "from "+n.From))
	}
	for _, s := range c.SeventhCharacters() {
		out = append(out, termProperty("seventh-character", map[string]any{"name": "value", "valueString": string(s.Char) + ": " + s.Meaning}, "from "+s.From))
	}
	for _, a := range c.Attributes(on) {
		out = append(out, termProperty("mce", map[string]any{"name": "value", "valueCode": a}, "MCE attribute on "+dateOrLatest(on, cs)))
	}
	WriteResource(w, http.StatusOK, map[string]any{"resourceType": "Parameters", "parameter": out})
	return nil
}

func dateOrLatest(on codeset.Date, cs *codeset.CodeSystem) string {
	if on == 0 {
		_, to := cs.Coverage()
		return to.String()
	}
	return on.String()
}

func (t *terminology) validate(w http.ResponseWriter, r *http.Request) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	sys, code, display := termCoding(p, "code", "coding", "url")
	answer := func(ok bool, message, display string) error {
		out := []any{map[string]any{"name": "result", "valueBoolean": ok}}
		if message != "" {
			out = append(out, paramString("message", message))
		}
		if display != "" {
			out = append(out, paramString("display", display))
		}
		WriteResource(w, http.StatusOK, map[string]any{"resourceType": "Parameters", "parameter": out})
		return nil
	}
	if strings.TrimSpace(code) == "" {
		return custodian.Errorf(custodian.EINVALID, "the code parameter (or a coding) is required")
	}
	cs, err := t.system(sys)
	if err != nil {
		if custodian.ErrorCode(err) == custodian.ENOTFOUND {
			return answer(false, custodian.ErrorMessage(err), "")
		}
		return err
	}
	on, err := termDate(p, cs)
	if err != nil {
		return err
	}
	v := cs.Validate(code, on)
	if v.Concept == nil {
		return answer(false, v.Message, "")
	}
	if display != "" && !strings.EqualFold(strings.TrimSpace(display), v.Concept.Title()) {
		return answer(false, fmt.Sprintf("the display %q is not the title of %s, which is %q", display, v.Concept.Display(), v.Concept.Label()), v.Concept.Label())
	}
	return answer(v.Status == codeset.Billable || v.Status == codeset.Header, v.Message, v.Concept.Label())
}

func (t *terminology) subsumes(w http.ResponseWriter, r *http.Request) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	sysA, a, _ := termCoding(p, "codeA", "codingA", "system")
	sysB, b, _ := termCoding(p, "codeB", "codingB", "system")
	if sysA != sysB && sysB != "" {
		return custodian.Errorf(custodian.EINVALID, "codeA and codeB are from different systems")
	}
	cs, err := t.system(sysA)
	if err != nil {
		return err
	}
	if strings.TrimSpace(a) == "" || strings.TrimSpace(b) == "" {
		return custodian.Errorf(custodian.EINVALID, "codeA and codeB (or codingA and codingB) are required")
	}
	rel, err := cs.Subsumes(a, b)
	if err != nil {
		return err
	}
	WriteResource(w, http.StatusOK, map[string]any{"resourceType": "Parameters", "parameter": []any{
		map[string]any{"name": "outcome", "valueCode": string(rel)},
	}})
	return nil
}

// termInt reads a non-negative integer parameter with a default and a cap.
func termInt(p *Params, name string, def, max int) (int, error) {
	s := p.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, custodian.Errorf(custodian.EINVALID, "%s %q is not a whole number of 0 or more", name, s)
	}
	return min(n, max), nil
}

func (t *terminology) expand(w http.ResponseWriter, r *http.Request) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	url := p.Get("url")
	if url == "" {
		if vs := p.Resource("valueSet"); vs != nil {
			url, _ = vs["url"].(string)
		}
	}
	if url == "" {
		return custodian.Errorf(custodian.EINVALID, "the url parameter is required: %s?fhir_vs, or %s?fhir_vs=isa/CODE", codeset.URIICD10CM, codeset.URIICD10CM)
	}
	base, query, _ := strings.Cut(url, "?")
	cs, err := t.system(base)
	if err != nil {
		return err
	}
	var under string
	switch {
	case query == "fhir_vs":
	case strings.HasPrefix(query, "fhir_vs=isa/"):
		under = strings.TrimPrefix(query, "fhir_vs=isa/")
	default:
		return custodian.Errorf(custodian.ENOTFOUND, "the value set %q is not known: this server expands %s?fhir_vs and %s?fhir_vs=isa/CODE", url, base, base)
	}
	on, err := termDate(p, cs)
	if err != nil {
		return err
	}
	offset, err := termInt(p, "offset", 0, 1<<30)
	if err != nil {
		return err
	}
	count, err := termInt(p, "count", 100, 1000)
	if err != nil {
		return err
	}
	active := p.Get("activeOnly") == "true"
	var contains []any
	total := 0
	entry := func(c *codeset.Concept) {
		e := map[string]any{"system": cs.URI(), "code": c.Display(), "display": c.Label()}
		if c.Header() && !c.Billable(on) {
			e["abstract"] = true
		}
		contains = append(contains, e)
	}
	add := func(c *codeset.Concept) {
		if total >= offset && len(contains) < count {
			entry(c)
		}
		total++
	}
	if filter := strings.TrimSpace(p.Get("filter")); filter != "" {
		res, err := cs.Search(filter, codeset.SearchOptions{Date: on, Billable: active, Under: under, Offset: offset, Limit: max(count, 1)})
		if err != nil {
			return err
		}
		for _, h := range res.Hits[:min(len(res.Hits), count)] {
			entry(h.Concept)
		}
		total = res.Total
	} else {
		keep := func(c *codeset.Concept) {
			if active && !c.Billable(on) || !active && !c.Exists(on) {
				return
			}
			add(c)
		}
		if under != "" {
			c, err := cs.Lookup(under)
			if err != nil {
				return err
			}
			keep(c)
			c.Descendants(func(d *codeset.Concept) bool { keep(d); return true })
		} else {
			cs.All(func(c *codeset.Concept) bool { keep(c); return true })
		}
	}
	params := []any{
		map[string]any{"name": "offset", "valueInteger": offset},
		map[string]any{"name": "count", "valueInteger": count},
	}
	if f := p.Get("filter"); f != "" {
		params = append(params, map[string]any{"name": "filter", "valueString": f})
	}
	exp := map[string]any{
		"timestamp": time.Now().UTC().Format(time.RFC3339),
		"total":     total,
		"offset":    offset,
		"parameter": params,
	}
	if contains != nil {
		exp["contains"] = contains
	}
	WriteResource(w, http.StatusOK, map[string]any{
		"resourceType": "ValueSet",
		"url":          url,
		"status":       "active",
		"version":      cs.VersionOn(on),
		"expansion":    exp,
	})
	return nil
}

func (t *terminology) find(w http.ResponseWriter, r *http.Request) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	sys := p.Get("system")
	if sys == "" {
		sys = codeset.URIICD10CM
	}
	cs, err := t.system(sys)
	if err != nil {
		return err
	}
	on, err := termDate(p, cs)
	if err != nil {
		return err
	}
	limit, err := termInt(p, "limit", 20, 100)
	if err != nil {
		return err
	}
	res, err := cs.Search(p.Get("text"), codeset.SearchOptions{Date: on, Billable: p.Get("billable") == "true", Limit: max(limit, 1)})
	if err != nil {
		return err
	}
	out := []any{map[string]any{"name": "total", "valueInteger": res.Total}}
	for _, h := range res.Hits[:min(len(res.Hits), limit)] {
		out = append(out, map[string]any{"name": "match", "part": []any{
			map[string]any{"name": "code", "valueCode": h.Concept.Display()},
			paramString("display", h.Concept.Label()),
			map[string]any{"name": "system", "valueUri": cs.URI()},
			map[string]any{"name": "score", "valueDecimal": float64(int(h.Score*1000)) / 1000},
			paramString("matched", h.Matched),
			map[string]any{"name": "how", "valueCode": strings.ReplaceAll(h.How, " ", "-")},
			map[string]any{"name": "billable", "valueBoolean": h.Concept.Billable(on)},
		}})
	}
	WriteResource(w, http.StatusOK, map[string]any{"resourceType": "Parameters", "parameter": out})
	return nil
}
