package fhir

import (
	_ "embed"
	"encoding/json"
	"sync"
)

//go:embed definitions/patient-compartment.json
var patientCompartmentJSON []byte

var patientCompartment = sync.OnceValue(func() map[string][]string {
	m := map[string][]string{}
	if err := json.Unmarshal(patientCompartmentJSON, &m); err != nil {
		panic("fhir: embedded patient compartment is corrupt: " + err.Error())
	}
	return m
})

// PatientCompartmentParams returns the search parameters of typ that put a
// resource of that type in a patient's compartment (FHIR R4
// CompartmentDefinition "patient"), e.g. ["subject", "performer"] for
// Observation. It is empty for types outside the compartment; a Patient is
// in its own compartment by its id.
func PatientCompartmentParams(typ string) []string {
	return patientCompartment()[typ]
}
