package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"sort"
	"strings"

	"github.com/custodian-him/custodian/store"
)

// benchData makes Synthea-style resources for the store benchmark from a
// small set of templates (one Synthea patient's resources): every synthetic
// patient is a clone with fresh ids and its references rewritten so that a
// transaction Bundle of its resources stands on its own. The real
// synthetic-hospital generator lives in its own package; this one only has
// to produce valid, realistically shaped load.
type benchData struct {
	patients []map[string]any // Patient templates
	clinical []map[string]any // the other per-patient resources
	// types maps every template id to its resource type.
	types map[string]string
	// condRefs are the distinct conditional references of the templates
	// ("Practitioner?identifier=…"); shared resources answer them.
	condRefs []string
	// shared maps a conditional reference to the literal reference of the
	// resource created for it (set once the shared resources exist).
	shared map[string]string
}

// sharedTypes are the types Synthea writes once per population (and its
// patient bundles point at by conditional reference), not once per patient.
var sharedTypes = map[string]bool{"Practitioner": true, "Organization": true, "Location": true}

// loadBenchData reads the templates: gzip-compressed NDJSON, one resource a
// line.
func loadBenchData(path string) (*benchData, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the resource templates %s are missing: run from the root of the Custodian source tree (they are fhir/testdata/synthea-sample.ndjson.gz) or pass --templates FILE.ndjson.gz", path)
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("templates %s: %w", path, err)
	}
	d := &benchData{types: map[string]string{}, shared: map[string]string{}}
	conds := map[string]bool{}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 64<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		res, err := store.Decode(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("templates %s line %d: %w", path, line, err)
		}
		typ, _ := res["resourceType"].(string)
		id, _ := res["id"].(string)
		if typ == "" || id == "" {
			return nil, fmt.Errorf("templates %s line %d: a template needs a resourceType and an id", path, line)
		}
		d.types[id] = typ
		walkRefs(res, "", func(_ string, ref map[string]any) {
			s, _ := ref["reference"].(string)
			if t, _, ok := strings.Cut(s, "?"); ok && !strings.Contains(t, "/") {
				conds[s] = true
			}
		})
		switch {
		case typ == "Patient":
			d.patients = append(d.patients, res)
		case sharedTypes[typ]:
			// Made afresh from the conditional references.
		default:
			d.clinical = append(d.clinical, res)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("templates %s: %w", path, err)
	}
	if len(d.patients) == 0 || len(d.clinical) < 99 {
		return nil, fmt.Errorf("templates %s: need at least one Patient and 99 other per-patient resources (have %d and %d)", path, len(d.patients), len(d.clinical))
	}
	for c := range conds {
		d.condRefs = append(d.condRefs, c)
	}
	sort.Strings(d.condRefs)
	return d, nil
}

// walkRefs calls fn for every object with a "reference" member in v, with
// the name of the member that holds it ("subject", "encounter", …).
func walkRefs(v any, key string, fn func(key string, ref map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v["reference"].(string); ok {
			fn(key, v)
		}
		for k, e := range v {
			walkRefs(e, k, fn)
		}
	case []any:
		for _, e := range v {
			walkRefs(e, key, fn)
		}
	}
}

// clone deep-copies a decoded JSON tree.
func clone(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = clone(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = clone(e)
		}
		return s
	default:
		return v
	}
}

// sharedEntries are the transaction entries that create one resource for
// each conditional reference, so that every one matches exactly one.
func (d *benchData) sharedEntries() []store.Entry {
	var out []store.Entry
	for _, c := range d.condRefs {
		typ, query, _ := strings.Cut(c, "?")
		ident := strings.TrimPrefix(query, "identifier=")
		system, value, ok := strings.Cut(ident, "|")
		if !ok {
			system, value = "", ident
		}
		res := map[string]any{
			"resourceType": typ,
			"identifier":   []any{map[string]any{"system": system, "value": value}},
		}
		switch typ {
		case "Practitioner":
			res["name"] = []any{map[string]any{"family": "Bench" + value, "given": []any{"Synthetic"}, "prefix": []any{"Dr."}}}
			res["active"] = true
		case "Organization", "Location":
			res["name"] = typ + " " + value
		}
		out = append(out, store.Entry{Method: store.MethodCreate, URL: typ, Resource: res, IfNoneExist: query})
	}
	return out
}

// benchEntry is one generated resource.
type benchEntry struct {
	typ, fullURL string
	res          map[string]any
}

// patient makes synthetic patient n: a Patient and size-1 other resources,
// with fresh ids. With literal false, references between them are
// urn:uuid fullUrls and references to shared resources stay conditional (a
// transaction Bundle); with literal true every reference is a literal
// Type/id (resources for single creates).
func (d *benchData) patient(n, size int, literal bool) []benchEntry {
	rng := rand.New(rand.NewPCG(uint64(n), 0x5eed))
	newID := map[string]string{}
	var out []benchEntry
	add := func(tmpl map[string]any) {
		id := tmpl["id"].(string)
		fresh := benchUUID(rng)
		newID[id] = fresh
		res := clone(tmpl).(map[string]any)
		delete(res, "id")
		out = append(out, benchEntry{typ: tmpl["resourceType"].(string), fullURL: "urn:uuid:" + fresh, res: res})
	}
	add(d.patients[n%len(d.patients)])
	pat := out[0].fullURL
	start := n * (size - 1) % len(d.clinical)
	for j := 0; j < size-1; j++ {
		add(d.clinical[(start+j)%len(d.clinical)])
	}
	byType := map[string][]string{}
	for _, e := range out {
		byType[e.typ] = append(byType[e.typ], e.fullURL)
	}
	pick := func(typ string) string {
		if typ == "" {
			return out[1+rng.IntN(len(out)-1)].fullURL
		}
		if c := byType[typ]; len(c) > 0 {
			return c[rng.IntN(len(c))]
		}
		return typ + "/" + benchUUID(rng) // a target outside the bundle, as in bulk data
	}
	for _, e := range out {
		walkRefs(e.res, "", func(key string, ref map[string]any) {
			s := ref["reference"].(string)
			var target string
			switch {
			case strings.HasPrefix(s, "#"):
				return // contained
			case strings.HasPrefix(s, "urn:uuid:"):
				target = s[len("urn:uuid:"):]
			case strings.Contains(s, "?"):
				if literal {
					if to, ok := d.shared[s]; ok {
						ref["reference"] = to
					}
				}
				return
			default:
				_, target, _ = strings.Cut(s, "/")
			}
			typ := d.types[target]
			switch {
			case typ == "Patient":
				ref["reference"] = pat
			case newID[target] != "":
				ref["reference"] = "urn:uuid:" + newID[target]
			case typ != "":
				ref["reference"] = pick(typ)
			case key == "encounter":
				ref["reference"] = pick("Encounter")
			case key == "claim":
				ref["reference"] = pick("Claim")
			case strings.HasPrefix(s, "urn:uuid:"):
				ref["reference"] = pick("")
			default:
				return // a literal reference to something unknown stays
			}
		})
	}
	if literal {
		typeOf := map[string]string{}
		for _, e := range out {
			typeOf[e.fullURL] = e.typ
		}
		for _, e := range out {
			walkRefs(e.res, "", func(_ string, ref map[string]any) {
				s := ref["reference"].(string)
				if t, ok := typeOf[s]; ok {
					ref["reference"] = t + "/" + strings.TrimPrefix(s, "urn:uuid:")
				}
			})
		}
	}
	return out
}

// bundle makes the transaction Bundle of synthetic patient n with size
// entries, encoded.
func (d *benchData) bundle(n, size int) ([]byte, error) {
	entries := d.patient(n, size, false)
	raw := make([]any, len(entries))
	for i, e := range entries {
		raw[i] = map[string]any{
			"fullUrl":  e.fullURL,
			"resource": e.res,
			"request":  map[string]any{"method": "POST", "url": e.typ},
		}
	}
	return json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": raw})
}

// bundleEntries decodes a transaction Bundle made by bundle into store
// entries, as the API's transaction handler does.
func bundleEntries(b []byte) ([]store.Entry, error) {
	m, err := store.Decode(b)
	if err != nil {
		return nil, err
	}
	raw, _ := m["entry"].([]any)
	out := make([]store.Entry, len(raw))
	for i, e := range raw {
		em := e.(map[string]any)
		req := em["request"].(map[string]any)
		out[i] = store.Entry{
			Method:   store.Method(req["method"].(string)),
			URL:      req["url"].(string),
			FullURL:  em["fullUrl"].(string),
			Resource: em["resource"].(map[string]any),
		}
	}
	return out, nil
}

// benchUUID is a random version 4 UUID from rng (reproducible).
func benchUUID(rng *rand.Rand) string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
