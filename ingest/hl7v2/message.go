package hl7v2

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/custodian-him/custodian"
)

// Delimiters are a message's separators, read from MSH-1 and MSH-2.
type Delimiters struct {
	Field, Component, Repetition, Escape, SubComponent byte
}

// DefaultDelimiters are |^~\& , which nearly every system uses.
var DefaultDelimiters = Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\', SubComponent: '&'}

// Message is a parsed HL7 v2 message.
type Message struct {
	Delimiters Delimiters
	Segments   []*Segment
}

// Segment is one segment. Fields[0] is the segment name; Fields[n] is field
// n (for MSH, Fields[1] is the field separator and Fields[2] the encoding
// characters, each kept as one plain value).
type Segment struct {
	Name   string
	Fields []Field
}

// Field is a field's repetitions, each a list of components, each a list of
// sub-components, all with escape sequences decoded.
type Field [][][]string

// Rep returns repetition r (0-based) as components; nil when absent.
func (f Field) Rep(r int) Component {
	if r < 0 || r >= len(f) {
		return nil
	}
	return Component(f[r])
}

// String returns the first repetition's first component's first
// sub-component: a simple field's value.
func (f Field) String() string { return f.Rep(0).At(1) }

// Component is one repetition's components (each a list of sub-components).
type Component [][]string

// At returns component c (1-based) as text: its first sub-component.
func (c Component) At(n int) string { return c.Sub(n, 1) }

// Sub returns sub-component s (1-based) of component n (1-based).
func (c Component) Sub(n, s int) string {
	if n < 1 || n > len(c) || s < 1 || s > len(c[n-1]) {
		return ""
	}
	return c[n-1][s-1]
}

// Empty reports whether every component is empty.
func (c Component) Empty() bool {
	for _, subs := range c {
		for _, s := range subs {
			if s != "" {
				return false
			}
		}
	}
	return true
}

// Field returns field n of the segment (nil when absent).
func (s *Segment) Field(n int) Field {
	if s == nil || n < 0 || n >= len(s.Fields) {
		return nil
	}
	return s.Fields[n]
}

// Get returns field n's first repetition, as components.
func (s *Segment) Get(n int) Component { return s.Field(n).Rep(0) }

// Value returns component c of field n's first repetition.
func (s *Segment) Value(n, c int) string { return s.Get(n).At(c) }

// Reps returns every non-empty repetition of field n.
func (s *Segment) Reps(n int) []Component {
	var out []Component
	for _, r := range s.Field(n) {
		if !Component(r).Empty() {
			out = append(out, Component(r))
		}
	}
	return out
}

// Segment returns the first segment named name, or nil.
func (m *Message) Segment(name string) *Segment {
	for _, s := range m.Segments {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// All returns every segment named name, in order.
func (m *Message) All(name string) []*Segment {
	var out []*Segment
	for _, s := range m.Segments {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// Get returns the value at a terser-style path: "PID-5" (the field's first
// component), "PID-5.2" (component 2), "PID-5.1.2" (sub-component 2),
// "PID-3(1).1" (second repetition) and "OBX(2)-5" (third OBX segment). An
// absent value is "". A malformed path is an EINVALID error.
func (m *Message) Get(path string) (string, error) {
	p, err := parsePath(path)
	if err != nil {
		return "", err
	}
	seg := m.nth(p.seg, p.segIdx)
	if seg == nil {
		return "", nil
	}
	if seg.Name == "MSH" && (p.field == 1 || p.field == 2) {
		if p.field < len(seg.Fields) {
			return seg.Fields[p.field].String(), nil
		}
		return "", nil
	}
	return seg.Field(p.field).Rep(p.rep).Sub(p.comp, p.sub), nil
}

// MustGet is Get for paths written in the program: it panics on a malformed
// path, never on a missing value.
func (m *Message) MustGet(path string) string {
	v, err := m.Get(path)
	if err != nil {
		panic(err)
	}
	return v
}

func (m *Message) nth(name string, i int) *Segment {
	for _, s := range m.Segments {
		if s.Name == name {
			if i == 0 {
				return s
			}
			i--
		}
	}
	return nil
}

type path struct {
	seg                           string
	segIdx, field, rep, comp, sub int
}

func parsePath(s string) (path, error) {
	bad := func() (path, error) {
		return path{}, custodian.Errorf(custodian.EINVALID, "hl7v2: %q is not a path like PID-5.1", s)
	}
	segPart, rest, ok := strings.Cut(s, "-")
	if !ok {
		return bad()
	}
	p := path{comp: 1, sub: 1}
	var err error
	if p.seg, p.segIdx, err = indexed(segPart); err != nil || len(p.seg) != 3 {
		return bad()
	}
	parts := strings.Split(rest, ".")
	if len(parts) > 3 {
		return bad()
	}
	var f string
	if f, p.rep, err = indexed(parts[0]); err != nil {
		return bad()
	}
	if p.field, err = strconv.Atoi(f); err != nil || p.field < 1 {
		return bad()
	}
	if len(parts) > 1 {
		if p.comp, err = strconv.Atoi(parts[1]); err != nil || p.comp < 1 {
			return bad()
		}
	}
	if len(parts) > 2 {
		if p.sub, err = strconv.Atoi(parts[2]); err != nil || p.sub < 1 {
			return bad()
		}
	}
	return p, nil
}

// indexed splits "OBX(2)" into "OBX" and 2.
func indexed(s string) (string, int, error) {
	name, idx, ok := strings.Cut(s, "(")
	if !ok {
		return s, 0, nil
	}
	idx, ok = strings.CutSuffix(idx, ")")
	if !ok {
		return "", 0, fmt.Errorf("no )")
	}
	n, err := strconv.Atoi(idx)
	if err != nil || n < 0 {
		return "", 0, fmt.Errorf("bad index")
	}
	return name, n, nil
}

// Header holds the MSH fields every message needs.
type Header struct {
	SendingApp, SendingFacility     string
	ReceivingApp, ReceivingFacility string
	Time                            string // MSH-7 as written
	Type, Trigger, Structure        string // MSH-9.1, .2, .3
	ControlID                       string // MSH-10
	ProcessingID                    string // MSH-11
	Version                         string // MSH-12
}

// Header returns the message's MSH fields.
func (m *Message) Header() Header {
	msh := m.Segment("MSH")
	return Header{
		SendingApp: msh.Value(3, 1), SendingFacility: msh.Value(4, 1),
		ReceivingApp: msh.Value(5, 1), ReceivingFacility: msh.Value(6, 1),
		Time: msh.Value(7, 1),
		Type: msh.Value(9, 1), Trigger: msh.Value(9, 2), Structure: msh.Value(9, 3),
		ControlID: msh.Value(10, 1), ProcessingID: msh.Value(11, 1), Version: msh.Value(12, 1),
	}
}

// SupportedVersion reports whether v (MSH-12) is one of 2.3 to 2.8 with
// their point releases.
func SupportedVersion(v string) bool {
	switch v {
	case "2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2":
		return true
	}
	return false
}

// Error is a problem with a message, with what an acknowledgement needs:
// the HL7 condition code (table 0357) and where it is.
type Error struct {
	// Condition is the HL7 table 0357 code: 100 segment sequence, 101
	// required field missing, 102 data type, 103 table value not found,
	// 200 unsupported message type, 201 unsupported event, 202 unsupported
	// processing id, 203 unsupported version, 207 application error.
	Condition string
	// Location is where, as a path: "MSH-12", "PID-3".
	Location string
	// Reject is true when the message itself is unacceptable (AR) rather
	// than its content (AE).
	Reject bool
	Msg    string
}

func (e *Error) Error() string {
	if e.Location != "" {
		return "hl7v2: " + e.Location + ": " + e.Msg
	}
	return "hl7v2: " + e.Msg
}

func problem(reject bool, condition, location, format string, args ...any) error {
	e := &Error{Condition: condition, Location: location, Reject: reject, Msg: fmt.Sprintf(format, args...)}
	code := custodian.EINVALID
	if condition == "200" || condition == "201" || condition == "203" {
		code = custodian.EUNPROCESSABLE
	}
	return custodian.Wrap(code, e, "%s", e.Error())
}

// MaxMessage is the largest message Parse accepts, in bytes.
const MaxMessage = 16 << 20

// Parse reads one message. It accepts CR, LF or CRLF between segments and
// a leading UTF-8 byte-order mark. Errors are EINVALID (EUNPROCESSABLE for
// an unsupported version) and carry an *Error for the acknowledgement.
func Parse(data []byte) (*Message, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(data) > MaxMessage {
		return nil, problem(true, "207", "", "the message is %d bytes; the limit is %d", len(data), MaxMessage)
	}
	if !utf8.Valid(data) {
		return nil, problem(true, "102", "", "the message is not valid UTF-8")
	}
	if !bytes.HasPrefix(data, []byte("MSH")) {
		return nil, problem(true, "100", "MSH", "the message does not begin with an MSH segment")
	}
	if len(data) < 8 {
		return nil, problem(true, "102", "MSH-2", "the MSH segment is too short to hold its delimiters")
	}
	d := Delimiters{Field: data[3], Component: data[4], Repetition: data[5], Escape: data[6], SubComponent: data[7]}
	if err := d.check(); err != nil {
		return nil, err
	}
	m := &Message{Delimiters: d}
	// One string for the whole message: segments and values are parts of
	// it, not copies.
	text := string(data)
	m.Segments = make([]*Segment, 0, strings.Count(text, "\r")+strings.Count(text, "\n")+1)
	for line := range strings.SplitSeq(text, "\r") {
		for part := range strings.SplitSeq(line, "\n") {
			if len(strings.TrimSpace(part)) == 0 {
				continue
			}
			seg, err := m.parseSegment(part, len(m.Segments) == 0)
			if err != nil {
				return nil, err
			}
			m.Segments = append(m.Segments, seg)
		}
	}
	h := m.Header()
	switch {
	case h.Type == "":
		return nil, problem(true, "101", "MSH-9", "the message type is missing")
	case h.ControlID == "":
		return nil, problem(true, "101", "MSH-10", "the message control id is missing")
	case h.Version == "":
		return nil, problem(true, "101", "MSH-12", "the version is missing")
	case !SupportedVersion(h.Version):
		return nil, problem(true, "203", "MSH-12", "version %q is not supported (2.3 to 2.8 are)", h.Version)
	}
	return m, nil
}

func (d Delimiters) check() error {
	all := []byte{d.Field, d.Component, d.Repetition, d.Escape, d.SubComponent}
	for i, c := range all {
		if c == '\r' || c == '\n' || c < ' ' || c >= 0x7f || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ' {
			return problem(true, "102", "MSH-2", "delimiter %q is not usable: delimiters are punctuation", c)
		}
		for _, o := range all[:i] {
			if o == c {
				return problem(true, "102", "MSH-2", "delimiter %q is used twice", c)
			}
		}
	}
	return nil
}

func (m *Message) parseSegment(line string, first bool) (*Segment, error) {
	d := m.Delimiters
	line = strings.TrimRight(line, " ")
	name, _, _ := strings.Cut(line, string(d.Field))
	if len(name) != 3 || !segmentName(name) {
		shown := name
		if len(shown) > 8 {
			shown = shown[:8]
		}
		return nil, problem(false, "100", fmt.Sprintf("segment %d", len(m.Segments)+1), "%q is not a segment name", shown)
	}
	if first != (name == "MSH") {
		if first {
			return nil, problem(true, "100", "MSH", "the message does not begin with an MSH segment")
		}
		return nil, problem(false, "100", "MSH", "a second MSH segment: one message at a time")
	}
	raw := strings.Split(line, string(d.Field))
	seg := &Segment{Name: name, Fields: make([]Field, 0, len(raw)+1)}
	// The plain values (a field of one value: most of them) share three
	// arrays, one per level of Field, instead of three allocations each.
	n := 2 // the name, and MSH-1
	for _, f := range raw[1:] {
		if f != "" {
			n++
		}
	}
	p := plainFields{subs: make([]string, 0, n), comps: make([][]string, 0, n), reps: make([][][]string, 0, n)}
	if name == "MSH" {
		// MSH-1 is the field separator itself; MSH-2 the encoding characters.
		seg.Fields = append(seg.Fields, p.field(name), p.field(string(d.Field)), p.field(raw[1]))
		if len(raw[1]) < 4 {
			return nil, problem(true, "102", "MSH-2", "the encoding characters %q are fewer than four", raw[1])
		}
		raw = raw[2:]
	} else {
		seg.Fields = append(seg.Fields, p.field(name))
		raw = raw[1:]
	}
	for _, f := range raw {
		seg.Fields = append(seg.Fields, m.parseField(f, &p))
	}
	return seg, nil
}

// plainFields hands out one-value Fields from shared arrays. Each Field
// is capped at its one element, so appending to it (nobody does) would
// copy rather than overwrite its neighbour.
type plainFields struct {
	subs  []string
	comps [][]string
	reps  [][][]string
}

func (p *plainFields) field(v string) Field {
	i := len(p.subs)
	p.subs = append(p.subs, v)
	p.comps = append(p.comps, p.subs[i:i+1:i+1])
	p.reps = append(p.reps, p.comps[i:i+1:i+1])
	return Field(p.reps[i : i+1 : i+1])
}

func segmentName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return s[0] >= 'A' && s[0] <= 'Z'
}

func (m *Message) parseField(f string, p *plainFields) Field {
	if f == "" {
		return nil
	}
	d := m.Delimiters
	if strings.IndexByte(f, d.Repetition) < 0 && strings.IndexByte(f, d.Component) < 0 && strings.IndexByte(f, d.SubComponent) < 0 {
		return p.field(d.DecodeText(f)) // most fields are one plain value
	}
	reps := strings.Split(f, string(d.Repetition))
	out := make(Field, len(reps))
	for i, rep := range reps {
		comps := strings.Split(rep, string(d.Component))
		out[i] = make([][]string, len(comps))
		for j, comp := range comps {
			subs := strings.Split(comp, string(d.SubComponent))
			for k, sub := range subs {
				subs[k] = d.DecodeText(sub)
			}
			out[i][j] = subs
		}
	}
	return out
}

// DecodeText decodes the escape sequences of one value: \F\ \S\ \T\ \R\ \E\
// become the delimiters, \Xhh…\ the bytes it spells, \.br\ a line break;
// highlighting (\H\ \N\) and other formatting commands are dropped. A
// sequence without its closing escape is kept as written.
func (d Delimiters) DecodeText(s string) string {
	e := string(d.Escape)
	if !strings.Contains(s, e) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, e)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.Index(s[i+1:], e)
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		seq := s[i+1 : i+1+j]
		s = s[i+2+j:]
		switch {
		case seq == "F":
			b.WriteByte(d.Field)
		case seq == "S":
			b.WriteByte(d.Component)
		case seq == "T":
			b.WriteByte(d.SubComponent)
		case seq == "R":
			b.WriteByte(d.Repetition)
		case seq == "E":
			b.WriteByte(d.Escape)
		case seq == ".br":
			b.WriteByte('\n')
		case len(seq) > 1 && seq[0] == 'X' && len(seq)%2 == 1:
			if v, ok := hexBytes(seq[1:]); ok && utf8.Valid(v) {
				b.Write(v)
			} else {
				b.WriteString(e + seq + e)
			}
		case seq == "H" || seq == "N" || strings.HasPrefix(seq, ".") || (len(seq) > 0 && (seq[0] == 'C' || seq[0] == 'M' || seq[0] == 'Z')):
			// Formatting and character-set commands carry no text.
		default:
			b.WriteString(e + seq + e)
		}
	}
}

func hexBytes(h string) ([]byte, bool) {
	out := make([]byte, 0, len(h)/2)
	for i := 0; i+1 < len(h); i += 2 {
		v, err := strconv.ParseUint(h[i:i+2], 16, 8)
		if err != nil {
			return nil, false
		}
		out = append(out, byte(v))
	}
	return out, true
}

// EncodeText encodes s for use as one value: the delimiters and the escape
// character become escape sequences, CR and LF \X0D\ and \X0A\.
func (d Delimiters) EncodeText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case d.Field:
			b.WriteString(string(d.Escape) + "F" + string(d.Escape))
		case d.Component:
			b.WriteString(string(d.Escape) + "S" + string(d.Escape))
		case d.SubComponent:
			b.WriteString(string(d.Escape) + "T" + string(d.Escape))
		case d.Repetition:
			b.WriteString(string(d.Escape) + "R" + string(d.Escape))
		case d.Escape:
			b.WriteString(string(d.Escape) + "E" + string(d.Escape))
		case '\r':
			b.WriteString(string(d.Escape) + "X0D" + string(d.Escape))
		case '\n':
			b.WriteString(string(d.Escape) + "X0A" + string(d.Escape))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
