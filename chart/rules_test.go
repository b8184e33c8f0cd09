package chart_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/chart"
	"github.com/custodian-him/custodian/codeset"
)

func TestParseRulesRejects(t *testing.T) {
	good := string(chart.DefaultRules().JSON())
	cases := []struct{ name, from, to string }{
		{"unknown check", `"check": "consent"`, `"check": "telepathy"`},
		{"bad limit", `"limit": "24h"`, `"limit": "a day"`},
		{"bad owner", `"owner": "performer"`, `"owner": "nobody"`},
		{"duplicate id", `"id": "hp-before-surgery"`, `"id": "hp-24h"`},
		{"unknown field", `"timezone": ""`, `"timezone": "", "colour": "blue"`},
		{"bad zone", `"timezone": ""`, `"timezone": "Mars/Olympus"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(good, c.from) {
				t.Fatalf("default rules do not contain %s", c.from)
			}
			_, err := chart.ParseRules([]byte(strings.Replace(good, c.from, c.to, 1)))
			if custodian.ErrorCode(err) != custodian.EINVALID {
				t.Errorf("error %v, want EINVALID", err)
			}
		})
	}
	rs, err := chart.RulesFromLibrary(mustJSON(t, chart.DefaultRules().Library()))
	if err != nil || len(rs.Rules) != len(chart.DefaultRules().Rules) {
		t.Errorf("library round trip: %v", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAccuracyAndConsistency checks the rules the generator never breaks,
// on a hand-made stay.
func TestAccuracyAndConsistency(t *testing.T) {
	enc := `{"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"IMP"},"subject":{"reference":"Patient/p1"},
	 "period":{"start":"2025-03-01T08:00:00-05:00","end":"2025-03-02T11:00:00-05:00"},
	 "participant":[{"type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"ATND"}]}],"individual":{"reference":"Practitioner/att"}}],
	 "hospitalization":{"admitSource":{"coding":[{"code":"emd"}]},"dischargeDisposition":{"coding":[{"code":"home"}]}}}`
	cond := func(id, code, text string) string {
		return fmt.Sprintf(`{"resourceType":"Condition","id":%q,"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":%q}],"text":%q},
		"subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"}}`, id, code, text)
	}
	ds := "DISCHARGE SUMMARY\nPRINCIPAL DIAGNOSIS: Community-acquired pneumonia.\nSECONDARY DIAGNOSES:\n- Acute kidney injury\n- No evidence of sepsis\n\nHOSPITAL COURSE: improved.\n"
	codes, err := codeset.Load()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		extra []string
		want  []string // kinds that must be found (beyond the base stay's)
	}{
		{"a header code (not reportable)", []string{cond("c1", "J18.9", "community-acquired pneumonia"), cond("c2", "N17.9", "acute kidney injury"),
			cond("c3", "E11", "acute kidney injury")}, []string{chart.KindCodeInvalidForDate}},
		{"consistent", []string{cond("c1", "J18.9", "community-acquired pneumonia"), cond("c2", "N17.9", "acute kidney injury")}, nil},
		{"coded, not documented", []string{cond("c1", "J18.9", "community-acquired pneumonia"), cond("c2", "N17.9", "acute kidney injury"), cond("c3", "E87.1", "hyponatremia")}, []string{chart.KindDxNotDocumented}},
		{"documented, not coded", []string{cond("c1", "J18.9", "community-acquired pneumonia")}, []string{chart.KindDxNotCoded}},
		{"male code on a woman", []string{cond("c1", "J18.9", "community-acquired pneumonia"), cond("c2", "N17.9", "acute kidney injury"), cond("c3", "N40.0", "acute kidney injury")}, []string{chart.KindCodeSexConflict}},
		{"implausible pulse", []string{cond("c1", "J18.9", "community-acquired pneumonia"), cond("c2", "N17.9", "acute kidney injury"),
			`{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"encounter":{"reference":"Encounter/e1"},"valueQuantity":{"value":720,"code":"/min"}}`},
			[]string{chart.KindImplausibleValue}},
		{"procedure after discharge", []string{cond("c1", "J18.9", "community-acquired pneumonia"), cond("c2", "N17.9", "acute kidney injury"),
			`{"resourceType":"Procedure","id":"x1","status":"completed","category":{"coding":[{"system":"http://snomed.info/sct","code":"387713003"}]},"code":{"coding":[{"code":"0DTJ4ZZ"}]},"encounter":{"reference":"Encounter/e1"},"performedPeriod":{"start":"2025-03-05T08:00:00-05:00"}}`},
			[]string{chart.KindDatesOutOfOrder, chart.KindMissingOperativeNote, chart.KindMissingConsent}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := chart.DefaultRules()
			ix := chart.NewIndex(rs)
			all := append([]string{enc,
				`{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1950-01-01"}`,
				note("hp", "34117-2", "2025-03-01T09:00:00-05:00", "2025-03-01T10:00:00-05:00", "att", "att", "H&P"),
				note("ds", "18842-5", "2025-03-03T09:00:00-05:00", "2025-03-03T10:00:00-05:00", "att", "att", ds),
			}, c.extra...)
			for _, b := range all {
				var head struct{ ResourceType, ID string }
				json.Unmarshal([]byte(b), &head)
				ix.Add(head.ResourceType, head.ID, []byte(b))
			}
			var got []string
			for _, d := range ix.Evaluate(rs, "Encounter/e1", time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), codes) {
				if d.Evidence == "" || d.Clear == "" || d.Rule == "" {
					t.Errorf("%s lacks its explanation: %+v", d.Key, d)
				}
				got = append(got, d.Kind)
			}
			slices.Sort(got)
			got = slices.Compact(got)
			want := slices.Clone(c.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("found %v, want %v", got, want)
			}
		})
	}
}
