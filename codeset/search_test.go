package codeset_test

import (
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/codeset"
)

// TestSearchClinical checks that what clinicians write finds the code an
// experienced coder would pick from the Alphabetic Index (top hit).
func TestSearchClinical(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sys   codeset.SystemID
		query string
		want  string // the top hit
	}{
		{codeset.ICD10CM, "pneumonia", "J18.9"},
		{codeset.ICD10CM, "influenza", "J11.1"},
		{codeset.ICD10CM, "HTN", "I10"},
		{codeset.ICD10CM, "hypertension", "I10"},
		{codeset.ICD10CM, "CKD 3a", "N18.31"},
		{codeset.ICD10CM, "ckd stage iii", "N18.30"},
		{codeset.ICD10CM, "DKA", "E11.10"},
		{codeset.ICD10CM, "STEMI", "I21.3"},
		{codeset.ICD10CM, "UTI", "N39.0"},
		{codeset.ICD10CM, "COPD exacerbation", "J44.1"},
		{codeset.ICD10CM, "exacerbation of copd", "J44.1"},
		{codeset.ICD10CM, "AKI", "N17.9"},
		{codeset.ICD10CM, "T2DM", "E11.9"},
		{codeset.ICD10CM, "T2DM with neuropathy", "E11.40"},
		{codeset.ICD10CM, "diabetes", "E11.9"},
		{codeset.ICD10CM, "diabetis with neuropathy", "E11.40"}, // misspelt
		{codeset.ICD10CM, "pnuemonia", "J18.9"},                 // transposed letters
		{codeset.ICD10CM, "kidney failure acute", "N17.9"},      // word order
		{codeset.ICD10CM, "hip fractures", "S72.009A"},          // plural; 7th character A
		{codeset.ICD10CM, "closed fracture of right femoral neck initial", "S72.001A"},
		{codeset.ICD10CM, "chest pain", "R07.9"},
		{codeset.ICD10CM, "sepsis", "A41.9"},
		{codeset.ICD10CM, "CHF", "I50.9"},
		{codeset.ICD10CM, "afib", "I48.91"},
		{codeset.ICD10CM, "heart attack", "I21.9"},
		{codeset.ICD10CM, "GERD", "K21.9"},
		{codeset.ICD10CM, "acute on chronic systolic heart failure", "I50.23"},
		{codeset.ICD10CM, "history of breast cancer", "Z85.3"},
		{codeset.ICD10CM, "fall from ladder", "W11.XXXA"},
		{codeset.ICD10CM, "sepsis due to e coli", "A41.51"},
		{codeset.ICD10CM, "hyponatremia", "E87.1"},    // not the newborn code
		{codeset.ICD10CM, "syncope", "R55"},           // not heat syncope
		{codeset.ICD10CM, "c diff colitis", "A04.72"}, // not specified as recurrent
		{codeset.ICD10CM, "gi bleed", "K92.2"},
		{codeset.ICD10CM, "cellulitis of left leg", "L03.116"},
		{codeset.ICD10CM, "pressure ulcer sacrum stage 2", "L89.152"},
		{codeset.ICD10CM, "opioid dependence", "F11.20"}, // uncomplicated
		{codeset.ICD10CM, "SBO", "K56.609"},
		{codeset.ICD10CM, "hepatitis", "K75.9"},
		{codeset.ICD10CM, "hepatitis a", "B15.9"},
		{codeset.ICD10CM, "E119", "E11.9"},
		{codeset.ICD10CM, "e11.9", "E11.9"},
		{codeset.ICD10CM, " E11.9 ", "E11.9"},
		{codeset.ICD10CM, "T36.01A", "T36.0X1A"},
		{codeset.ICD10CM, "stroke", "I63.9"},
		{codeset.ICD10CM, "ischemic stroke", "I63.9"},
		{codeset.ICD10CM, "acute ischemic stroke", "I63.9"},
		{codeset.ICD10CM, "hemorrhagic stroke", "I61.9"},
		{codeset.ICD10CM, "history of stroke", "Z86.73"}, // the patient's own, not Z82.3
		{codeset.ICD10CM, "family history of stroke", "Z82.3"},
		{codeset.ICD10CM, "left MCA stroke", "I63.512"}, // the mechanism is not stated
		{codeset.ICD10CM, "CAP", "J18.9"},
		{codeset.ICD10CM, "community acquired pneumonia", "J18.9"},
		{codeset.ICD10CM, "community-acquired pneumonia", "J18.9"},
		{codeset.ICD10CM, "VAP", "J95.851"},
		{codeset.ICD10CM, "calculous cholecystitis", "K80.10"}, // cholecystitis with cholelithiasis NOS
		{codeset.ICD10CM, "acute calculous cholecystitis", "K80.00"},
		{codeset.ICD10CM, "cholelithiasis", "K80.20"}, // the header's default, not the header
		{codeset.ICD10CM, "gallstones", "K80.20"},
		{codeset.ICD10CM, "knee cap fracture", "S82.009A"},
		{codeset.ICD10PCS, "laparoscopic appendectomy", "0DTJ4ZZ"},
		{codeset.ICD10PCS, "colonoscopy", "0DJD8ZZ"},
		{codeset.ICD10PCS, "lap chole", "0FT44ZZ"},
		{codeset.ICD10PCS, "laparoscopic hysterectomy", "0UT94ZZ"},
		{codeset.ICD10PCS, "total knee replacement right", "0SRC0JZ"},
		{codeset.ICD10PCS, "c-section", "10D00Z1"},
		{codeset.ICD10PCS, "intubation", "0BH17EZ"},
		{codeset.ICD10PCS, "blood transfusion", "30233N1"},
		{codeset.ICD10PCS, "lumbar puncture", "009U3ZX"},
		{codeset.ICD10PCS, "chest tube", "0W9930Z"},
		{codeset.ICD10PCS, "0dtj4zz", "0DTJ4ZZ"},
		{codeset.ICD10PCS, "0DTJ", "0DTJ0ZZ"}, // the start of codes
	}
	for _, tt := range tests {
		cs := system(t, tt.sys)
		res, err := cs.Search(tt.query, codeset.SearchOptions{Limit: 5})
		if err != nil {
			t.Errorf("Search(%q): %v", tt.query, err)
			continue
		}
		if len(res.Hits) == 0 || res.Hits[0].Concept.Display() != tt.want {
			var got []string
			for _, h := range res.Hits {
				got = append(got, h.Concept.Display())
			}
			t.Errorf("Search(%q) = %v, want %s first", tt.query, got, tt.want)
		}
	}
}

func TestSearchCodes(t *testing.T) {
	t.Parallel()
	cm := system(t, codeset.ICD10CM)
	// A code that needs a 7th character lists the completed codes after it.
	res, err := cm.Search("S72.001", codeset.SearchOptions{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 17 || res.Hits[0].Concept.Code() != "S72001" || res.Hits[1].Concept.Code() != "S72001A" {
		t.Errorf("S72.001: total %d, hits %v", res.Total, res.Hits)
	}
	// Billable only, under a category, with paging.
	res, err = cm.Search("E11", codeset.SearchOptions{Billable: true, Offset: 2, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 2 || !res.Hits[0].Concept.Billable(0) || res.Total < 50 {
		t.Errorf("E11 billable page: %d hits of %d", len(res.Hits), res.Total)
	}
	res, err = cm.Search("neuropathy", codeset.SearchOptions{Under: "E11"})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range res.Hits {
		if h.Concept.Code()[:3] != "E11" {
			t.Errorf("neuropathy under E11 found %s", h.Concept.Display())
		}
	}
	if len(res.Hits) == 0 {
		t.Errorf("neuropathy under E11 found nothing")
	}
	for _, q := range []string{"", "   ", string(make([]byte, codeset.MaxQuery+1))} {
		if _, err := cm.Search(q, codeset.SearchOptions{}); custodian.ErrorCode(err) != custodian.EINVALID {
			t.Errorf("Search(%.10q) error %v, want EINVALID", q, err)
		}
	}
	if _, err := cm.Search("pneumonia", codeset.SearchOptions{Under: "E11.99"}); custodian.ErrorCode(err) != custodian.ENOTFOUND {
		t.Errorf("under an unknown code: %v", err)
	}
	res, err = cm.Search("zzqxv", codeset.SearchOptions{})
	if err != nil || res.Total != 0 {
		t.Errorf("nonsense: %d hits, %v", res.Total, err)
	}
}
