package synth_test

import (
	"strings"
	"testing"

	"github.com/custodian-him/custodian/synth"
)

// TestRegistryAndReleaseFacts checks the facts measures, registries and
// release of information score themselves with against the data:
// transfers and discharges against advice, cancer stages, sensitive
// labels, and Claims carrying each coded stay's diagnoses with POA.
func TestRegistryAndReleaseFacts(t *testing.T) {
	d := hospital(t)
	get := func(ref string) map[string]any {
		typ, id, _ := strings.Cut(ref, "/")
		return d.byType[typ][id]
	}
	counts := map[string]int{}
	coding := map[string]*synth.Fact{}
	for i := range d.facts {
		f := &d.facts[i]
		counts[f.Kind]++
		switch f.Kind {
		case synth.FactCoding:
			coding[f.Encounter] = f
		case synth.FactTransferIn:
			if got := str(get(f.Encounter), "hospitalization", "admitSource", "coding", "code"); got != "hosp-trans" {
				t.Errorf("transfer in %s: admit source %q", f.Encounter, got)
			}
		case synth.FactTransferOut, synth.FactAgainstAdvice:
			if got := str(get(f.Encounter), "hospitalization", "dischargeDisposition", "coding", "code"); got != f.Detail {
				t.Errorf("%s %s: disposition %q", f.Kind, f.Encounter, got)
			}
		case synth.FactStage:
			cond := get(f.Resource) // (the data set keeps no Observation bodies)
			if str(cond, "code", "coding", "code") != f.Text || str(cond, "stage", "summary", "text") != "Stage "+f.Detail {
				t.Errorf("stage of %s: Condition says %s %q", f.Resource, str(cond, "code", "coding", "code"), str(cond, "stage", "summary", "text"))
			}
			if !d.ids[f.Other] || str(cond, "stage", "assessment", "reference") != f.Other {
				t.Errorf("stage of %s: staging Observation %s missing or not cited", f.Resource, f.Other)
			}
		case synth.FactSensitive:
			r := get(f.Resource)
			var labels []string
			if m, ok := r["meta"].(map[string]any); ok {
				for _, l := range m["security"].([]any) {
					l := l.(map[string]any)
					labels = append(labels, l["system"].(string)+"|"+l["code"].(string))
				}
			}
			if strings.Join(labels, " ") != f.Text {
				t.Errorf("sensitive %s: labels %v, recorded %s", f.Resource, labels, f.Text)
			}
		}
	}
	// Every sensitive resource is recorded.
	for _, typ := range []string{"Condition", "DocumentReference"} {
		for id, r := range d.byType[typ] {
			if _, ok := r["meta"]; ok && !hasFact(d.facts, synth.FactSensitive, typ+"/"+id) {
				t.Errorf("%s/%s is labelled but not in the ground truth", typ, id)
			}
		}
	}
	// Each Claim is the expected coding of its stay, with POA.
	for id, c := range d.byType["Claim"] {
		enc := str(c, "item", "encounter", "reference")
		f := coding[enc]
		if f == nil {
			t.Errorf("Claim/%s: %s has no coding fact", id, enc)
			continue
		}
		dx, _ := c["diagnosis"].([]any)
		if len(dx) != len(f.Diagnoses) {
			t.Errorf("Claim/%s: %d diagnoses, expected %d", id, len(dx), len(f.Diagnoses))
			continue
		}
		for i, x := range dx {
			x := x.(map[string]any)
			poa := strings.ToUpper(str(x, "onAdmission", "coding", "code"))
			if str(x, "diagnosisCodeableConcept", "coding", "code") != f.Diagnoses[i].Code || poa != f.Diagnoses[i].POA {
				t.Errorf("Claim/%s diagnosis %d: %s POA %q, expected %s %q", id, i+1, str(x, "diagnosisCodeableConcept", "coding", "code"), poa, f.Diagnoses[i].Code, f.Diagnoses[i].POA)
			}
		}
	}
	for _, k := range []string{synth.FactTransferIn, synth.FactTransferOut, synth.FactAgainstAdvice, synth.FactSensitive, synth.FactStage} {
		if counts[k] == 0 {
			t.Errorf("no %s facts in the sample", k)
		}
	}
	if len(d.byType["Claim"]) == 0 || len(d.byType["Claim"]) > counts[synth.FactCoding] {
		t.Errorf("%d Claims for %d coded stays", len(d.byType["Claim"]), counts[synth.FactCoding])
	}
}

func hasFact(facts []synth.Fact, kind, resource string) bool {
	for _, f := range facts {
		if f.Kind == kind && f.Resource == resource {
			return true
		}
	}
	return false
}
