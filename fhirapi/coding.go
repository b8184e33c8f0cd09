package fhirapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/coding"
)

const codingDefinitionBase = "https://custodian-him.github.io/fhir/OperationDefinition/"

// CodingOperations serve the coder's encoder over the store: suggestion
// from notes, the abstract with live edits and MS-DRG, saving and
// finalising the coding as a Claim, the DNFB queue and productivity. Every
// read and write goes through the store with the request's actor, so the
// role table applies (coders read clinical data and write Claims).
//
//   - POST|GET /fhir/DocumentReference/{id}/$suggest-codes: suggestions
//     from one note (its text/plain attachment). Parameters: setting
//     (inpatient, outpatient; default from the note's encounter class,
//     else inpatient), limit. Output: Parameters with one "suggestion" per
//     code, parts system, code, display, score, principal, poa, assertion,
//     and "evidence" parts (document, start, end — byte offsets into the
//     decoded text —, text, section, assertion).
//   - POST /fhir/DocumentReference/$suggest-codes: the same for a text
//     given as the "text" parameter (at most coding.MaxText bytes).
//   - POST|GET /fhir/Encounter/{id}/$suggest-codes: suggestions from every
//     note of the encounter (DocumentReference?encounter=), merged;
//     evidence names its note.
//   - GET /fhir/Encounter/{id}/$coding-abstract: the current abstract
//     (saved Claim, else the recorded diagnoses and procedures) with edits
//     and the MS-DRG. POST evaluates the codes given without saving
//     (live edits): "diagnosis" repeated as CODE or CODE:POA, the principal
//     first; "procedure" repeated as CODE or CODE:YYYY-MM-DD.
//   - POST /fhir/Encounter/{id}/$save-coding (a draft Claim) and
//     POST /fhir/Encounter/{id}/$finalize-coding (Claim status active;
//     422 with the error edits when there are any): same parameters;
//     answer the abstract with the Claim reference and version.
//   - GET /fhir/Encounter/$dnfb: the discharged, not final coded inpatient
//     encounters, oldest discharge first, with age in days, and the age
//     buckets.
//   - GET /fhir/Claim/$coding-productivity: per-coder figures from the
//     coding Claims' history; from and to (dates) bound the period.
func CodingOperations(s *coding.Suggester, q *coding.Queue) []Operation {
	c := &codingAPI{s: s, q: q}
	op := func(pattern, name, typ string, h func(http.ResponseWriter, *http.Request) error) Operation {
		return Operation{Pattern: pattern, Name: name, Type: typ, Definition: codingDefinitionBase + typ + "-" + name, Handle: h}
	}
	return []Operation{
		op("GET /fhir/DocumentReference/{id}/$suggest-codes", "suggest-codes", "DocumentReference", c.suggestDocument),
		op("POST /fhir/DocumentReference/{id}/$suggest-codes", "suggest-codes", "DocumentReference", c.suggestDocument),
		op("POST /fhir/DocumentReference/$suggest-codes", "suggest-codes", "DocumentReference", c.suggestText),
		op("GET /fhir/Encounter/{id}/$suggest-codes", "suggest-codes", "Encounter", c.suggestEncounter),
		op("POST /fhir/Encounter/{id}/$suggest-codes", "suggest-codes", "Encounter", c.suggestEncounter),
		op("GET /fhir/Encounter/{id}/$coding-abstract", "coding-abstract", "Encounter", c.abstract),
		op("POST /fhir/Encounter/{id}/$coding-abstract", "coding-abstract", "Encounter", c.abstract),
		op("POST /fhir/Encounter/{id}/$save-coding", "save-coding", "Encounter", func(w http.ResponseWriter, r *http.Request) error { return c.save(w, r, false) }),
		op("POST /fhir/Encounter/{id}/$finalize-coding", "finalize-coding", "Encounter", func(w http.ResponseWriter, r *http.Request) error { return c.save(w, r, true) }),
		op("GET /fhir/Encounter/$dnfb", "dnfb", "Encounter", c.dnfb),
		op("GET /fhir/Claim/$coding-productivity", "coding-productivity", "Claim", c.productivity),
	}
}

type codingAPI struct {
	s *coding.Suggester
	q *coding.Queue
}

func (c *codingAPI) options(p *Params, class string) (coding.Options, error) {
	var opt coding.Options
	setting := p.Get("setting")
	if setting == "" && class != "" && class != "IMP" && class != "ACUTE" && class != "NONAC" {
		setting = "outpatient"
	}
	s, err := coding.ParseSetting(setting)
	if err != nil {
		return opt, err
	}
	opt.Setting = s
	if l := p.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			return opt, custodian.Errorf(custodian.EINVALID, "limit %q is not a number from 1 to 200", l)
		}
		opt.Limit = n
	}
	return opt, nil
}

// noteText decodes a DocumentReference's plain-text attachments.
func noteText(body []byte) (text, encounter string, err error) {
	var d struct {
		Content []struct {
			Attachment struct{ ContentType, Data string }
		}
		Context struct {
			Encounter []struct{ Reference string }
		}
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return "", "", custodian.Wrap(custodian.EINTERNAL, err, "the stored DocumentReference cannot be read")
	}
	if len(d.Context.Encounter) > 0 {
		encounter = d.Context.Encounter[0].Reference
	}
	var b strings.Builder
	found := false
	for _, ct := range d.Content {
		a := ct.Attachment
		if !strings.HasPrefix(a.ContentType, "text/plain") || a.Data == "" {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(a.Data)
		if err != nil {
			return "", "", custodian.Errorf(custodian.EUNPROCESSABLE, "the note's attachment is not valid base64")
		}
		if found {
			b.WriteString("\n")
		}
		b.Write(raw)
		found = true
	}
	if !found {
		return "", encounter, custodian.Errorf(custodian.EUNPROCESSABLE, "the note has no text/plain attachment with inline data to read")
	}
	return b.String(), encounter, nil
}

// encounterClass returns the class code of an encounter ("" if unknown).
func (c *codingAPI) encounterClass(r *http.Request, ref string) string {
	id, ok := strings.CutPrefix(ref, "Encounter/")
	if !ok {
		return ""
	}
	res, err := c.q.Store.Read(r.Context(), "Encounter", id)
	if err != nil {
		return ""
	}
	var e struct{ Class struct{ Code string } }
	_ = json.Unmarshal(res.Body, &e)
	return e.Class.Code
}

func (c *codingAPI) suggestDocument(w http.ResponseWriter, r *http.Request) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	res, err := c.q.Store.Read(r.Context(), "DocumentReference", id)
	if err != nil {
		return err
	}
	text, enc, err := noteText(res.Body)
	if err != nil {
		return err
	}
	opt, err := c.options(p, c.encounterClass(r, enc))
	if err != nil {
		return err
	}
	out, err := c.s.SuggestNotes([]coding.Note{{ID: "DocumentReference/" + id, Text: text}}, opt)
	if err != nil {
		return err
	}
	WriteResource(w, http.StatusOK, suggestionParameters(out))
	return nil
}

func (c *codingAPI) suggestText(w http.ResponseWriter, r *http.Request) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	if !p.Has("text") {
		return custodian.Errorf(custodian.EINVALID, "the text parameter (the note's text) is required")
	}
	opt, err := c.options(p, "")
	if err != nil {
		return err
	}
	out, err := c.s.Suggest(p.Get("text"), opt)
	if err != nil {
		return err
	}
	WriteResource(w, http.StatusOK, suggestionParameters(out))
	return nil
}

func (c *codingAPI) suggestEncounter(w http.ResponseWriter, r *http.Request) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := c.q.Store.Read(r.Context(), "Encounter", id); err != nil {
		return err
	}
	q, err := c.q.Store.ParseQueryString("DocumentReference", "encounter=Encounter/"+id+"&_count=500")
	if err != nil {
		return err
	}
	var notes []coding.Note
	for {
		page, err := c.q.Store.Search(r.Context(), q)
		if err != nil {
			return err
		}
		for _, res := range page.Resources {
			text, _, err := noteText(res.Body)
			if err != nil {
				continue // a note without readable text contributes nothing
			}
			notes = append(notes, coding.Note{ID: "DocumentReference/" + res.ID, Text: text})
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	opt, err := c.options(p, c.encounterClass(r, "Encounter/"+id))
	if err != nil {
		return err
	}
	out, err := c.s.SuggestNotes(notes, opt)
	if err != nil {
		return err
	}
	WriteResource(w, http.StatusOK, suggestionParameters(out))
	return nil
}

func suggestionParameters(out []coding.Suggestion) map[string]any {
	params := []any{}
	for _, s := range out {
		uri := "http://hl7.org/fhir/sid/icd-10-cm"
		if s.System == "icd10pcs" {
			uri = "http://www.cms.gov/Medicare/Coding/ICD10"
		}
		ps := []any{
			map[string]any{"name": "system", "valueUri": uri},
			map[string]any{"name": "code", "valueCode": s.Code},
			map[string]any{"name": "display", "valueString": s.Title},
			map[string]any{"name": "score", "valueDecimal": s.Score},
			map[string]any{"name": "principal", "valueBoolean": s.Principal},
			map[string]any{"name": "assertion", "valueCode": string(s.Assertion)},
		}
		if s.POA != "" {
			ps = append(ps, map[string]any{"name": "poa", "valueCode": s.POA})
		}
		for _, e := range s.Evidence {
			ep := []any{
				map[string]any{"name": "start", "valueInteger": e.Start},
				map[string]any{"name": "end", "valueInteger": e.End},
				map[string]any{"name": "text", "valueString": e.Text},
				map[string]any{"name": "section", "valueCode": e.Section},
				map[string]any{"name": "assertion", "valueCode": string(e.Assertion)},
			}
			if e.Document != "" {
				ep = append([]any{map[string]any{"name": "document", "valueReference": map[string]any{"reference": e.Document}}}, ep...)
			}
			ps = append(ps, map[string]any{"name": "evidence", "part": ep})
		}
		params = append(params, map[string]any{"name": "suggestion", "part": ps})
	}
	return map[string]any{"resourceType": "Parameters", "parameter": params}
}

// codes reads the diagnosis and procedure parameters.
func codes(p *Params) ([]coding.Diagnosis, []coding.Procedure, error) {
	var dx []coding.Diagnosis
	for _, v := range p.All("diagnosis") {
		code, poa, _ := strings.Cut(v, ":")
		if strings.TrimSpace(code) == "" {
			return nil, nil, custodian.Errorf(custodian.EINVALID, "a diagnosis parameter is empty (give CODE or CODE:POA)")
		}
		dx = append(dx, coding.Diagnosis{Code: code, POA: poa})
	}
	var px []coding.Procedure
	for _, v := range p.All("procedure") {
		code, date, _ := strings.Cut(v, ":")
		if strings.TrimSpace(code) == "" {
			return nil, nil, custodian.Errorf(custodian.EINVALID, "a procedure parameter is empty (give CODE or CODE:YYYY-MM-DD)")
		}
		if date != "" {
			if _, err := time.Parse(time.DateOnly, date); err != nil {
				return nil, nil, custodian.Errorf(custodian.EINVALID, "procedure %s: date %q is not YYYY-MM-DD", code, date)
			}
		}
		px = append(px, coding.Procedure{Code: code, Date: date})
	}
	return dx, px, nil
}

func (c *codingAPI) abstract(w http.ResponseWriter, r *http.Request) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	a, err := c.q.Abstract(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if r.Method == http.MethodPost && (p.Has("diagnosis") || p.Has("procedure")) {
		if a.Diagnoses, a.Procedures, err = codes(p); err != nil {
			return err
		}
		c.q.Evaluate(a)
	}
	WriteResource(w, http.StatusOK, abstractParameters(a))
	return nil
}

func (c *codingAPI) save(w http.ResponseWriter, r *http.Request, final bool) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	dx, px, err := codes(p)
	if err != nil {
		return err
	}
	a, err := c.q.Save(r.Context(), r.PathValue("id"), dx, px, final)
	if err != nil {
		return err
	}
	WriteResource(w, http.StatusOK, abstractParameters(a))
	return nil
}

// abstractParameters writes an abstract as Parameters, its fields as
// parts (the DRG explanation included).
func abstractParameters(a *coding.Abstract) map[string]any {
	b, _ := json.Marshal(a)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return map[string]any{"resourceType": "Parameters", "parameter": parts(m)}
}

func (c *codingAPI) dnfb(w http.ResponseWriter, r *http.Request) error {
	list, err := c.q.DNFB(r.Context())
	if err != nil {
		return err
	}
	params := []any{map[string]any{"name": "total", "valueInteger": len(list)}}
	for _, b := range coding.AgeBuckets(list) {
		params = append(params, map[string]any{"name": "bucket", "part": []any{
			map[string]any{"name": "days", "valueString": b.Label}, map[string]any{"name": "count", "valueInteger": b.Count}}})
	}
	for _, it := range list {
		params = append(params, map[string]any{"name": "encounter", "part": []any{
			map[string]any{"name": "encounter", "valueReference": map[string]any{"reference": it.Encounter}},
			map[string]any{"name": "patient", "valueReference": map[string]any{"reference": it.Patient}},
			map[string]any{"name": "discharged", "valueDateTime": it.Discharged.Format(time.RFC3339)},
			map[string]any{"name": "ageDays", "valueInteger": it.AgeDays},
			map[string]any{"name": "status", "valueCode": it.Status},
		}})
	}
	WriteResource(w, http.StatusOK, map[string]any{"resourceType": "Parameters", "parameter": params})
	return nil
}

func (c *codingAPI) productivity(w http.ResponseWriter, r *http.Request) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	var from, to time.Time
	for _, x := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := p.Get(x.name); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return custodian.Errorf(custodian.EINVALID, "%s %q is not YYYY-MM-DD", x.name, v)
			}
			*x.t = t
		}
	}
	if !to.IsZero() {
		to = to.AddDate(0, 0, 1) // through the end of that day
	}
	rep, err := c.q.Productivity(r.Context(), from, to)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(rep)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	WriteResource(w, http.StatusOK, map[string]any{"resourceType": "Parameters", "parameter": parts(m)})
	return nil
}
