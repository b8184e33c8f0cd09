package fhirapi

import (
	"slices"
	"strconv"

	"github.com/custodian-him/custodian/store"
)

// bundleWriter assembles a Bundle as bytes, placing stored resource bodies
// in it as they are, without decoding them again.
type bundleWriter struct {
	b       []byte
	entries int
}

// newBundle starts a Bundle of type typ. total < 0 leaves total out.
func newBundle(typ string, total int64, links [][2]string) *bundleWriter {
	bw := &bundleWriter{}
	bw.b = append(bw.b, `{"resourceType":"Bundle","id":`...)
	bw.b = strconv.AppendQuote(bw.b, store.NewUUID())
	bw.b = append(bw.b, `,"type":`...)
	bw.b = strconv.AppendQuote(bw.b, typ)
	if total >= 0 {
		bw.b = append(bw.b, `,"total":`...)
		bw.b = strconv.AppendInt(bw.b, total, 10)
	}
	if len(links) > 0 {
		bw.b = append(bw.b, `,"link":[`...)
		for i, l := range links {
			if i > 0 {
				bw.b = append(bw.b, ',')
			}
			bw.b = append(bw.b, `{"relation":`...)
			bw.b = appendJSONString(bw.b, l[0])
			bw.b = append(bw.b, `,"url":`...)
			bw.b = appendJSONString(bw.b, l[1])
			bw.b = append(bw.b, '}')
		}
		bw.b = append(bw.b, ']')
	}
	bw.b = append(bw.b, `,"entry":[`...)
	return bw
}

// grow makes room for n more bytes, so that a Bundle whose size is known
// roughly is not copied again and again as it grows.
func (bw *bundleWriter) grow(n int) { bw.b = slices.Grow(bw.b, n) }

// add appends an entry made of the given members; each value is raw JSON.
func (bw *bundleWriter) add(members ...member) {
	if bw.entries > 0 {
		bw.b = append(bw.b, ',')
	}
	bw.entries++
	bw.b = append(bw.b, '{')
	first := true
	for _, m := range members {
		if m.raw == nil {
			continue
		}
		if !first {
			bw.b = append(bw.b, ',')
		}
		first = false
		bw.b = appendJSONString(bw.b, m.name)
		bw.b = append(bw.b, ':')
		bw.b = append(bw.b, m.raw...)
	}
	bw.b = append(bw.b, '}')
}

// bytes finishes the Bundle.
func (bw *bundleWriter) bytes() []byte {
	if bw.entries == 0 {
		// An empty entry list is not valid FHIR JSON: drop it.
		bw.b = bw.b[:len(bw.b)-len(`,"entry":[`)]
		return append(bw.b, '}')
	}
	return append(bw.b, "]}"...)
}

// member is one name/raw JSON value pair of an entry.
type member struct {
	name string
	raw  []byte
}

func str(name, v string) member {
	if v == "" {
		return member{name: name}
	}
	return member{name: name, raw: appendJSONString(nil, v)}
}

func raw(name string, v []byte) member { return member{name: name, raw: v} }

func obj(name string, v map[string]any) member {
	if v == nil {
		return member{name: name}
	}
	b, _ := store.Encode(v)
	return member{name: name, raw: b}
}

func appendJSONString(b []byte, s string) []byte {
	// Printable ASCII (ids, URLs, statuses, instants: nearly every value
	// here) needs escaping only for '"' and '\\'; anything else goes
	// through the store's encoder.
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			enc, _ := store.Encode(map[string]any{"s": s})
			// enc is {"s":"…"}: keep the quoted value.
			return append(b, enc[5:len(enc)-1]...)
		}
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', c)
			start = i + 1
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
