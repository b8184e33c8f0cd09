package fhir_test

import (
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/google/go-cmp/cmp"
)

// issue is what the tests compare: the code and path, not the message.
type issue struct{ Code, Path string }

func issuesOf(in []custodian.Issue) []issue {
	var out []issue
	for _, is := range in {
		if is.Severity != fhir.SeverityError {
			continue
		}
		out = append(out, issue{is.Code, is.Path})
	}
	return out
}

func TestValidateInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []issue
	}{
		{"unknown element", `{"resourceType":"Patient","foo":1}`,
			[]issue{{"structure", "Patient.foo"}}},
		{"unknown nested element", `{"resourceType":"Patient","name":[{"family":"X","nick":"Y"}]}`,
			[]issue{{"structure", "Patient.name[0].nick"}}},
		{"boolean as string", `{"resourceType":"Patient","active":"true"}`,
			[]issue{{"structure", "Patient.active"}}},
		{"date as number", `{"resourceType":"Patient","birthDate":1990}`,
			[]issue{{"structure", "Patient.birthDate"}}},
		{"object as string", `{"resourceType":"Patient","maritalStatus":"M"}`,
			[]issue{{"structure", "Patient.maritalStatus"}}},
		{"bad month", `{"resourceType":"Patient","birthDate":"1990-13-01"}`,
			[]issue{{"value", "Patient.birthDate"}}},
		{"no leap day", `{"resourceType":"Patient","birthDate":"2019-02-29"}`,
			[]issue{{"value", "Patient.birthDate"}}},
		{"date with time", `{"resourceType":"Patient","birthDate":"2019-02-01T10:00:00Z"}`,
			[]issue{{"value", "Patient.birthDate"}}},
		{"dateTime without zone", `{"resourceType":"Patient","deceasedDateTime":"2020-01-01T10:00:00"}`,
			[]issue{{"value", "Patient.deceasedDateTime"}}},
		{"dateTime without seconds", `{"resourceType":"Patient","deceasedDateTime":"2020-01-01T10:00Z"}`,
			[]issue{{"value", "Patient.deceasedDateTime"}}},
		{"instant without time", `{"resourceType":"Patient","meta":{"lastUpdated":"2020-01-01"}}`,
			[]issue{{"value", "Patient.meta.lastUpdated"}}},
		{"zone beyond 14:00", `{"resourceType":"Patient","meta":{"lastUpdated":"2020-01-01T00:00:00+14:30"}}`,
			[]issue{{"value", "Patient.meta.lastUpdated"}}},
		{"missing required", `{"resourceType":"Observation"}`,
			[]issue{{"required", "Observation.code"}, {"required", "Observation.status"}}},
		{"missing required in backbone", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"component":[{"valueString":"x"}]}`,
			[]issue{{"required", "Observation.component[0].code"}}},
		{"two choice variants", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"a","valueBoolean":true}`,
			[]issue{{"structure", "Observation.value"}}},
		{"choice type not allowed", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueAddress":{"city":"X"}}`,
			[]issue{{"structure", "Observation.valueAddress"}}},
		{"bad code", `{"resourceType":"Patient","gender":"unknownish"}`,
			[]issue{{"code-invalid", "Patient.gender"}}},
		{"bad code in backbone", `{"resourceType":"Patient","link":[{"other":{"reference":"Patient/1"},"type":"same"}]}`,
			[]issue{{"code-invalid", "Patient.link[0].type"}}},
		{"bad code in CodeableConcept", `{"resourceType":"Condition","subject":{"reference":"Patient/1"},
			"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"gone"}]}}`,
			[]issue{{"code-invalid", "Condition.clinicalStatus.coding[0].code"}}},
		{"CodeableConcept from another system", `{"resourceType":"Condition","subject":{"reference":"Patient/1"},
			"clinicalStatus":{"coding":[{"system":"http://snomed.info/sct","code":"55561003"}]}}`,
			[]issue{{"code-invalid", "Condition.clinicalStatus.coding"}}},
		{"misaligned _given", `{"resourceType":"Patient","name":[{"given":["A","B"],"_given":[null]}]}`,
			[]issue{{"structure", "Patient.name[0]._given"}}},
		{"null in given without extension", `{"resourceType":"Patient","name":[{"given":["A",null],"_given":[null,null]}]}`,
			[]issue{{"structure", "Patient.name[0]._given[1]"}, {"structure", "Patient.name[0].given[1]"}}},
		{"_given not an array", `{"resourceType":"Patient","name":[{"given":["A"],"_given":{"id":"x"}}]}`,
			[]issue{{"structure", "Patient.name[0]._given"}}},
		{"_x with a value", `{"resourceType":"Patient","birthDate":"1990","_birthDate":{"value":"1990"}}`,
			[]issue{{"structure", "Patient._birthDate.value"}}},
		{"_x with only an id and no value", `{"resourceType":"Patient","_birthDate":{"id":"b"},"name":[{"_given":[{"id":"g"}]}]}`,
			[]issue{{"structure", "Patient._birthDate"}, {"structure", "Patient.name[0]._given[0]"}}},
		{"_x on a complex element", `{"resourceType":"Patient","_maritalStatus":{"id":"a"}}`,
			[]issue{{"structure", "Patient._maritalStatus"}}},
		{"empty string", `{"resourceType":"Patient","name":[{"family":""}]}`,
			[]issue{{"value", "Patient.name[0].family"}}},
		{"NUL in a string", `{"resourceType":"Patient","name":[{"family":"Ab\u0000c"}]}`,
			[]issue{{"value", "Patient.name[0].family"}}},
		{"form feed in a uri", `{"resourceType":"Patient","identifier":[{"system":"urn:a\u000cb","value":"1"}]}`,
			[]issue{{"value", "Patient.identifier[0].system"}}},
		{"tab, CR and LF in markdown are fine", `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},"extension":[{"url":"http://e.org/n","valueMarkdown":"a\tb\r\nc"}]}`,
			nil},
		{"empty object", `{"resourceType":"Patient","maritalStatus":{}}`,
			[]issue{{"structure", "Patient.maritalStatus"}}},
		{"object with only id", `{"resourceType":"Patient","maritalStatus":{"id":"m"}}`,
			[]issue{{"structure", "Patient.maritalStatus"}}},
		{"empty array", `{"resourceType":"Patient","name":[]}`,
			[]issue{{"structure", "Patient.name"}}},
		{"null value", `{"resourceType":"Patient","gender":null}`,
			[]issue{{"structure", "Patient.gender"}}},
		{"null in complex array", `{"resourceType":"Patient","name":[null]}`,
			[]issue{{"structure", "Patient.name[0]"}}},
		{"array for single", `{"resourceType":"Patient","gender":["male"]}`,
			[]issue{{"structure", "Patient.gender"}}},
		{"single for array", `{"resourceType":"Patient","name":{"family":"X"}}`,
			[]issue{{"structure", "Patient.name"}}},
		{"nested contained", `{"resourceType":"Patient","contained":[{"resourceType":"Patient","id":"p",
			"contained":[{"resourceType":"Organization","id":"o"}]}]}`,
			[]issue{{"invariant", "Patient.contained[0].contained"}}},
		{"contained errors get contained paths", `{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o","active":1}]}`,
			[]issue{{"structure", "Patient.contained[0].active"}}},
		{"contained without resourceType", `{"resourceType":"Patient","contained":[{"id":"o"}]}`,
			[]issue{{"required", "Patient.contained[0]"}}},
		{"extension without url", `{"resourceType":"Patient","extension":[{"valueString":"x"}]}`,
			[]issue{{"required", "Patient.extension[0].url"}}},
		{"extension with value and extensions", `{"resourceType":"Patient","extension":[{"url":"http://x","valueString":"x",
			"extension":[{"url":"a","valueCode":"b"}]}]}`,
			[]issue{{"invariant", "Patient.extension[0]"}}},
		{"extension with neither", `{"resourceType":"Patient","extension":[{"url":"http://x"}]}`,
			[]issue{{"invariant", "Patient.extension[0]"}}},
		{"extension with bad value type", `{"resourceType":"Patient","extension":[{"url":"http://x","valueFoo":"x"}]}`,
			[]issue{{"structure", "Patient.extension[0].valueFoo"}}},
		{"bad extension on primitive", `{"resourceType":"Patient","birthDate":"1990","_birthDate":{"extension":[{"valueString":"x"}]}}`,
			[]issue{{"required", "Patient._birthDate.extension[0].url"}}},
		{"missing resourceType", `{"id":"x"}`,
			[]issue{{"required", "Resource"}}},
		{"unknown resourceType", `{"resourceType":"Patients"}`,
			[]issue{{"structure", "Resource"}}},
		{"abstract resourceType", `{"resourceType":"DomainResource"}`,
			[]issue{{"structure", "Resource"}}},
		{"bundle entry resource", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","gender":"x"}}]}`,
			[]issue{{"code-invalid", "Bundle.entry[0].resource.gender"}}},
		{"parameters resource", `{"resourceType":"Parameters","parameter":[{"name":"p","resource":{"resourceType":"Basic"}}]}`,
			[]issue{{"required", "Parameters.parameter[0].resource.code"}}},
		{"integer out of range", `{"resourceType":"Patient","multipleBirthInteger":3000000000}`,
			[]issue{{"value", "Patient.multipleBirthInteger"}}},
		{"integer with fraction", `{"resourceType":"Patient","multipleBirthInteger":2.0}`,
			[]issue{{"value", "Patient.multipleBirthInteger"}}},
		{"decimal as string", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":"1.5"}}`,
			[]issue{{"structure", "Observation.valueQuantity.value"}}},
		{"negative unsignedInt", `{"resourceType":"Patient","photo":[{"size":-1}],"communication":[{"language":{"text":"x"},"preferred":true}]}`,
			[]issue{{"value", "Patient.photo[0].size"}}},
		{"bad id", `{"resourceType":"Patient","id":"a b"}`,
			[]issue{{"value", "Patient.id"}}},
		{"uri with space", `{"resourceType":"Patient","implicitRules":"http://a b"}`,
			[]issue{{"value", "Patient.implicitRules"}}},
		{"bad oid", `{"resourceType":"Patient","extension":[{"url":"http://x","valueOid":"urn:oid:1.2.03"}]}`,
			[]issue{{"value", "Patient.extension[0].valueOid"}}},
		{"upper-case uuid", `{"resourceType":"Patient","extension":[{"url":"http://x","valueUuid":"urn:uuid:8E7B1F1C-3D2B-4C3A-9E5D-0A1B2C3D4E5F"}]}`,
			[]issue{{"value", "Patient.extension[0].valueUuid"}}},
		{"positiveInt zero", `{"resourceType":"Patient","telecom":[{"system":"phone","value":"1","rank":0}]}`,
			[]issue{{"value", "Patient.telecom[0].rank"}}},
		{"code with double space", `{"resourceType":"Patient","language":"en  US"}`,
			[]issue{{"value", "Patient.language"}}},
		{"xhtml not a div", `{"resourceType":"Patient","text":{"status":"generated","div":"<p>x</p>"}}`,
			[]issue{{"value", "Patient.text.div"}}},
		{"base64 with bad characters", `{"resourceType":"Patient","photo":[{"data":"abc$"}]}`,
			[]issue{{"value", "Patient.photo[0].data"}}},
		{"bad time", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueTime":"25:00:00"}`,
			[]issue{{"value", "Observation.valueTime"}}},
		{"reference to a disallowed type", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Organization/1"}}`,
			[]issue{{"value", "Observation.subject.reference"}}},
		{"absolute reference to a disallowed type", `{"resourceType":"Observation","status":"final","code":{"text":"x"},
			"performer":[{"reference":"http://example.org/fhir/Encounter/1/_history/2"}]}`,
			[]issue{{"value", "Observation.performer[0].reference"}}},
		{"every issue reported", `{"resourceType":"Patient","foo":1,"gender":"x","birthDate":"x","name":[{"given":[""]}]}`,
			[]issue{{"value", "Patient.birthDate"}, {"structure", "Patient.foo"}, {"code-invalid", "Patient.gender"}, {"value", "Patient.name[0].given[0]"}}},
	}
	defs := fhir.R4()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := decode([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, issuesOf(defs.Validate(res))); diff != "" {
				t.Errorf("issues (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateValid(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in string }{
		{"primitive extensions", `{"resourceType":"Patient","id":"p1",
			"birthDate":"1974-12-25","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"1974-12-25T14:35:45-05:00"}]},
			"name":[{"family":"Chalmers","given":["Peter",null,"James"],"_given":[null,{"id":"g2","extension":[{"url":"http://x","valueCode":"x"}]},null]}]}`},
		{"primitive with an id", `{"resourceType":"Patient","birthDate":"1990","_birthDate":{"id":"b"},
			"name":[{"given":["A"],"_given":[{"id":"g"}]}]}`},
		{"extension without value", `{"resourceType":"Patient","gender":"female",
			"_active":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}}`},
		{"required element given only as extension", `{"resourceType":"Observation","code":{"text":"x"},
			"_status":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}}`},
		{"contained", `{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o1","name":"Acme"}],
			"managingOrganization":{"reference":"#o1"}}`},
		{"decimals", `{"resourceType":"Observation","status":"final","code":{"text":"x"},
			"valueQuantity":{"value":1.50,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"},
			"referenceRange":[{"low":{"value":-0.5e-3},"high":{"value":100}}]}`},
		{"components", `{"resourceType":"Observation","status":"final","code":{"text":"BP"},
			"effectiveDateTime":"2012-09-17","issued":"2013-04-03T15:30:10.01+01:00",
			"component":[{"code":{"text":"sys"},"valueQuantity":{"value":107}},{"code":{"text":"dia"},"dataAbsentReason":{"text":"x"}}]}`},
		{"contentReference", `{"resourceType":"Questionnaire","status":"draft",
			"item":[{"linkId":"1","type":"group","item":[{"linkId":"1.1","type":"string","item":[{"linkId":"1.1.1","type":"display"}]}]}]}`},
		{"nested extensions", `{"resourceType":"Patient","extension":[{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
			"extension":[{"url":"ombCategory","valueCoding":{"system":"urn:oid:2.16.840.1.113883.6.238","code":"2106-3"}},{"url":"text","valueString":"White"}]}]}`},
		{"bundle", `{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:8e7b1f1c-3d2b-4c3a-9e5d-0a1b2c3d4e5f",
			"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}}]}`},
		{"condition CodeableConcept with translation", `{"resourceType":"Condition","subject":{"reference":"Patient/1"},
			"clinicalStatus":{"coding":[{"system":"http://snomed.info/sct","code":"55561003"},{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]}}`},
		{"references", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"contained":[{"resourceType":"Patient","id":"p"}],
			"subject":{"reference":"#p"},"encounter":{"reference":"urn:uuid:8e7b1f1c-3d2b-4c3a-9e5d-0a1b2c3d4e5f"},
			"performer":[{"reference":"http://example.org/fhir/Practitioner/1/_history/2"},{"reference":"Organization?identifier=x|1"},{"display":"Dr X"}],
			"focus":[{"reference":"Anything/1"}]}`},
		{"leap day and leap second", `{"resourceType":"Patient","birthDate":"2000-02-29","deceasedDateTime":"2016-12-31T23:59:60Z"}`},
		{"xhtml narrative", `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}}`},
	}
	defs := fhir.R4()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := decode([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			for _, is := range defs.Validate(res) {
				t.Errorf("%s %s %s: %s", is.Severity, is.Code, is.Path, is.Message)
			}
		})
	}
}

func TestIssuesError(t *testing.T) {
	t.Parallel()
	warning := custodian.Issue{Severity: fhir.SeverityWarning, Code: "invariant", Path: "Patient", Message: "dom-6"}
	if err := fhir.IssuesError(nil); err != nil {
		t.Errorf("IssuesError(nil) = %v", err)
	}
	if err := fhir.IssuesError([]custodian.Issue{warning}); err != nil {
		t.Errorf("IssuesError(warning) = %v", err)
	}
	res, _ := decode([]byte(`{"resourceType":"Patient","foo":1,"gender":"x"}`))
	issues := append(fhir.R4().Validate(res), warning)
	err := fhir.IssuesError(issues)
	if custodian.ErrorCode(err) != custodian.EINVALID {
		t.Errorf("code = %q; want %q", custodian.ErrorCode(err), custodian.EINVALID)
	}
	if got := custodian.ErrorIssues(err); len(got) != 3 {
		t.Errorf("carries %d issues; want 3", len(got))
	}
}
