package store_test

import (
	"testing"
	"time"

	"github.com/custodian-him/custodian/store"
)

func ms(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMilli()
}

func TestDateRange(t *testing.T) {
	cases := []struct {
		in        string
		low, high string
		ok        bool
	}{
		{"2024", "2024-01-01T00:00:00Z", "2024-12-31T23:59:59.999Z", true},
		{"2024-02", "2024-02-01T00:00:00Z", "2024-02-29T23:59:59.999Z", true},
		{"2023-02-28", "2023-02-28T00:00:00Z", "2023-02-28T23:59:59.999Z", true},
		{"2024-03-05T10:00", "2024-03-05T10:00:00Z", "2024-03-05T10:00:59.999Z", true},
		{"2024-03-05T10:00:30+02:00", "2024-03-05T08:00:30Z", "2024-03-05T08:00:30.999Z", true},
		{"2024-03-05T10:00:30.250Z", "2024-03-05T10:00:30.25Z", "2024-03-05T10:00:30.25Z", true},
		{"2024-13", "", "", false},
		{"2024-02-30", "", "", false},
		{"yesterday", "", "", false},
		{"", "", "", false},
		{"2024-03-05T25:00", "", "", false},
	}
	for _, c := range cases {
		low, high, ok := store.DateRange(c.in)
		if ok != c.ok {
			t.Errorf("DateRange(%q) ok = %v, want %v", c.in, ok, c.ok)
			continue
		}
		if ok && (low != ms(c.low) || high != ms(c.high)) {
			t.Errorf("DateRange(%q) = %d..%d, want %s..%s", c.in, low, high, c.low, c.high)
		}
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"a": true, "Patient-1.2": true, "": false, "a_b": false, "a b": false, "é": false,
		"0123456789012345678901234567890123456789012345678901234567890123":  true,
		"01234567890123456789012345678901234567890123456789012345678901234": false,
	} {
		if got := store.ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"resourceType":"Observation","valueQuantity":{"value":1.50},"id":"x"}`,
			`{"resourceType":"Observation","id":"x","valueQuantity":{"value":1.50}}`},
		{`{"resourceType":"Patient","name":[{"given":["A","B"],"_given":[null,{"extension":[{"url":"u","valueString":"v"}]}]}]}`,
			`{"resourceType":"Patient","name":[{"_given":[null,{"extension":[{"url":"u","valueString":"v"}]}],"given":["A","B"]}]}`},
		{`{"resourceType":"Basic","text":{"div":"<div>a & b \"q\" \\ \u0001 \u2028</div>"}}`,
			"{\"resourceType\":\"Basic\",\"text\":{\"div\":\"<div>a & b \\\"q\\\" \\\\ \\u0001 \u2028</div>\"}}"},
		{`{"resourceType":"Patient","contained":[{"id":"c","resourceType":"Organization"}]}`,
			`{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"c"}]}`},
	}
	for _, c := range cases {
		m, err := store.Decode([]byte(c.in))
		if err != nil {
			t.Fatalf("Decode(%s): %v", c.in, err)
		}
		got, err := store.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("Encode(Decode(%s))\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func TestNewUUID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := store.NewUUID()
		if len(id) != 36 || !store.ValidID(id) || id[14] != '4' || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}
