package audit_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/custodian-him/custodian/audit"
)

// marshal is the reference: the canonical bytes were encoding/json's
// before the hand-written encoder, and stored entries hash those.
func marshal(t testing.TB, e *audit.Entry) []byte {
	c := *e
	c.Time = c.Time.UTC()
	b, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCanonicalMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	when := time.Date(2026, 3, 1, 9, 30, 0, 120_000_000, time.FixedZone("EST", -5*3600))
	cases := []struct {
		name string
		e    audit.Entry
	}{
		{"minimal", audit.Entry{Seq: 1, Time: when, Action: "read", Outcome: "success"}},
		{"zero time", audit.Entry{Seq: 7}},
		{"whole seconds", audit.Entry{Seq: 2, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Action: "search"}},
		{"every field", audit.Entry{Seq: 123456789, Time: when, Action: "export", Outcome: "forbidden", Actor: "ana", ActorKind: "user",
			Roles: []string{"clinician", "coder"}, Address: "10.0.0.1", Purpose: "TREAT", Resources: []string{"Patient/1/_history/2", "Observation/x"},
			Patients: []string{"1", "2"}, Query: "Observation?code=a&b=<c>", BreakGlass: true, Reason: "ED \"trauma\"\n"}},
		{"escapes", audit.Entry{Seq: 3, Time: when, Actor: "a\x00b\x1f\t\r\b\f\\/<>&\u2028\u2029é😀", Query: "bad \xff\xfe utf8 \xe2\x82"}},
		{"empty lists", audit.Entry{Seq: 4, Time: when, Roles: []string{}, Patients: []string{""}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := marshal(t, &c.e)
			if got := c.e.Canonical(); string(got) != string(want) {
				t.Fatalf("canonical\n got %s\nwant %s", got, want)
			}
			tail := audit.CanonicalTail(&c.e)
			if got := audit.AppendWithSeq(nil, c.e.Seq, tail); string(got) != string(want) {
				t.Fatalf("from tail\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestCanonicalRandomStrings(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", "\"", "\\", "<", ">", "&", "\n", "\x01", "\x7f", "é", "\u2028", "\u2029", "\xff", "\xc3", "😀", " ", "/"}
	str := func() string {
		var b []byte
		for range r.IntN(12) {
			b = append(b, alphabet[r.IntN(len(alphabet))]...)
		}
		return string(b)
	}
	for range 2000 {
		e := audit.Entry{Seq: r.Int64N(1 << 40), Time: time.Unix(r.Int64N(4e9), r.Int64N(1e9)), Action: str(), Outcome: str(),
			Actor: str(), Roles: []string{str(), str()}, Query: str(), Reason: str(), BreakGlass: r.IntN(2) == 0}
		if got, want := e.Canonical(), marshal(t, &e); string(got) != string(want) {
			t.Fatalf("canonical\n got %q\nwant %q", got, want)
		}
	}
}

func TestFilterMatch(t *testing.T) {
	t.Parallel()
	when := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	e := &audit.Entry{Time: when, Action: "read", Outcome: "forbidden", Actor: "bob", Patients: []string{"p1", "p2"}}
	cases := []struct {
		name string
		f    audit.Filter
		want bool
	}{
		{"empty", audit.Filter{}, true},
		{"patient", audit.Filter{Patient: "p2"}, true},
		{"other patient", audit.Filter{Patient: "p3"}, false},
		{"actor", audit.Filter{Actor: "bob", Action: "read"}, true},
		{"other actor", audit.Filter{Actor: "ana"}, false},
		{"other action", audit.Filter{Action: "search"}, false},
		{"outcome", audit.Filter{Outcome: "forbidden"}, true},
		{"other outcome", audit.Filter{Outcome: "success"}, false},
		{"failed", audit.Filter{Failed: true}, true},
		{"break glass", audit.Filter{BreakGlass: true}, false},
		{"since equal", audit.Filter{Since: when}, true},
		{"since after", audit.Filter{Since: when.Add(time.Millisecond)}, false},
		{"until equal", audit.Filter{Until: when}, false},
		{"until after", audit.Filter{Until: when.Add(time.Millisecond)}, true},
	}
	for _, c := range cases {
		if got := c.f.Match(e); got != c.want {
			t.Errorf("%s: Match = %v, want %v", c.name, got, c.want)
		}
	}
	ok := &audit.Entry{Outcome: "success"}
	if (&audit.Filter{Failed: true}).Match(ok) {
		t.Error("Failed matched a success")
	}
}

func BenchmarkCanonical(b *testing.B) {
	e := &audit.Entry{Seq: 123456, Time: time.Now(), Action: "read", Outcome: "success", Actor: "user-12", ActorKind: "user",
		Roles: []string{"clinician"}, Address: "10.1.2.3", Purpose: "TREAT", Resources: []string{"Observation/8c1e2f4a-1b2c-4d5e-8f90-123456789abc"}, Patients: []string{"p1"}}
	b.Run("hand", func(b *testing.B) {
		buf := make([]byte, 0, 512)
		for b.Loop() {
			buf = audit.AppendCanonical(buf[:0], e)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			marshal(b, e)
		}
	})
}
