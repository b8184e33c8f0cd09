package sqldb_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// TestTransactionsSurviveAGroupRerun has transactions committed in groups
// with one that fails inside the writer, so the backend rolls the group back
// and runs the others again. Every transaction that reports success must be
// stored, with the same ids it reported, and the ones that also created by
// If-None-Exist must point at what they created.
func TestTransactionsSurviveAGroupRerun(t *testing.T) {
	_, st := open(t)
	ctx := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	twin := func() map[string]any {
		return map[string]any{"resourceType": "Patient", "identifier": []any{map[string]any{"system": "urn:x", "value": "twin"}}}
	}
	for range 2 {
		if _, err := st.Transaction(ctx, []store.Entry{{Method: store.MethodCreate, URL: "Patient", Resource: twin()}}); err != nil {
			t.Fatal(err)
		}
	}
	var stored []string
	var mu sync.Mutex
	for round := range 20 {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				if i == 0 { // refused in the writer: its criteria match two patients
					st.Transaction(ctx, []store.Entry{{Method: store.MethodUpdate, URL: "Patient?identifier=urn:x|twin", Resource: twin()}})
					return
				}
				value := "r" + string(rune('a'+round)) + string(rune('a'+i))
				outs, err := st.Transaction(ctx, []store.Entry{
					{Method: store.MethodCreate, URL: "Patient", FullURL: "urn:uuid:p", IfNoneExist: "identifier=urn:y|" + value,
						Resource: map[string]any{"resourceType": "Patient", "identifier": []any{map[string]any{"system": "urn:y", "value": value}}}},
					{Method: store.MethodCreate, URL: "Basic", Resource: map[string]any{"resourceType": "Basic",
						"code": map[string]any{"text": "x"}, "subject": map[string]any{"reference": "urn:uuid:p"}}},
				})
				if err != nil {
					t.Errorf("transaction: %v", err)
					return
				}
				basic, err := st.Read(ctx, "Basic", outs[1].Resource.ID)
				if err != nil {
					t.Errorf("a Basic reported as created: %v", err)
					return
				}
				var body struct {
					Subject struct{ Reference string } `json:"subject"`
				}
				if err := json.Unmarshal(basic.Body, &body); err != nil {
					t.Error(err)
					return
				}
				if want := "Patient/" + outs[0].Resource.ID; body.Subject.Reference != want {
					t.Errorf("Basic's subject %q, but the transaction created %s", body.Subject.Reference, want)
				}
				mu.Lock()
				stored = append(stored, "Patient/"+outs[0].Resource.ID, "Basic/"+basic.ID)
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	missing, err := st.Missing(ctx, stored)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d resources reported as created are not stored, e.g. %v", len(missing), len(stored), missing[0])
	}
}
