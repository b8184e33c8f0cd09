package mpi

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/custodian-him/custodian/synth"
)

// refPatient decodes the same fields with encoding/json, the reference
// the scanner must agree with.
type refPatient struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Identifier   []struct {
		System string `json:"system"`
		Value  string `json:"value"`
		Type   struct {
			Coding []struct {
				Code string `json:"code"`
			} `json:"coding"`
		} `json:"type"`
	} `json:"identifier"`
	Name []struct {
		Use    string   `json:"use"`
		Text   string   `json:"text"`
		Family string   `json:"family"`
		Given  []string `json:"given"`
		Suffix []string `json:"suffix"`
	} `json:"name"`
	Telecom []struct {
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"telecom"`
	Gender    string `json:"gender"`
	BirthDate string `json:"birthDate"`
	Address   []struct {
		Use        string   `json:"use"`
		Line       []string `json:"line"`
		City       string   `json:"city"`
		State      string   `json:"state"`
		PostalCode string   `json:"postalCode"`
	} `json:"address"`
}

func (r *refPatient) convert() fhirPatient {
	p := fhirPatient{ResourceType: r.ResourceType, ID: r.ID, Gender: r.Gender, BirthDate: r.BirthDate}
	for _, id := range r.Identifier {
		x := fhirIdentifier{System: id.System, Value: id.Value}
		for _, c := range id.Type.Coding {
			x.Codes = append(x.Codes, c.Code)
		}
		p.Identifier = append(p.Identifier, x)
	}
	for _, n := range r.Name {
		p.Name = append(p.Name, fhirName{Use: n.Use, Text: n.Text, Family: n.Family, Given: n.Given, Suffix: n.Suffix})
	}
	for _, t := range r.Telecom {
		p.Telecom = append(p.Telecom, fhirTelecom{System: t.System, Value: t.Value})
	}
	for _, a := range r.Address {
		p.Address = append(p.Address, fhirAddress{Use: a.Use, City: a.City, State: a.State, PostalCode: a.PostalCode, Line: a.Line})
	}
	return p
}

type patientBodies struct{ bodies [][]byte }

func (w *patientBodies) Resource(typ, _ string, body []byte) error {
	if typ == "Patient" {
		w.bodies = append(w.bodies, append([]byte(nil), body...))
	}
	return nil
}
func (w *patientBodies) Fact(*synth.Fact) error { return nil }

// TestScanPatientAgreesWithEncodingJSON checks the scanner against
// encoding/json on generated Patients and on hand-made edge cases, and
// that both reject the same malformed inputs.
func TestScanPatientAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	w := &patientBodies{}
	if _, err := synth.Generate(context.Background(), synth.Config{Patients: 40, Seed: 5}, w); err != nil {
		t.Fatal(err)
	}
	inputs := append(w.bodies,
		[]byte(`{"resourceType":"Patient","id":"e1","name":[{"family":"O\u2019Brien \"Jr\"","given":["Zo\u00eb","\ud83d\ude00x"],"text":"a\\b\/c\n"}]}`),
		[]byte(` { "resourceType" : "Patient" , "name" : null , "telecom" : [ ] , "gender" : null , "extension":[{"url":"x","valueDecimal":-1.5e3,"valueBoolean":true}],"address":[{"line":null,"city":"X"}]} `),
		[]byte(`{"resourceType":"Patient","identifier":[{"type":{"text":"t","coding":[{"system":"s","code":"SS"},{"code":null}]},"value":"1"}],"deceasedBoolean":false}`),
	)
	for i, in := range inputs {
		var ref refPatient
		if err := json.Unmarshal(in, &ref); err != nil {
			t.Fatalf("input %d: encoding/json: %v", i, err)
		}
		var got fhirPatient
		if err := scanPatient(in, &got); err != nil {
			t.Fatalf("input %d: scanPatient: %v\n%s", i, err, in)
		}
		if want := ref.convert(); !reflect.DeepEqual(got, want) {
			t.Errorf("input %d:\ngot  %+v\nwant %+v", i, got, want)
		}
	}
	bad := []string{``, `{`, `{"id":}`, `{"id":"x",}`, `{"id":"x"} extra`, `{"name":"Ann"}`, `{"name":[{"given":"Ann"}]}`,
		`{"id":"a\qb"}`, `{"id":"unterminated}`, `{"x":tru}`, `{"x":[1,]}`, `{"x":01.2.3}`, `[]`, `{"id":"a` + "\x01" + `"}`}
	for _, in := range bad {
		var ref refPatient
		refErr := json.Unmarshal([]byte(in), &ref)
		var got fhirPatient
		if err := scanPatient([]byte(in), &got); err == nil {
			t.Errorf("%q accepted (encoding/json: %v)", in, refErr)
		}
	}
}
