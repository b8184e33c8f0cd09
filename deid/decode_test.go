package deid

import (
	"testing"

	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
	"github.com/google/go-cmp/cmp"
)

// TestDecode checks the fast decoder against store.Decode on generated
// resources and on awkward bodies, and that it refuses broken ones.
func TestDecode(t *testing.T) {
	var c synth.Collector
	if _, err := synth.Generate(t.Context(), synth.Config{Patients: 3, Seed: 4}, &c); err != nil {
		t.Fatal(err)
	}
	bodies := append(c.Bodies,
		[]byte(`{"a":"\u00e9\ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t","n":[1.50,-2e3,0],"t":true,"f":false,"z":null,"o":{},"l":[]}`),
		[]byte(` { "x" : [ { } , "y" ] } `))
	for _, b := range bodies {
		want, err := store.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decode(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("%s (-want +got):\n%s", b, d)
		}
	}
	for _, bad := range []string{``, `[]`, `{"a":}`, `{"a":1,}`, `{"a":"x}`, `{"a":tru}`, `{"a":1} x`, `{"a":"\q"}`, `{"a":1.2.3}`, "{\"a\":\"\x01\"}"} {
		if _, err := decode([]byte(bad)); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}
