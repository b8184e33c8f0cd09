package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/internal/jsonstr"
)

// Decode parses a FHIR JSON resource into the generic tree the rest of
// Custodian works on: map[string]any, []any, string, json.Number (so that
// decimals keep their written precision, 1.50 stays 1.50), bool and nil —
// the tree encoding/json makes with UseNumber, built by a parser of its own
// (a third of the time, with fewer allocations), which TestDecodeAgrees
// checks against encoding/json.
func Decode(body []byte) (map[string]any, error) {
	if !utf8.Valid(body) {
		return nil, custodian.Errorf(custodian.EINVALID, "the body is not valid UTF-8")
	}
	d := decoder{b: body}
	d.space()
	v, err := d.value()
	if err != nil {
		return nil, custodian.Wrap(custodian.EINVALID, err, "the body is not valid JSON: %s", jsonErrorText(err))
	}
	d.space()
	if d.i < len(d.b) {
		return nil, custodian.Errorf(custodian.EINVALID, "the body is not valid JSON: unexpected data after the resource")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, custodian.Errorf(custodian.EINVALID, "the body is not a JSON object, so it is not a FHIR resource")
	}
	return m, nil
}

// maxDepth is how deeply arrays and objects may nest, as in encoding/json.
const maxDepth = 10000

// decoder is the state of one Decode: the input and the position in it.
type decoder struct {
	b     []byte
	i     int
	depth int
}

// syntaxError is a JSON syntax error at a byte offset.
type syntaxError struct{ offset int }

func (e *syntaxError) Error() string { return "JSON syntax error at byte " + strconv.Itoa(e.offset) }

var (
	errJSONEnd   = errors.New("JSON ends too early")
	errJSONDepth = errors.New("JSON nested too deeply")
)

// fail is the error of the byte at the position: the input ending, or a
// byte that cannot be there.
func (d *decoder) fail() error {
	if d.i >= len(d.b) {
		return errJSONEnd
	}
	return &syntaxError{offset: d.i}
}

func (d *decoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// value reads the value at the position (no space before it).
func (d *decoder) value() (any, error) {
	if d.i >= len(d.b) {
		return nil, errJSONEnd
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		return d.str()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return nil, d.fail()
}

func (d *decoder) literal(word string) error {
	for k := 0; k < len(word); k++ {
		if d.i >= len(d.b) || d.b[d.i] != word[k] {
			return d.fail()
		}
		d.i++
	}
	return nil
}

func (d *decoder) str() (string, error) {
	s, next, ok := jsonstr.Unquote(d.b, d.i)
	if !ok {
		// Find where it went wrong: the end of the input, or a byte.
		d.i = next
		return "", d.fail()
	}
	d.i = next
	return s, nil
}

// key reads an object member's name. The common FHIR element names come
// from commonKeys instead of a new string each.
func (d *decoder) key() (string, error) {
	if end := bytes.IndexByte(d.b[d.i+1:], '"'); end >= 0 {
		if k, ok := commonKeys[string(d.b[d.i+1:d.i+1+end])]; ok {
			d.i += end + 2
			return k, nil
		}
	}
	return d.str()
}

// commonKeys are the element names most FHIR resources repeat. It is never
// changed after it is built.
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range strings.Fields(`resourceType id meta versionId lastUpdated profile security tag source text status div
		extension modifierExtension url value valueString valueCode valueBoolean valueInteger valueDecimal valueDateTime
		valueCoding valueCodeableConcept valueQuantity valueReference valuePeriod valueAddress
		identifier use type system code display coding reference subject patient encounter period start end
		category name family given prefix suffix telecom gender birthDate address line city state postalCode country
		effectiveDateTime issued performer unit interpretation referenceRange low high component note
		class serviceProvider participant individual location reasonCode diagnosis condition hospitalization
		clinicalStatus verificationStatus onsetDateTime abatementDateTime recordedDate asserter recorder
		intent medicationCodeableConcept authoredOn requester dosageInstruction timing repeat frequency periodUnit
		date author authenticator custodian context content attachment contentType data title created
		result resultsInterpreter effectivePeriod occurrenceDateTime primarySource vaccineCode lotNumber
		provider priority insurance item sequence productOrService servicedPeriod net total billablePeriod
		claim outcome payment adjudication amount currency focal coverage careTeam role
		active managingOrganization generalPractitioner maritalStatus multipleBirthBoolean communication language
		contained link actor description detail activity basedOn partOf encounter series`) {
		m[k] = k
	}
	return m
}()

// number reads a number as JSON writes it: -? (0 | [1-9][0-9]*)
// (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func (d *decoder) number() (json.Number, error) {
	start := d.i
	if d.b[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i >= len(d.b):
		return "", errJSONEnd
	case d.b[d.i] == '0':
		d.i++
	case d.b[d.i] >= '1' && d.b[d.i] <= '9':
		d.digits()
	default:
		return "", d.fail()
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if d.digits() == 0 {
			return "", d.fail()
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if d.digits() == 0 {
			return "", d.fail()
		}
	}
	return json.Number(d.b[start:d.i]), nil
}

func (d *decoder) digits() int {
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i - start
}

func (d *decoder) object() (map[string]any, error) {
	if d.depth++; d.depth > maxDepth {
		return nil, errJSONDepth
	}
	d.i++ // {
	m := map[string]any{}
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		d.depth--
		return m, nil
	}
	for {
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, d.fail()
		}
		k, err := d.key()
		if err != nil {
			return nil, err
		}
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, d.fail()
		}
		d.i++
		d.space()
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
		d.space()
		if d.i >= len(d.b) {
			return nil, errJSONEnd
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.space()
		case '}':
			d.i++
			d.depth--
			return m, nil
		default:
			return nil, d.fail()
		}
	}
}

func (d *decoder) array() ([]any, error) {
	if d.depth++; d.depth > maxDepth {
		return nil, errJSONDepth
	}
	d.i++ // [
	a := []any{}
	d.space()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		d.depth--
		return a, nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		d.space()
		if d.i >= len(d.b) {
			return nil, errJSONEnd
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.space()
		case ']':
			d.i++
			d.depth--
			return a, nil
		default:
			return nil, d.fail()
		}
	}
}

// jsonErrorText describes a JSON syntax error by position only, never by
// the content around it, which may be patient data.
func jsonErrorText(err error) string {
	var se *syntaxError
	if errors.As(err, &se) {
		return "syntax error at byte " + strconv.Itoa(se.offset)
	}
	if errors.Is(err, errJSONEnd) {
		return "it ends too early"
	}
	return "it cannot be read (for example, it is nested too deeply)"
}

// Encode writes a resource tree as compact JSON: resourceType, id and meta
// first, then the other elements in name order; strings are not
// HTML-escaped and numbers keep their original text.
func Encode(res map[string]any) ([]byte, error) {
	// Most resources take one to a few kilobytes: start with room for a
	// kilobyte rather than growing through every size below it.
	b := make([]byte, 0, 1024)
	b = append(b, '{')
	first := true
	var err error
	for _, k := range []string{"resourceType", "id", "meta"} {
		if v, ok := res[k]; ok {
			if b, err = appendMemberErr(b, &first, k, v); err != nil {
				return nil, err
			}
		}
	}
	keys := make([]string, 0, len(res))
	for k := range res {
		if k != "resourceType" && k != "id" && k != "meta" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if b, err = appendMemberErr(b, &first, k, res[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func appendMemberErr(b []byte, first *bool, k string, v any) ([]byte, error) {
	if !*first {
		b = append(b, ',')
	}
	*first = false
	b = appendString(b, k)
	b = append(b, ':')
	return appendValue(b, v)
}

func appendValue(b []byte, v any) ([]byte, error) {
	var err error
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case string:
		return appendString(b, v), nil
	case json.Number:
		return append(b, v...), nil
	case float64:
		return strconv.AppendFloat(b, v, 'f', -1, 64), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendValue(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		var kb [16]string // most objects have few members: no allocation
		keys := kb[:0]
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		// A contained resource keeps resourceType first.
		if i := slices.Index(keys, "resourceType"); i > 0 {
			copy(keys[1:i+1], keys[:i])
			keys[0] = "resourceType"
		}
		b = append(b, '{')
		first := true
		for _, k := range keys {
			if b, err = appendMemberErr(b, &first, k, v[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	default:
		return nil, custodian.Errorf(custodian.EINTERNAL, "cannot encode a %T in a resource", v)
	}
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. s is valid UTF-8 (Decode checks).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// stamp sets the id and the version meta of res. With an empty id it removes
// them instead, to compare content.
func stamp(res map[string]any, id string, vid int64, ts time.Time) {
	meta, _ := res["meta"].(map[string]any)
	if id == "" {
		delete(res, "id")
		if meta != nil {
			delete(meta, "versionId")
			delete(meta, "lastUpdated")
			if len(meta) == 0 {
				delete(res, "meta")
			}
		}
		return
	}
	res["id"] = id
	if meta == nil {
		meta = map[string]any{}
		res["meta"] = meta
	}
	meta["versionId"] = strconv.FormatInt(vid, 10)
	meta["lastUpdated"] = FormatInstant(ts)
}

// copyWithoutStamp returns a shallow copy of res without id and version meta.
func copyWithoutStamp(res map[string]any, meta map[string]any) map[string]any {
	c := make(map[string]any, len(res))
	for k, v := range res {
		c[k] = v
	}
	if meta != nil {
		m := make(map[string]any, len(meta))
		for k, v := range meta {
			m[k] = v
		}
		c["meta"] = m
	}
	stamp(c, "", 0, time.Time{})
	return c
}

// parse decodes and validates a resource body written to the type endpoint typ.
func (s *Store) parse(typ string, body []byte) (map[string]any, error) {
	if !s.validator.IsResourceType(typ) {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "%q is not a FHIR R4 resource type", typ)
	}
	res, err := Decode(body)
	if err != nil {
		return nil, err
	}
	if err := s.check(typ, res); err != nil {
		return nil, err
	}
	return res, nil
}

// check validates a decoded resource for the type endpoint typ.
func (s *Store) check(typ string, res map[string]any) error {
	rt, _ := res["resourceType"].(string)
	if rt == "" {
		return custodian.Errorf(custodian.EINVALID, "the resource has no resourceType")
	}
	if typ != "" && rt != typ {
		return custodian.Errorf(custodian.EINVALID, "the resource is a %q but was sent to the %s endpoint", rt, typ)
	}
	if id, ok := res["id"]; ok {
		if s, _ := id.(string); !ValidID(s) {
			return &custodian.Error{Code: custodian.EINVALID, Message: "the resource id breaks the FHIR id rules",
				Issues: []custodian.Issue{{Severity: "error", Code: "value", Path: rt + ".id", Message: "an id is 1 to 64 of A-Z a-z 0-9 - ."}}}
		}
	}
	var errs []custodian.Issue
	for _, is := range s.validator.Validate(res) {
		if is.Severity == "error" || is.Severity == "fatal" {
			errs = append(errs, is)
		}
	}
	if len(errs) > 0 {
		return &custodian.Error{Code: custodian.EINVALID, Message: "the resource is not valid FHIR R4 (" + strconv.Itoa(len(errs)) + " issues)", Issues: errs}
	}
	return nil
}
