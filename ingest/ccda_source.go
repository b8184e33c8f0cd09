package ingest

import (
	"context"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/ingest/ccda"
	"github.com/custodian-him/custodian/ingest/hl7v2"
)

// converterFor returns how to turn a file that is not FHIR JSON into a
// transaction Bundle, by its extension (without .gz): C-CDA documents
// (.xml) and HL7 v2 messages (.hl7, one message a file). nil for others.
//
// A converter may read the store through find (nil when the store cannot
// search): an HL7 v2 update keeps what its message says nothing about.
func converterFor(ext string) converter {
	switch ext {
	case ".xml":
		return convertCCDA
	case ".hl7":
		return convertHL7
	}
	return nil
}

// converter turns a file's bytes into a transaction Bundle.
type converter func(ctx context.Context, body []byte, find hl7v2.Finder) (map[string]any, error)

// convertCCDA maps a C-CDA document (see package ccda).
func convertCCDA(_ context.Context, body []byte, _ hl7v2.Finder) (map[string]any, error) {
	r, err := ccda.Map(body)
	if err != nil {
		return nil, err
	}
	return r.Bundle(), nil
}

// convertHL7 maps one HL7 v2 message with the default tables (see package
// hl7v2). Merges and identifier changes (A40, A47) are the master patient
// index's work, not an import's: they are refused, with the reason. An
// update keeps from the stored resource the elements its message says
// nothing about (an A08 without DG1 keeps the visit's diagnoses), as the
// MLLP listener does.
func convertHL7(ctx context.Context, body []byte, find hl7v2.Finder) (map[string]any, error) {
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
	if find != nil {
		if err := r.KeepStored(ctx, find); err != nil {
			return nil, err
		}
	}
	return r.Bundle(), nil
}
