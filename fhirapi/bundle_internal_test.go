package fhirapi

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/store"
)

// encodedString is s as the store's encoder writes it, the reference
// appendJSONString must agree with.
func encodedString(s string) string {
	enc, _ := store.Encode(map[string]any{"s": s})
	return string(enc[5 : len(enc)-1])
}

func TestAppendJSONString(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"a", "Z", "0", "/", " ", "~", `"`, `\`, "<", "&", "é", "😀", "\n", "\t", "\x00", "\x1f", "\x7f"}
	for n := range 3000 {
		var b strings.Builder
		for range n % 30 {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		if got, want := string(appendJSONString([]byte("x"), s)), "x"+encodedString(s); got != want {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

// TestWriteEntry checks that a transaction-response entry written
// directly is what encoding its members as maps gives.
func TestWriteEntry(t *testing.T) {
	ts := time.Date(2026, 11, 26, 5, 4, 3, 210e6, time.UTC)
	res := &store.Resource{Type: "Observation", ID: "a-1.b", VersionID: 3, LastUpdated: ts, Body: []byte(`{"resourceType":"Observation"}`)}
	for _, tc := range []struct {
		m       store.Method
		created bool
		minimal bool
		deleted bool
	}{{m: store.MethodCreate, created: true}, {m: store.MethodUpdate}, {m: store.MethodUpdate, minimal: true}, {m: store.MethodDelete, deleted: true}} {
		r := *res
		r.Deleted = tc.deleted
		got := writeEntry("http://x/fhir", tc.minimal, tc.m, &store.Outcome{Resource: &r, Created: tc.created})
		status := "200 OK"
		if tc.created {
			status = "201 Created"
		}
		want := map[string]any{"status": status, "etag": r.ETag(), "lastModified": store.FormatInstant(ts)}
		if tc.m != store.MethodDelete {
			want["location"] = r.Ref() + "/_history/" + strconv.FormatInt(r.VersionID, 10)
		}
		wantJSON, _ := store.Encode(want)
		if len(got) != 3 || got[2].name != "response" || string(got[2].raw) != string(wantJSON) {
			t.Fatalf("%s: response %s, want %s", tc.m, got[2].raw, wantJSON)
		}
		if got[0].name != "fullUrl" || string(got[0].raw) != `"http://x/fhir/Observation/a-1.b"` {
			t.Errorf("%s: fullUrl %s", tc.m, got[0].raw)
		}
		if wantBody := !tc.minimal && !tc.deleted; (got[1].raw != nil) != wantBody {
			t.Errorf("%s minimal=%v deleted=%v: resource %s", tc.m, tc.minimal, tc.deleted, got[1].raw)
		}
	}
}
