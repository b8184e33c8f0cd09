package hl7v2_test

import (
	"testing"

	"github.com/custodian-him/custodian/ingest/hl7v2"
	"github.com/custodian-him/custodian/store"
)

// TestRegistrationWrites checks who may overwrite the Patient and
// Encounter: registration messages (ADT) update them; results and
// documents create them only if absent, unless the site's tables name
// their type among the registration types.
func TestRegistrationWrites(t *testing.T) {
	withORU, err := hl7v2.LoadTables([]byte(`{"registrationTypes":["ADT","ORU"]}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		sample string
		tables *hl7v2.Tables
		want   store.Method
	}{
		{"ADT-A01-01.hl7", nil, store.MethodUpdate},
		{"ADT-A08-01.hl7", nil, store.MethodUpdate},
		{"ORU-R01-01.hl7", nil, store.MethodCreate},
		{"MDM-T02-01.hl7", nil, store.MethodCreate},
		{"ORU-R01-01.hl7", withORU, store.MethodUpdate},
		{"MDM-T02-01.hl7", withORU, store.MethodCreate},
	}
	for _, tt := range tests {
		m, err := hl7v2.Parse(sample(t, tt.sample))
		if err != nil {
			t.Fatal(err)
		}
		r, err := hl7v2.NewMapper(tt.tables).Map(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, typ := range []string{"Patient", "Encounter"} {
			found := false
			for _, e := range r.Entries {
				if e.Resource["resourceType"] != typ {
					continue
				}
				found = true
				if e.Method != tt.want {
					t.Errorf("%s (registration types %v): %s written with %s, want %s", tt.sample, tables(tt.tables), typ, e.Method, tt.want)
				}
				if e.Method == store.MethodCreate && e.IfNoneExist == "" {
					t.Errorf("%s: %s created without If-None-Exist", tt.sample, typ)
				}
			}
			if !found {
				t.Errorf("%s: no %s entry", tt.sample, typ)
			}
		}
	}
}

func tables(t *hl7v2.Tables) []string {
	if t == nil {
		return hl7v2.DefaultTables().RegistrationTypes
	}
	return t.RegistrationTypes
}
