package hl7v2_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/custodian-him/custodian/ingest/hl7v2"
)

// TestKeepWhatTheMessageDoesNotSay checks Result.Keep: an update names the
// elements whose segments the message lacks (DG1 for the visit's
// diagnoses, PV2 for its reason, PD1 for the primary care provider), so
// they stay as stored; a message with the segments, or one that only
// creates if absent, names none of them.
func TestKeepWhatTheMessageDoesNotSay(t *testing.T) {
	const (
		msh = "MSH|^~\\&|ADT|HOSP|CUST|HIM|20260301||ADT^A08|C1|P|2.5.1\r"
		pid = "PID|1||M1^^^HOSP^MR||Doe^Ann||19700101|F\r"
		pv1 = "PV1|1|I|W1^101^A^HOSP|||||||MED|||||||||V1^^^HOSP^VN|||||||||||||||||||||||||20260301\r"
		dg1 = "DG1|1||I21.4^NSTEMI^I10||20260301|A\r"
		pv2 = "PV2|||R07.9^Chest pain^I10\r"
		pd1 = "PD1||||D9^Gp^Gil^^^DR\r"
	)
	oru := strings.Replace(msh, "ADT^A08", "ORU^R01", 1) + pid + pv1 +
		"OBR|1||O1^LAB|2951-2^Sodium^LN|||20260301|||||||||||||||20260301|||F\rOBX|1|NM|2951-2^Sodium^LN||140|mmol/L|136-145|N|||F\r"
	tests := []struct {
		name            string
		msg             string
		encounter, pats []string
	}{
		{"A08 without DG1, PV2, PD1", msh + pid + pv1, []string{"diagnosis", "reasonCode"}, []string{"generalPractitioner"}},
		{"A08 with all of them", msh + pid + pd1 + pv1 + pv2 + dg1, nil, nil},
		{"A08 with DG1 only", msh + pid + pv1 + dg1, []string{"reasonCode"}, []string{"generalPractitioner"}},
		{"ORU creates only if absent", oru, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := hl7v2.Parse([]byte(tt.msg))
			if err != nil {
				t.Fatal(err)
			}
			r, err := hl7v2.NewMapper(nil).Map(m)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for url, names := range r.Keep {
				typ, _, _ := strings.Cut(url, "?")
				got[typ] = slices.Sorted(slices.Values(names))
			}
			if !slices.Equal(got["Encounter"], tt.encounter) || !slices.Equal(got["Patient"], tt.pats) {
				t.Errorf("keep %v, want Encounter %v and Patient %v", got, tt.encounter, tt.pats)
			}
			// KeepFrom takes the kept elements from the stored version and
			// leaves what the message says.
			for url, names := range r.Keep {
				stored := map[string]any{"status": "cancelled"}
				for _, n := range names {
					stored[n] = []any{"stored " + n}
				}
				r.KeepFrom(url, stored)
				for _, e := range r.Entries {
					if e.URL != url {
						continue
					}
					for _, n := range names {
						if v, _ := e.Resource[n].([]any); len(v) != 1 || v[0] != "stored "+n {
							t.Errorf("%s.%s = %v after KeepFrom", url, n, e.Resource[n])
						}
					}
					if e.Resource["status"] == "cancelled" {
						t.Errorf("%s: KeepFrom overwrote an element the message gives", url)
					}
				}
			}
		})
	}
}

// TestIdentifierQuery checks the search token of an identifier: commas
// escaped for FHIR, then the whole URL-encoded.
func TestIdentifierQuery(t *testing.T) {
	tests := []struct {
		id   hl7v2.Identifier
		want string
	}{
		{hl7v2.Identifier{System: "urn:x", Value: "A1"}, "urn:x|A1"},
		{hl7v2.Identifier{System: "urn:x,y", Value: "1,2"}, `urn:x\,y|1\,2`},
		{hl7v2.Identifier{System: "urn:x", Value: "a&b+c%d e"}, "urn:x|a&b+c%d e"},
	}
	for _, tt := range tests {
		got, err := url.QueryUnescape(tt.id.Query())
		if err != nil || got != tt.want {
			t.Errorf("%v.Query() unescapes to %q (%v), want %q", tt.id, got, err, tt.want)
		}
	}
}
