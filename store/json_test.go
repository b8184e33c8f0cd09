package store_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// referenceDecode is what Decode must agree with: encoding/json with
// UseNumber, one object and nothing after it.
func referenceDecode(body []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false
	}
	m, ok := v.(map[string]any)
	return m, ok
}

const sampleBody = `{"resourceType":"Observation","id":"o-1","meta":{"versionId":"2","lastUpdated":"2024-01-02T03:04:05.000Z"},
 "status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
 "code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Heart rate \"resting\"\\n\u00e9\ud83d\ude00"}],"text":"HR\t"},
 "subject":{"reference":"Patient/p1"},"effectivePeriod":{"start":"2024-01-01","end":null},
 "valueQuantity":{"value":72.50,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"},
 "component":[],"extension":[{"url":"x","valueBoolean":true},{"url":"y","valueBoolean":false},{"url":"z","valueInteger":-0}],
 "_status":{"extension":[{"url":"a","valueDecimal":1e10}]},"note":[{"text":"a\/b \u0000 \ud800 x"}],"interpretation":{}}`

func TestDecodeAgrees(t *testing.T) {
	deep := strings.Repeat(`{"a":[`, 5000) + `1` + strings.Repeat(`]}`, 5000)
	tooDeep := strings.Repeat(`{"a":[`, 5001) + `1` + strings.Repeat(`]}`, 5001)
	cases := []string{
		sampleBody,
		`{}`, ` {"a":1} `, "\n{\"a\":[1,2,3]}\r\n\t", `{"a":1,"a":2}`, `{"a":{"b":{"c":[[],[{}]]}}}`,
		`{"n":[0,-0,1.5,1.50,-12.0e+3,1E-5,123456789012345678901234567890]}`,
		`{"s":"\ud83d\ude00 \u00e9 \"q\" \\ \/ \b\f\n\r\t"}`, `{"s":"\udc00\ud800"}`,
		deep, tooDeep,
		// not valid
		``, ` `, `[]`, `"x"`, `1`, `null`, `{`, `{"a"`, `{"a":`, `{"a":1`, `{"a":1,}`, `{"a":1 "b":2}`, `{,}`,
		`{"a":[1,]}`, `{"a":[1 2]}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":+1}`, `{"a":1e}`, `{"a":1e+}`,
		`{"a":tru}`, `{"a":nul}`, `{"a":True}`, `{"a":"x}`, "{\"a\":\"x\ty\"}", `{"a":"\x"}`, `{"a":"\u12"}`,
		`{"a":1}{}`, `{"a":1} x`, `{a:1}`, `{'a':1}`, `{"a":1}]`, `{"a":NaN}`, `{"a":Infinity}`, `{"a" 1}`,
	}
	for _, c := range cases {
		check(t, []byte(c))
	}
	// Damaged copies of the sample: bytes deleted, repeated and replaced.
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = `{}[]:,"\ 0123456789.eE+-tfnulrsa` + "\t\n"
	for range 20000 {
		b := []byte(sampleBody)
		for range 1 + rng.IntN(3) {
			i := rng.IntN(len(b))
			switch rng.IntN(3) {
			case 0:
				b = append(b[:i:i], b[i+1:]...)
			case 1:
				b = append(b[:i+1:i+1], b[i:]...)
			default:
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		check(t, b)
	}
}

func check(t *testing.T, body []byte) {
	t.Helper()
	want, wantOK := referenceDecode(body)
	got, err := store.Decode(body)
	if !wantOK {
		if err == nil {
			t.Errorf("Decode(%.80q) accepted what encoding/json refuses", body)
		} else if custodian.ErrorCode(err) != custodian.EINVALID {
			t.Errorf("Decode(%.80q): code %s, want EINVALID", body, custodian.ErrorCode(err))
		}
		return
	}
	if err != nil {
		t.Errorf("Decode(%.80q): %v; encoding/json reads it", body, err)
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Decode(%.80q)\n got %#v\nwant %#v", body, got, want)
	}
}

func BenchmarkDecode(b *testing.B) {
	body := []byte(sampleBody)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := store.Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEncodingJSON(b *testing.B) {
	body := []byte(sampleBody)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := referenceDecode(body); !ok {
			b.Fatal("refused")
		}
	}
}

// referenceString is JSON string escaping written plainly, a byte at a
// time: what Encode's faster escaping must agree with.
func referenceString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// TestEncodeStrings checks string escaping against referenceString on
// random strings (every byte that needs escaping, at every position of
// the eight-byte steps, among plain ASCII and UTF-8 text), and that Decode
// reads back what Encode wrote.
func TestEncodeStrings(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"a", "Z", "0", " ", "~", "\x7f", "é", "😀", "\u2028", `"`, `\`, "\n", "\r", "\t", "\x00", "\x01", "\x1f", "/", "<", "&"}
	for n := range 5000 {
		var b strings.Builder
		for range n % 40 {
			if rng.IntN(4) == 0 {
				b.WriteString(pieces[7+rng.IntN(len(pieces)-7)])
			} else {
				b.WriteString(pieces[rng.IntN(7)])
			}
		}
		s := b.String()
		got, err := store.Encode(map[string]any{"s": s})
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"s":` + referenceString(s) + `}`; string(got) != want {
			t.Fatalf("Encode(%q) = %s, want %s", s, got, want)
		}
		back, err := store.Decode(got)
		if err != nil || back["s"] != s {
			t.Fatalf("Decode(Encode(%q)) = %q, %v", s, back["s"], err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	m, err := store.Decode([]byte(sampleBody))
	if err != nil {
		b.Fatal(err)
	}
	narrative := strings.Repeat(`<div xmlns="http://www.w3.org/1999/xhtml">Heart rate 72 /min, taken at rest; see the "notes" below.</div>`, 10)
	m["text"] = map[string]any{"status": "generated", "div": narrative}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := store.Encode(m); err != nil {
			b.Fatal(err)
		}
	}
}
