package coding

import (
	"strings"

	"github.com/custodian-him/custodian/codeset"
)

// combine applies the classification's combination and specificity
// conventions to what the text mentions:
//
//   - ICD-10-CM Guidelines I.C.9.a: hypertension with heart failure is
//     coded I11.0, with chronic kidney disease I12.9, with both I13.0 (the
//     "with" presumption: the link need not be written); the heart failure
//     and CKD stage codes are kept beside it.
//   - I.C.4.a: diabetes with CKD is presumed linked: type 2 diabetes
//     without complications (E11.9) and CKD become E11.22 (E10.22 for
//     type 1).
//   - I.A.17 / III.C: the most specific code the text supports; a code of
//     a category whose title says "unspecified" or "without complications"
//     gives way to a more specific code of the same category also
//     mentioned (I50.9 beside I50.22, M17.9 beside M17.11).
func (r *run) combine() {
	present := func(prefix string) *Suggestion {
		for k, sg := range r.byCode {
			if strings.HasPrefix(k, prefix) && sg.Assertion != Negated && sg.Assertion != Family {
				return sg
			}
		}
		return nil
	}
	ckd, hf := present("N18"), present("I50")
	if htn := r.byCode["I10"]; htn != nil && (ckd != nil || hf != nil) {
		code := "I110"
		switch {
		case ckd != nil && hf != nil:
			code = "I130"
			if ckd.Concept.Code() == "N185" || ckd.Concept.Code() == "N186" {
				code = "I132"
			}
		case ckd != nil:
			code = "I129"
			if ckd.Concept.Code() == "N185" || ckd.Concept.Code() == "N186" {
				code = "I120"
			}
		}
		r.replace(htn, code)
	}
	if ckd != nil {
		for _, dm := range []string{"E119", "E109"} {
			if sg := r.byCode[dm]; sg != nil {
				r.replace(sg, dm[:3]+"22")
			}
		}
	}
	// specificity within a category
	for k, sg := range r.byCode {
		if sg.System != codeset.ICD10CM {
			continue
		}
		title := strings.ToLower(sg.Title)
		if !strings.Contains(title, "unspecified") && !strings.Contains(title, "without complications") {
			continue
		}
		for k2, other := range r.byCode {
			if k2 == k || len(k2) < 3 || k2[:3] != k[:3] || other.System != sg.System {
				continue
			}
			t2 := strings.ToLower(other.Title)
			if strings.Contains(t2, "unspecified") || strings.Contains(t2, "without complications") {
				continue
			}
			other.Evidence = append(other.Evidence, sg.Evidence...)
			other.Score = max(other.Score, sg.Score)
			other.poaN = other.poaN || sg.poaN
			delete(r.byCode, k)
			break
		}
	}
}

// replace moves sg's mentions to the combination code (merging with it if
// it was mentioned too).
func (r *run) replace(sg *Suggestion, code string) {
	c, ok := r.s.cm.Concept(code)
	if !ok || !c.Billable(r.opt.Date) {
		return
	}
	delete(r.byCode, sg.Concept.Code())
	if to := r.byCode[code]; to != nil {
		to.Evidence = append(to.Evidence, sg.Evidence...)
		to.Score = max(to.Score, sg.Score)
		to.poaN = to.poaN || sg.poaN
		return
	}
	sg.Concept, sg.Code, sg.Title = c, c.Display(), c.Label()
	r.byCode[code] = sg
}
