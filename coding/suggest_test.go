package coding_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/coding"
	"github.com/custodian-him/custodian/synth"
)

func suggester(t testing.TB) *coding.Suggester {
	t.Helper()
	s, err := coding.NewSuggester(loadSet(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// find returns the suggestion of code, nil if none.
func find(out []coding.Suggestion, code string) *coding.Suggestion {
	for i := range out {
		if out[i].Code == code {
			return &out[i]
		}
	}
	return nil
}

func TestSuggestAssertions(t *testing.T) {
	s := suggester(t)
	cases := []struct {
		name    string
		text    string
		setting coding.Setting
		want    []string // codes that must be suggested
		not     []string // codes that must not be
	}{
		{"denies", "HPI: 60-year-old man presents with cough. He denies chest pain, fever or dysuria.\n", coding.Inpatient, []string{"R05.9"}, []string{"R07.9", "R50.9", "R30.0"}},
		{"no evidence of", "IMPRESSION: No evidence of pneumonia. Acute bronchitis.\n", coding.Inpatient, []string{"J20.9"}, []string{"J18.9"}},
		{"negative for", "ASSESSMENT: Negative for influenza. Hypokalemia.\n", coding.Inpatient, []string{"E87.6"}, []string{"J11.1"}},
		{"ruled out after", "HOSPITAL COURSE: Pulmonary embolism was ruled out. Treated for essential hypertension.\n", coding.Inpatient, []string{"I10"}, []string{"I26.99"}},
		{"without", "A/P: Chest pain without evidence of myocardial infarction.\n", coding.Outpatient, []string{"R07.9"}, []string{"I21.9"}},
		{"scope ends at but", "HPI: Denies fever but reports dysuria.\n", coding.Outpatient, []string{"R30.0"}, []string{"R50.9"}},
		{"uncertain inpatient", "DISCHARGE DIAGNOSES:\n- Probable community-acquired pneumonia\n", coding.Inpatient, []string{"J18.9"}, nil},
		{"uncertain outpatient", "ASSESSMENT: Cough. Suspected pneumonia.\n", coding.Outpatient, []string{"R05.9"}, []string{"J18.9"}},
		{"family history", "FAMILY HISTORY: Breast cancer in her mother.\nASSESSMENT: Essential hypertension.\n", coding.Outpatient, []string{"Z80.3", "I10"}, []string{"C50.919"}},
		{"family history inline", "PMH: HTN. Family history of breast cancer.\n", coding.Outpatient, []string{"Z80.3", "I10"}, []string{"C50.919"}},
		{"history of tobacco", "SOCIAL HISTORY: Former smoker. History of nicotine dependence.\n", coding.Outpatient, []string{"Z87.891"}, []string{"F17.210"}},
		{"laterality", "DIAGNOSES:\n- Primary osteoarthritis of the left knee\n", coding.Inpatient, []string{"M17.12"}, []string{"M17.11", "M17.9"}},
		{"combination HTN CKD", "DIAGNOSES:\n- Essential hypertension\n- Chronic kidney disease stage 3b\n", coding.Inpatient, []string{"I12.9", "N18.32"}, []string{"I10"}},
		{"combination HTN HF CKD", "DIAGNOSES:\n- HTN\n- Chronic systolic CHF\n- CKD stage 4\n", coding.Inpatient, []string{"I13.0", "I50.22", "N18.4"}, []string{"I10", "I11.0", "I12.9"}},
		{"combination T2DM CKD", "DIAGNOSES:\n- Type 2 diabetes mellitus\n- CKD 3a\n", coding.Inpatient, []string{"E11.22", "N18.31"}, []string{"E11.9"}},
		{"with not without", "PRINCIPAL DIAGNOSIS: Hypertensive heart and chronic kidney disease with heart failure.\n", coding.Inpatient, []string{"I13.0"}, []string{"I13.10"}},
		{"medications are not diagnoses", "MEDICATIONS:\n- Aspirin for coronary artery disease\nASSESSMENT: Gout.\n", coding.Outpatient, []string{"M10.9"}, []string{"I25.10"}},
		{"operative note", "OPERATIVE REPORT\nPREOPERATIVE DIAGNOSIS: Acute appendicitis.\nPROCEDURE: Laparoscopic appendectomy.\nDESCRIPTION: The appendix was inflamed.\n", coding.Inpatient, []string{"0DTJ4ZZ"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := s.Suggest(tc.text, coding.Options{Setting: tc.setting})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, sg := range out {
				got = append(got, sg.Code)
			}
			for _, w := range tc.want {
				if find(out, w) == nil {
					t.Errorf("want %s, got %v", w, got)
				}
			}
			for _, n := range tc.not {
				if find(out, n) != nil {
					t.Errorf("do not want %s, got %v", n, got)
				}
			}
			for _, sg := range out {
				for _, ev := range sg.Evidence {
					if ev.Start < 0 || ev.End > len(tc.text) || tc.text[ev.Start:ev.End] != ev.Text {
						t.Errorf("%s: evidence %+v does not point into the text", sg.Code, ev)
					}
				}
			}
		})
	}
}

func TestSuggestPOAAndPrincipal(t *testing.T) {
	s := suggester(t)
	text := "DISCHARGE SUMMARY\nPRINCIPAL DIAGNOSIS: Sepsis.\nSECONDARY DIAGNOSES:\n- Urinary tract infection\n- Acute kidney failure (developed during this admission)\n- Long-term use of oral hypoglycemics\n"
	out, err := s.Suggest(text, coding.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 || out[0].Code != "A41.9" || !out[0].Principal || out[0].POA != "Y" {
		t.Fatalf("principal: %+v", out)
	}
	if sg := find(out, "N17.9"); sg == nil || sg.POA != "N" {
		t.Errorf("AKI arising in the stay: want POA N, got %+v", sg)
	}
	if sg := find(out, "Z79.84"); sg == nil || sg.POA != "" {
		t.Errorf("Z79.84 is POA-exempt: got %+v", sg)
	}
	out, _ = s.Suggest(text, coding.Options{Setting: coding.Outpatient})
	for _, sg := range out {
		if sg.Principal || sg.POA != "" {
			t.Errorf("outpatient suggestions carry no principal or POA: %+v", sg)
		}
	}
}

func TestSuggestLimits(t *testing.T) {
	s := suggester(t)
	if out, err := s.Suggest("", coding.Options{}); err != nil || len(out) != 0 {
		t.Fatalf("empty text: %v %v", out, err)
	}
	if out, err := s.Suggest("   \n\n", coding.Options{}); err != nil || len(out) != 0 {
		t.Fatalf("blank text: %v %v", out, err)
	}
	big := strings.Repeat("Essential hypertension. ", 10<<20/24+1)
	if _, err := s.Suggest(big, coding.Options{}); custodian.ErrorCode(err) != custodian.ETOOLARGE {
		t.Fatalf("10 MB: want ETOOLARGE, got %v", err)
	}
	// At the limit it is processed, within a bound.
	limit := strings.Repeat("Essential hypertension. Denies chest pain.\n", coding.MaxText/43)
	out, err := s.Suggest(limit, coding.Options{})
	if err != nil || find(out, "I10") == nil {
		t.Fatalf("text at the limit: %v", err)
	}
	if _, err := coding.ParseSetting("ward"); custodian.ErrorCode(err) != custodian.EINVALID {
		t.Fatalf("bad setting: %v", err)
	}
}

// generatedNotes returns the generated hospital's discharge summaries and
// every inpatient note by encounter, with the ground truth.
func generatedNotes(t testing.TB, patients int) (summaries map[string]string, notes map[string][]coding.Note, truth []*synth.Fact) {
	t.Helper()
	var col synth.Collector
	if _, err := synth.Generate(context.Background(), synth.Config{Patients: patients, Seed: 7}, &col); err != nil {
		t.Fatal(err)
	}
	summaries, notes = map[string]string{}, map[string][]coding.Note{}
	for i, typ := range col.Types {
		if typ != "DocumentReference" {
			continue
		}
		var d struct {
			Type    struct{ Coding []struct{ Code string } }
			Content []struct{ Attachment struct{ Data string } }
			Context struct{ Encounter []struct{ Reference string } }
		}
		if err := json.Unmarshal(col.Bodies[i], &d); err != nil {
			t.Fatal(err)
		}
		b, err := base64.StdEncoding.DecodeString(d.Content[0].Attachment.Data)
		if err != nil {
			t.Fatal(err)
		}
		enc := d.Context.Encounter[0].Reference
		notes[enc] = append(notes[enc], coding.Note{ID: "DocumentReference/" + col.IDs[i], Text: string(b)})
		if d.Type.Coding[0].Code == "18842-5" {
			summaries[enc] = string(b)
		}
	}
	for i := range col.Facts {
		if col.Facts[i].Kind == synth.FactCoding {
			truth = append(truth, &col.Facts[i])
		}
	}
	return summaries, notes, truth
}

// score compares suggestions with the expected coding.
type score struct {
	stays, principalOK                    int
	secondary, secondaryHit, zHit, zTotal int
	procs, procHit                        int
	suggested, correct, poaOK, poaTotal   int
}

func (sc *score) add(out []coding.Suggestion, f *synth.Fact) {
	sc.stays++
	if len(out) > 0 && out[0].Principal && out[0].Code == f.Principal {
		sc.principalOK++
	}
	want := map[string]string{f.Principal: f.Diagnoses[0].POA}
	for _, d := range f.Diagnoses[1:] {
		want[d.Code] = d.POA
		hit := find(out, d.Code) != nil
		if strings.HasPrefix(d.Code, "Z") {
			sc.zTotal++
			if hit {
				sc.zHit++
			}
			continue
		}
		sc.secondary++
		if hit {
			sc.secondaryHit++
		}
	}
	for _, p := range f.Procedures {
		want[p] = ""
		sc.procs++
		if find(out, p) != nil {
			sc.procHit++
		}
	}
	for _, sg := range out {
		sc.suggested++
		if poa, ok := want[sg.Code]; ok {
			sc.correct++
			if sg.System == "icd10cm" {
				sc.poaTotal++
				if sg.POA == poa {
					sc.poaOK++
				}
			}
		}
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func (sc *score) report(t *testing.T, what string) {
	t.Logf("%s: %d stays; principal %.3f; secondary (not Z) recall %.3f (%d); Z codes recall %.3f (%d); procedures recall %.3f (%d); precision %.3f of %d suggestions; POA agreement %.3f",
		what, sc.stays, ratio(sc.principalOK, sc.stays), ratio(sc.secondaryHit, sc.secondary), sc.secondary, ratio(sc.zHit, sc.zTotal), sc.zTotal,
		ratio(sc.procHit, sc.procs), sc.procs, ratio(sc.correct, sc.suggested), sc.suggested, ratio(sc.poaOK, sc.poaTotal))
}

// TestSuggestGroundTruth scores suggestions on the generator's notes
// against its expected coding (FactCoding). CODING_EVAL_PATIENTS sets a
// larger hospital for a fuller measurement.
func TestSuggestGroundTruth(t *testing.T) {
	patients := 150
	if n, err := strconv.Atoi(os.Getenv("CODING_EVAL_PATIENTS")); err == nil {
		patients = n
	}
	s := suggester(t)
	summaries, notes, truth := generatedNotes(t, patients)
	var ds, all score
	for _, f := range truth {
		if text, ok := summaries[f.Encounter]; ok {
			out, err := s.Suggest(text, coding.Options{Setting: coding.Inpatient})
			if err != nil {
				t.Fatal(err)
			}
			ds.add(out, f)
		}
		out, err := s.SuggestNotes(notes[f.Encounter], coding.Options{Setting: coding.Inpatient})
		if err != nil {
			t.Fatal(err)
		}
		all.add(out, f)
	}
	ds.report(t, "discharge summary")
	all.report(t, "all notes of the stay")
	if ds.stays < 30 {
		t.Fatalf("only %d stays with a discharge summary", ds.stays)
	}
	// Floors, a little under what was measured (see the report).
	floors := []struct {
		name       string
		got, floor float64
	}{
		{"discharge summary principal", ratio(ds.principalOK, ds.stays), .95},
		{"discharge summary secondary recall", ratio(ds.secondaryHit, ds.secondary), .90},
		{"discharge summary Z code recall", ratio(ds.zHit, ds.zTotal), .75},
		{"discharge summary procedure recall", ratio(ds.procHit, ds.procs), .80},
		{"discharge summary precision", ratio(ds.correct, ds.suggested), .85},
		{"discharge summary POA agreement", ratio(ds.poaOK, ds.poaTotal), .90},
		{"all notes secondary recall", ratio(all.secondaryHit, all.secondary), .90},
		{"all notes precision", ratio(all.correct, all.suggested), .70},
	}
	for _, f := range floors {
		if f.got < f.floor {
			t.Errorf("%s %.3f is under its floor %.2f", f.name, f.got, f.floor)
		}
	}
}

// BenchmarkSuggestDischargeSummary times suggestion over a three-page
// discharge summary (about 9,000 bytes: generated summaries joined).
func BenchmarkSuggestDischargeSummary(b *testing.B) {
	s := suggester(b)
	summaries, _, _ := generatedNotes(b, 60)
	var sb strings.Builder
	for _, text := range summaries {
		if sb.Len() >= 9000 {
			break
		}
		sb.WriteString(text)
		sb.WriteString("\n")
	}
	text := sb.String()
	if _, err := s.Suggest(text, coding.Options{}); err != nil { // builds the search index
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Suggest(text, coding.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
