package sqldb_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// TestExist checks the existence check by id against Missing, with more
// ids than one statement looks up, a deleted resource, another type's id
// and ids that are not ids.
func TestExist(t *testing.T) {
	_, st := open(t)
	var ids []string
	present := map[string]bool{}
	for i := range 40 {
		id := create(t, st, "Patient", `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"E`+strconv.Itoa(i)+`"}]}`)
		if i%3 == 0 {
			ids = append(ids, "absent-"+strconv.Itoa(i))
		}
		ids = append(ids, id)
		present[id] = true
	}
	gone := ids[len(ids)-1]
	if _, err := st.Delete(as("ana", "clinician"), "Patient", gone, store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	delete(present, gone)
	other := create(t, st, "Practitioner", `{"resourceType":"Practitioner"}`)
	ids = append(ids, other, "not an id", "")
	got, err := st.Exist(asFeed(), "Patient", ids)
	if err != nil {
		t.Fatal(err)
	}
	refs := make([]string, len(ids))
	for i, id := range ids {
		refs[i] = "Patient/" + id
	}
	missing, err := st.Missing(asFeed(), refs)
	if err != nil {
		t.Fatal(err)
	}
	absent := map[string]bool{}
	for _, ref := range missing {
		absent[strings.TrimPrefix(ref, "Patient/")] = true
	}
	for i, id := range ids {
		if got[i] != present[id] || got[i] == absent[id] {
			t.Errorf("Exist(%q) = %v; created and not deleted: %v; Missing says absent: %v", id, got[i], present[id], absent[id])
		}
	}
	if n := len(present); n != 39 {
		t.Fatalf("%d patients present, want 39", n)
	}
	if _, err := st.Exist(as("ana", "clinician"), "Patient", ids); custodian.ErrorCode(err) != custodian.EFORBIDDEN {
		t.Errorf("a user's check: %v, want EFORBIDDEN", err)
	}
	if got, err := st.Exist(asFeed(), "Patient", nil); err != nil || len(got) != 0 {
		t.Errorf("no ids: %v, %v", got, err)
	}
}
