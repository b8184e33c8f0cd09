package fhir_test

import (
	"testing"

	"github.com/custodian-him/custodian/fhir"
)

// FuzzValidate checks that no input, however malformed, makes Validate
// panic, and that every issue it reports has a path and a code.
func FuzzValidate(f *testing.F) {
	for _, seed := range []string{
		`{"resourceType":"Patient","name":[{"given":["A",null],"_given":[null,{"id":"x"}]}]}`,
		`{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50},"component":[{}]}`,
		`{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","contained":[{"resourceType":"Basic"}]}}]}`,
		`{"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group","item":[{"item":[null]}]}]}`,
		`{"resourceType":"Patient","extension":[{"url":"u","extension":[{}],"valueString":""}],"_birthDate":[null]}`,
		`{"resourceType":7,"id":{"x":1}}`,
		`{"resourceType":"Parameters","parameter":[{"name":"x","resource":{"resourceType":"Parameters"}}]}`,
		`{"resourceType":"Patient","meta":{"lastUpdated":"2020-02-30T25:61:61.Z+15:00"},"birthDate":"0000"}`,
	} {
		f.Add([]byte(seed))
	}
	defs := fhir.R4()
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := decode(data)
		if err != nil || res == nil {
			return
		}
		for _, is := range defs.Validate(res) {
			if is.Path == "" || is.Code == "" || is.Severity == "" || is.Message == "" {
				t.Errorf("incomplete issue %+v", is)
			}
		}
	})
}
