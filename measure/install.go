package measure

import (
	"context"
	"encoding/json"

	"github.com/custodian-him/custodian/store"
)

// Install stores defs as FHIR Measure resources (each with its
// definition's id), so that GET /fhir/Measure/{id} and search find the
// measures $evaluate-measure evaluates. Storing the same definitions again
// adds no version. ctx's actor must be allowed to write Measure.
func Install(ctx context.Context, st interface {
	PutBatch(ctx context.Context, resources []map[string]any) ([]store.BatchResult, error)
}, defs []*Definition) error {
	batch := make([]map[string]any, 0, len(defs))
	for _, d := range defs {
		batch = append(batch, roundTrip(d.MeasureResource()))
	}
	results, err := st.PutBatch(ctx, batch)
	if err != nil {
		return err
	}
	for _, r := range results {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

// roundTrip gives a resource built in Go the shape the store reads
// (numbers as json.Number): the store validates and encodes that shape.
func roundTrip(res map[string]any) map[string]any {
	b, err := json.Marshal(res)
	if err != nil {
		panic(err) // built from strings, maps and slices only
	}
	out, err := store.Decode(b)
	if err != nil {
		panic(err)
	}
	return out
}
