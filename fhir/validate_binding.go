package fhir

import "strconv"

// Required bindings: a value of a bound element must come from the value
// set when the value set could be enumerated from the R4 definitions
// (Element.Binding is set either way; see definitions/PROVENANCE.md for
// the few that cannot be). Plain codes are checked in validator.value.

// coding checks a Coding bound to vs: its code must be one of the value
// set's codes for its system. A Coding without a code or system says
// nothing checkable and passes.
func (v *validator) coding(vs *valueSet, obj map[string]any, at string) {
	sys, _ := obj["system"].(string)
	code, _ := obj["code"].(string)
	if code == "" || sys == "" {
		return
	}
	if !vs.bySystem[sys][code] {
		v.errorf("code-invalid", at, "code is not in the required value set "+vs.url)
	}
}

// codeableConcept checks a CodeableConcept bound to vs: codings from the
// value set's code systems must use its codes, and at least one coding
// must come from it (others may be translations). A concept given as text
// only passes, as the value set cannot be checked against free text.
func (v *validator) codeableConcept(vs *valueSet, obj map[string]any) {
	codings, _ := obj["coding"].([]any)
	fromSet := false
	for i, item := range codings {
		c, ok := item.(map[string]any)
		if !ok {
			continue
		}
		sys, _ := c["system"].(string)
		if codes := vs.bySystem[sys]; codes != nil {
			fromSet = true
			if code, _ := c["code"].(string); code != "" && !codes[code] {
				v.errorf("code-invalid", "coding["+strconv.Itoa(i)+"].code", "code is not in the required value set "+vs.url)
			}
		}
	}
	if len(codings) > 0 && !fromSet {
		v.errorf("code-invalid", "coding", "no coding from the required value set "+vs.url)
	}
}
