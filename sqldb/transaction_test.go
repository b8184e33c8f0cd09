package sqldb_test

import (
	"context"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// hookedDB runs a hook after the next read, to change the store between a
// transaction's preparation (which reads) and its write.
type hookedDB struct {
	*sqldb.DB
	after func()
}

func (h *hookedDB) Read(ctx context.Context, fn func(store.Reader) error) error {
	err := h.DB.Read(ctx, fn)
	if f := h.after; f != nil {
		h.after = nil
		f()
	}
	return err
}

// TestConditionalReferenceResolvedBefore checks that a transaction's
// conditional references, resolved before the write, are checked again in
// it: what changed in between is seen as if they were resolved in the
// write only.
func TestConditionalReferenceResolvedBefore(t *testing.T) {
	const prac = `{"resourceType":"Practitioner","identifier":[{"system":"urn:npi","value":"42"}]}`
	tests := []struct {
		name     string
		between  func(t *testing.T, st *store.Store, first string) // nil: nothing changes
		wantCode string                                            // "" for success
		wantNew  bool                                              // the reference goes to a practitioner made in between
	}{
		{name: "nothing changes"},
		{name: "a second match appears", wantCode: custodian.EPRECONDITION,
			between: func(t *testing.T, st *store.Store, _ string) { create(t, st, "Practitioner", prac) }},
		{name: "the match is replaced", wantNew: true,
			between: func(t *testing.T, st *store.Store, first string) {
				if _, err := st.Delete(as("ana", "clinician"), "Practitioner", first, store.WriteOptions{}); err != nil {
					t.Fatal(err)
				}
				create(t, st, "Practitioner", prac)
			}},
		{name: "the match goes", wantCode: custodian.EPRECONDITION,
			between: func(t *testing.T, st *store.Store, first string) {
				if _, err := st.Delete(as("ana", "clinician"), "Practitioner", first, store.WriteOptions{}); err != nil {
					t.Fatal(err)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			h := &hookedDB{DB: sqldbtest.Open(t)}
			reg, err := search.NewR4(fhir.R4())
			if err != nil {
				t.Fatal(err)
			}
			if err := h.RegisterParams(ctx, reg.Indexed()); err != nil {
				t.Fatal(err)
			}
			st := store.New(h, fhir.R4(), reg)
			st.Guard = guard{}
			first := create(t, st, "Practitioner", prac)
			var made string
			if tc.between != nil {
				h.after = func() {
					tc.between(t, st, first)
					made = newest(t, st, "Practitioner")
				}
			}
			enc := map[string]any{"resourceType": "Encounter", "status": "finished",
				"class":       map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
				"participant": []any{map[string]any{"individual": map[string]any{"reference": "Practitioner?identifier=urn:npi|42"}}}}
			outs, err := st.Transaction(as("ana", "clinician"), []store.Entry{{Method: store.MethodCreate, URL: "Encounter", Resource: enc}})
			if tc.between != nil && h.after != nil {
				t.Fatal("the transaction did not read before its write")
			}
			if tc.wantCode != "" {
				if custodian.ErrorCode(err) != tc.wantCode {
					t.Fatalf("error %v, want %s", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := "Practitioner/" + first
			if tc.wantNew {
				want = "Practitioner/" + made
			}
			got, err := store.Decode(outs[0].Resource.Body)
			if err != nil {
				t.Fatal(err)
			}
			ref := got["participant"].([]any)[0].(map[string]any)["individual"].(map[string]any)["reference"]
			if ref != want {
				t.Errorf("stored reference %v, want %s", ref, want)
			}
			stored, err := st.Read(as("ana", "clinician"), "Encounter", outs[0].Resource.ID)
			if err != nil {
				t.Fatal(err)
			}
			if string(stored.Body) != string(outs[0].Resource.Body) {
				t.Errorf("read back %s, want %s", stored.Body, outs[0].Resource.Body)
			}
		})
	}
}

func create(t *testing.T, st *store.Store, typ, body string) string {
	t.Helper()
	out, err := st.Create(as("ana", "clinician"), typ, []byte(body), store.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out.Resource.ID
}

// newest is the id of the resource of typ written last.
func newest(t *testing.T, st *store.Store, typ string) string {
	t.Helper()
	page, err := st.History(as("ana", "clinician"), store.HistoryFilter{Type: typ, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	return page.Versions[0].ID
}
