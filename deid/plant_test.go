package deid_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// plantEverywhere adds, for the first n generated patients, resources that
// carry the patient's own identifiers in every kind of string element an
// export must clean: narrative div, Coding.display, CodeableConcept.text,
// Reference.display (with and without a reference), Annotation.text,
// extension valueString (top level and nested), Attachment.title and
// text content, Location.alias, a Questionnaire answer and valueUrl. The
// birth date is planted in the free-text forms people write ("3/14",
// "3/14/23", "March 14", "14 Mar") and ages over 89 in theirs. It returns
// the bodies and the identifiers planted (identifier → where).
func plantEverywhere(t testing.TB, types []string, ids []string, bodies [][]byte, n int) ([][]byte, map[string]string) {
	t.Helper()
	var out [][]byte
	planted := map[string]string{}
	for i, typ := range types {
		if typ != "Patient" || n == 0 {
			continue
		}
		n--
		var p struct {
			Name []struct {
				Family string
				Given  []string
			}
			Identifier []struct{ Value string }
			Telecom    []struct{ Value string }
			BirthDate  string
			Address    []struct{ Line []string }
		}
		if err := json.Unmarshal(bodies[i], &p); err != nil {
			t.Fatal(err)
		}
		bd, err := time.Parse(time.DateOnly, p.BirthDate)
		if err != nil || len(p.Name) == 0 || len(p.Name[0].Given) == 0 {
			continue
		}
		pid := ids[i]
		name := p.Name[0].Given[0] + " " + p.Name[0].Family
		mrn, phone, street := "", "", ""
		if len(p.Identifier) > 0 {
			mrn = p.Identifier[0].Value
		}
		if len(p.Telecom) > 0 {
			phone = p.Telecom[0].Value
		}
		if len(p.Address) > 0 && len(p.Address[0].Line) > 0 {
			street = p.Address[0].Line[0]
		}
		md := fmt.Sprintf("%d/%d", bd.Month(), bd.Day())
		mdy := fmt.Sprintf("%d/%d/%02d", bd.Month(), bd.Day(), bd.Year()%100)
		monthDay := fmt.Sprintf("%s %d", bd.Month(), bd.Day())
		dayMon := fmt.Sprintf("%d %s", bd.Day(), bd.Month().String()[:3])
		who := "planted for Patient/" + pid
		for _, s := range []string{md, mdy, monthDay, dayMon} {
			planted[s] = who + " birth date in text"
		}
		for _, s := range []string{"97 yo", "aged 97", "her 90s", "ninety-seven"} {
			planted[s] = who + " age over 89 in text"
		}
		text := fmt.Sprintf("%s (MRN %s), born %s, seen %s and %s, next %s; %s; call %s; lives at %s; 97 yo, aged 97, in her 90s, ninety-seven years old.",
			name, mrn, mdy, md, monthDay, dayMon, name, phone, street)
		obs := map[string]any{
			"resourceType": "Observation", "id": fmt.Sprintf("plant-obs-%d", i), "status": "final",
			"text": map[string]any{"status": "generated", "div": `<div xmlns="http://www.w3.org/1999/xhtml"><p>` + text + `</p></div>`},
			"extension": []any{
				map[string]any{"url": "https://riverside.example/fhir/StructureDefinition/remark", "valueString": text},
				map[string]any{"url": "https://riverside.example/fhir/StructureDefinition/contact",
					"extension": []any{map[string]any{"url": "note", "valueString": text},
						map[string]any{"url": "home", "valueUrl": "https://example.org/people/" + p.Name[0].Family}}},
			},
			"code": map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "8302-2", "display": "Body height per " + text}},
				"text": "Height " + text},
			"subject":           map[string]any{"reference": "Patient/" + pid, "display": name},
			"performer":         []any{map[string]any{"display": name}},
			"effectiveDateTime": p.BirthDate,
			"note":              []any{map[string]any{"text": text, "time": p.BirthDate + "T10:00:00Z"}},
			"valueString":       text,
			"component": []any{map[string]any{"code": map[string]any{"text": text},
				"valueCodeableConcept": map[string]any{"coding": []any{map[string]any{"system": "http://snomed.info/sct", "code": "260385009", "display": text}}}}},
		}
		doc := map[string]any{
			"resourceType": "DocumentReference", "id": fmt.Sprintf("plant-doc-%d", i), "status": "current",
			"type":        map[string]any{"text": "Letter about " + name},
			"subject":     map[string]any{"reference": "Patient/" + pid},
			"description": text,
			"content": []any{map[string]any{"attachment": map[string]any{"contentType": "text/plain", "title": "Letter for " + name + " " + mdy,
				"data": base64.StdEncoding.EncodeToString([]byte(text))}}},
		}
		loc := map[string]any{"resourceType": "Location", "id": fmt.Sprintf("plant-loc-%d", i), "name": "Home of " + name,
			"alias": []any{name + "'s house", street}}
		qr := map[string]any{"resourceType": "QuestionnaireResponse", "id": fmt.Sprintf("plant-qr-%d", i), "status": "completed",
			"subject": map[string]any{"reference": "Patient/" + pid},
			"item": []any{map[string]any{"linkId": "1", "text": "Emergency contact", "answer": []any{
				map[string]any{"valueString": text},
				map[string]any{"valueCoding": map[string]any{"system": "urn:local", "code": "x", "display": name}},
			}}}}
		// A contained person born over 89 years ago, and an event dated
		// then: the dates would show an age over 89 even cut to the year.
		old := map[string]any{"resourceType": "Condition", "id": fmt.Sprintf("plant-old-%d", i),
			"subject": map[string]any{"reference": "Patient/" + pid}, "onsetDateTime": "1931-06-01",
			"code":      map[string]any{"text": "Poliomyelitis in childhood"},
			"contained": []any{map[string]any{"resourceType": "RelatedPerson", "id": "mother", "patient": map[string]any{"reference": "Patient/" + pid}, "birthDate": "1929-03-04"}},
			"asserter":  map[string]any{"reference": "#mother"}}
		for _, r := range []map[string]any{obs, doc, loc, qr, old} {
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
	}
	return out, planted
}

// checkPlantedKept checks that the planted resources were written with
// their string elements still there, scrubbed (so the leak check above
// looked at them rather than at elements dropped whole).
func checkPlantedKept(t *testing.T, out map[string][]outRes, pseudonym func(typ, id string) string) {
	t.Helper()
	for i := range 400 {
		r := findOut(out["Observation"], pseudonym("Observation", fmt.Sprintf("plant-obs-%d", i)))
		if r == nil {
			continue
		}
		m := r.m
		get := func(path ...any) string {
			var v any = m
			for _, p := range path {
				switch p := p.(type) {
				case string:
					v = v.(map[string]any)[p]
				case int:
					v = v.([]any)[p]
				}
				if v == nil {
					return ""
				}
			}
			s, _ := v.(string)
			return s
		}
		for what, s := range map[string]string{
			"narrative div":         get("text", "div"),
			"extension valueString": get("extension", 0, "valueString"),
			"nested extension":      get("extension", 1, "extension", 0, "valueString"),
			"Coding.display":        get("code", "coding", 0, "display"),
			"CodeableConcept.text":  get("code", "text"),
			"Annotation.text":       get("note", 0, "text"),
			"valueString":           get("valueString"),
			"component display":     get("component", 0, "valueCodeableConcept", "coding", 0, "display"),
		} {
			if !contains(s, "[NAME]") || !contains(s, "[DATE]") || !contains(s, "90+") {
				t.Errorf("%s of %s not kept and scrubbed: %q", what, r.where, s)
			}
		}
		if get("subject", "display") != "" || get("performer", 0, "display") != "" {
			t.Errorf("Reference.display kept in %s", r.where)
		}
		return
	}
	t.Error("no planted Observation in the output")
}

// checkOldDates checks that dates over 89 years back are gone from the
// planted Conditions, contained persons included.
func checkOldDates(t *testing.T, out map[string][]outRes, pseudonym func(typ, id string) string) {
	t.Helper()
	seen := 0
	for i := range 400 {
		r := findOut(out["Condition"], pseudonym("Condition", fmt.Sprintf("plant-old-%d", i)))
		if r == nil {
			continue
		}
		seen++
		for _, y := range []string{"1931", "1929"} {
			if strings.Contains(r.text, y) {
				t.Errorf("a date in %s shows an age over 89: %s", y, r.text)
			}
		}
		if !strings.Contains(r.text, "90+") {
			t.Errorf("the contained person is not marked 90+: %s", r.text)
		}
	}
	if seen == 0 {
		t.Error("no planted old Condition in the output")
	}
}
