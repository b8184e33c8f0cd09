package ingest

import (
	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/ingest/ccda"
	"github.com/custodian-him/custodian/ingest/hl7v2"
)

// converterFor returns how to turn a file that is not FHIR JSON into a
// transaction Bundle, by its extension (without .gz): C-CDA documents
// (.xml) and HL7 v2 messages (.hl7, one message a file). nil for others.
func converterFor(ext string) func([]byte) (map[string]any, error) {
	switch ext {
	case ".xml":
		return convertCCDA
	case ".hl7":
		return convertHL7
	}
	return nil
}

// convertCCDA maps a C-CDA document (see package ccda).
func convertCCDA(body []byte) (map[string]any, error) {
	r, err := ccda.Map(body)
	if err != nil {
		return nil, err
	}
	return r.Bundle(), nil
}

// convertHL7 maps one HL7 v2 message with the default tables (see package
// hl7v2). Merges and identifier changes (A40, A47) are the master patient
// index's work, not an import's: they are refused, with the reason.
func convertHL7(body []byte) (map[string]any, error) {
	m, err := hl7v2.Parse(body)
	if err != nil {
		return nil, err
	}
	r, err := hl7v2.NewMapper(nil).Map(m)
	if err != nil {
		return nil, err
	}
	if c := r.IdentityChange; c != nil {
		return nil, custodian.Errorf(custodian.EUNPROCESSABLE, "ADT^%s is a patient %s: the import does not apply it; the master patient index does", r.Header.Trigger, c.Kind)
	}
	return r.Bundle(), nil
}
