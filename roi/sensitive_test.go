package roi_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/roi"
)

// siteDocType is a site's local code for psychotherapy session notes,
// which the site adds to the category's document types.
const siteDocType = "https://riverside.example/fhir/CodeSystem/note-type"

// TestUnlabelledSensitiveRecords: records with no meta.security label are
// still recognised as sensitive by their codes, their document type, how
// they are named, and the encounter or condition they belong to; they are
// left out unless the authorization names their category, and released
// when it does. Look-alikes (tobacco, hearing aids, a note that says
// "denies alcohol use") are released as ordinary records.
func TestUnlabelledSensitiveRecords(t *testing.T) {
	enc := func(reason string) string {
		return `{"resourceType":"Encounter","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},` +
			`"subject":{"reference":"Patient/PATIENT"},"period":{"start":"2025-05-01T09:00:00Z","end":"2025-05-01T10:00:00Z"},` +
			`"reasonCode":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"` + reason + `"}]}]}`
	}
	cond := func(code, display, marker string) string {
		return `{"resourceType":"Condition","subject":{"reference":"Patient/PATIENT"},"recordedDate":"2025-05-01",` +
			`"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"` + code + `","display":"` + display + ` ` + marker + `"}]}}`
	}
	typedNote := func(system, code, title, text, encounter string) string {
		ctx := ""
		if encounter != "" {
			ctx = `,"context":{"encounter":[{"reference":"Encounter/` + encounter + `"}]}`
		}
		return `{"resourceType":"DocumentReference","status":"current","type":{"coding":[{"system":"` + system + `","code":"` + code + `"}],"text":"` + title + `"},` +
			`"subject":{"reference":"Patient/PATIENT"},"date":"2025-05-01T10:00:00Z",` +
			`"content":[{"attachment":{"contentType":"text/plain","data":"` + b64(text) + `"}}]` + ctx + `}`
	}
	lab := func(display, marker string) string {
		return `{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/PATIENT"},"effectiveDateTime":"2025-05-01T08:00:00Z",` +
			`"code":{"coding":[{"system":"http://loinc.org","code":"99999-9","display":"` + display + `"}]},"valueString":"` + marker + `"}`
	}
	cases := []struct {
		name     string
		category string
		// build adds the records and returns the markers of those that
		// belong to the category.
		build func(e *env) []string
	}{
		{"substance use: note written in a treatment encounter", roi.SubstanceUse, func(e *env) []string {
			id := e.create("enc", enc("F11.20"))
			e.create("note", typedNote("http://loinc.org", "11506-3", "Progress note", "Counselling session. MARKER-SUD-NOTE.", id))
			// The same encounter named by a versioned reference.
			e.create("note2", typedNote("http://loinc.org", "11506-3", "Progress note", "Group session. MARKER-SUD-VERSIONED.", id+"/_history/1"))
			return []string{"MARKER-SUD-NOTE", "MARKER-SUD-VERSIONED"}
		}},
		{"substance use: diagnosis code and an encounter naming it", roi.SubstanceUse, func(e *env) []string {
			c := e.create("dx", cond("F10.20", "Alcohol dependence", "MARKER-SUD-DX"))
			id := e.create("enc", strings.Replace(enc("Z00.00"), `"reasonCode"`, `"diagnosis":[{"condition":{"reference":"Condition/`+c+`"}}],"reasonCode"`, 1))
			e.create("note", typedNote("http://loinc.org", "11506-3", "Progress note", "Visit. MARKER-SUD-LINKED.", id))
			return []string{"MARKER-SUD-DX", "MARKER-SUD-LINKED"}
		}},
		{"substance use: note type named", roi.SubstanceUse, func(e *env) []string {
			e.create("note", typedNote("http://loinc.org", "11506-3", "Opioid treatment program progress note", "Dose 60 mg. MARKER-SUD-TYPE.", ""))
			return []string{"MARKER-SUD-TYPE"}
		}},
		{"psychotherapy: the site's document type", roi.PsychotherapyNotes, func(e *env) []string {
			e.create("note", typedNote(siteDocType, "PSYTX", "Session note", "Session content. MARKER-PSY-SITE.", ""))
			return []string{"MARKER-PSY-SITE"}
		}},
		{"psychotherapy: note type named", roi.PsychotherapyNotes, func(e *env) []string {
			e.create("note", typedNote("http://loinc.org", "11506-3", "Psychotherapy progress note", "Session content. MARKER-PSY-TYPE.", ""))
			return []string{"MARKER-PSY-TYPE"}
		}},
		{"HIV: status code, viral load and an encounter for it", roi.HIV, func(e *env) []string {
			e.create("dx", cond("Z21", "Asymptomatic HIV infection status", "MARKER-HIV-DX"))
			e.create("lab", lab("HIV 1 RNA viral load", "MARKER-HIV-LAB"))
			id := e.create("enc", enc("B20"))
			e.create("note", typedNote("http://loinc.org", "11506-3", "Infectious disease clinic note", "MARKER-HIV-NOTE.", id))
			return []string{"MARKER-HIV-DX", "MARKER-HIV-LAB", "MARKER-HIV-NOTE"}
		}},
		{"genetic: susceptibility code and a test result", roi.Genetic, func(e *env) []string {
			e.create("dx", cond("Z15.01", "Genetic susceptibility to malignant neoplasm of breast", "MARKER-GEN-DX"))
			e.create("lab", lab("BRCA1 gene germline mutation analysis", "MARKER-GEN-LAB"))
			return []string{"MARKER-GEN-DX", "MARKER-GEN-LAB"}
		}},
		{"reproductive health: pregnancy loss, contraception and its visit", roi.ReproductiveHealth, func(e *env) []string {
			e.create("dx", cond("O03.9", "Complete or unspecified spontaneous abortion without complication", "MARKER-REPRO-DX"))
			id := e.create("enc", enc("Z30.011"))
			e.create("note", typedNote("http://loinc.org", "11506-3", "Clinic note", "Visit. MARKER-REPRO-NOTE.", id))
			return []string{"MARKER-REPRO-DX", "MARKER-REPRO-NOTE"}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, authorized := range []bool{false, true} {
				e := newEnv(t)
				cats := roi.DefaultCategories()
				for i := range cats {
					if cats[i].Code == roi.PsychotherapyNotes {
						cats[i].DocumentTypes = append(cats[i].DocumentTypes, roi.Coding{System: siteDocType, Code: "PSYTX"})
					}
				}
				e.svc.Categories = cats
				// Ordinary records that must be released either way.
				e.create("tobacco", cond("F17.210", "Nicotine dependence, cigarettes", "MARKER-TOBACCO"))
				e.create("aids", lab("Hearing aids checked", "MARKER-HEARING"))
				e.create("plain", typedNote("http://loinc.org", "11506-3", "Progress note", "Denies alcohol use. MARKER-PLAIN.", ""))
				markers := c.build(e)
				a := e.authorize(func(a *roi.Authorization) {
					if authorized {
						a.Categories = []string{c.category}
					}
				})
				r := e.attorneyRequest(a.ID, func(r *roi.Request) {
					if authorized {
						r.Categories = []string{c.category}
					}
				})
				_, p, err := e.svc.Release(specialist(), r.ID, roi.Delivery{Method: "mail"})
				if err != nil {
					t.Fatal(err)
				}
				text := pdfText(t, p.PDF) + bundleText(t, p.Bundle)
				for _, m := range markers {
					if got := strings.Contains(text, m); got != authorized {
						t.Errorf("authorized=%v: packet holds %s: %v", authorized, m, got)
					}
				}
				for _, m := range []string{"MARKER-TOBACCO", "MARKER-HEARING", "MARKER-PLAIN"} {
					if !strings.Contains(text, m) {
						t.Errorf("authorized=%v: the ordinary record %s was left out", authorized, m)
					}
				}
			}
		})
	}
}

// TestReadCategories: the defaults written as JSON read back the same; a
// site's file with mistakes is refused with the reason.
func TestReadCategories(t *testing.T) {
	b, err := json.Marshal(roi.DefaultCategories())
	if err != nil {
		t.Fatal(err)
	}
	cats, err := roi.ReadCategories(bytes.NewReader(b))
	if err != nil || !reflect.DeepEqual(cats, roi.DefaultCategories()) {
		t.Fatalf("the defaults do not read back: %v", err)
	}
	for _, c := range []struct{ name, json, says string }{
		{"not JSON", `{`, "not a JSON array"},
		{"empty", `[]`, "names no category"},
		{"unknown field", `[{"code":"x","name":"X","regulation":"law","words":["x"],"colour":"red"}]`, "not a JSON array"},
		{"bad code", `[{"code":"Sub Use","name":"X","regulation":"law","words":["x"]}]`, "lower-case letters"},
		{"twice", `[{"code":"x","name":"X","regulation":"law","words":["x"]},{"code":"x","name":"Y","regulation":"law","words":["y"]}]`, "used twice"},
		{"no name", `[{"code":"x","regulation":"law","words":["x"]}]`, "needs its name"},
		{"nothing marks it", `[{"code":"x","name":"X","regulation":"law"}]`, "mark its records"},
		{"coding without system", `[{"code":"x","name":"X","regulation":"law","codes":[{"code":"F50"}]}]`, "system and a code"},
		{"empty word", `[{"code":"x","name":"X","regulation":"law","words":[" "]}]`, "match everything"},
	} {
		_, err := roi.ReadCategories(strings.NewReader(c.json))
		if code(err) != custodian.EINVALID || !strings.Contains(custodian.ErrorMessage(err), c.says) {
			t.Errorf("%s: %v, want EINVALID saying %q", c.name, err, c.says)
		}
	}
}
