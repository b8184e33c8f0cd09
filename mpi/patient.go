package mpi

import (
	"strings"

	"github.com/custodian-him/custodian"
)

// SSN identifier systems and the v2 identifier type that marks one.
const (
	systemUSSSN = "http://hl7.org/fhir/sid/us-ssn"
	typeSSN     = "SS"
)

// fhirPatient is the part of a FHIR R4 Patient that matching reads.
type fhirPatient struct {
	ResourceType, ID  string
	Gender, BirthDate string
	Identifier        []fhirIdentifier
	Name              []fhirName
	Telecom           []fhirTelecom
	Address           []fhirAddress
}

type fhirIdentifier struct {
	System, Value string
	Codes         []string // type.coding[].code
}

type fhirName struct {
	Use, Text, Family string
	Given, Suffix     []string
}

type fhirTelecom struct{ System, Value string }

type fhirAddress struct {
	Use, City, State, PostalCode string
	Line                         []string
}

// PatientRecord reads the matching fields of a FHIR R4 Patient (JSON):
// the official name (else the first), the home address (else the
// first), phones, the first email, the US SSN. It returns EINVALID if
// body is not a Patient.
func PatientRecord(body []byte) (Record, error) {
	var p fhirPatient
	if err := scanPatient(body, &p); err != nil {
		return Record{}, custodian.Errorf(custodian.EINVALID, "mpi: the Patient cannot be read: %v", err)
	}
	if p.ResourceType != "Patient" {
		return Record{}, custodian.Errorf(custodian.EINVALID, "mpi: a %q resource is not a Patient", p.ResourceType)
	}
	r := Record{ID: p.ID, Sex: p.Gender, BirthDate: p.BirthDate}
	if n := pick(len(p.Name), func(i int) bool { return p.Name[i].Use == "official" }); n >= 0 {
		name := p.Name[n]
		if len(name.Given) > 0 {
			r.Given = name.Given[0]
			r.Middle = strings.Join(name.Given[1:], " ")
		}
		r.Family = name.Family
		r.Suffix = strings.Join(name.Suffix, " ")
		if r.Given == "" && r.Family == "" && name.Text != "" {
			// Only a text name: last word family, the rest given.
			if i := strings.LastIndexByte(strings.TrimSpace(name.Text), ' '); i > 0 {
				r.Given, r.Family = name.Text[:i], name.Text[i+1:]
			} else {
				r.Family = name.Text
			}
		}
	}
	if a := pick(len(p.Address), func(i int) bool { return p.Address[i].Use == "home" }); a >= 0 {
		addr := p.Address[a]
		if len(addr.Line) > 0 {
			r.Address1 = addr.Line[0]
			r.Address2 = strings.Join(addr.Line[1:], " ")
		}
		r.City, r.State, r.Postcode = addr.City, addr.State, addr.PostalCode
	}
	for _, t := range p.Telecom {
		switch t.System {
		case "phone", "sms":
			r.Phones = append(r.Phones, t.Value)
		case "email":
			if r.Email == "" {
				r.Email = t.Value
			}
		}
	}
	for _, id := range p.Identifier {
		ss := id.System == systemUSSSN
		for _, c := range id.Codes {
			ss = ss || c == typeSSN
		}
		if ss && id.Value != "" {
			r.SSN = id.Value
			break
		}
	}
	return r, nil
}

// pick returns the first index for which want holds, else 0, or -1 if n
// is 0.
func pick(n int, want func(int) bool) int {
	for i := 0; i < n; i++ {
		if want(i) {
			return i
		}
	}
	if n > 0 {
		return 0
	}
	return -1
}
