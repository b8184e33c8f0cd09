package chart

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"reflect"
	"time"
)

// factsVersion is the version of what the index keeps of a resource and
// of how it is written as a fact. Bump it whenever a decode function
// (index.go, task.go) reads differently or the fact encoding below
// changes: saved facts of another version are not used, the record is
// read whole again. TestFactsGolden fails when decoding changes and this
// stays the same.
const factsVersion = 1

// factsFormat is the format of the facts an index built with rs keeps:
// the facts' version, the shapes decoded (a field added to a JSON shape
// changes it) and what of the rules decides what the index keeps (ranges,
// surgical categories, discharge summary types).
func factsFormat(rs *RuleSet) string {
	h := sha256.New()
	for _, v := range []any{encounterJSON{}, docJSON{}, procJSON{}, consentJSON{}, conditionJSON{}, obsJSON{},
		patientJSON{}, roleJSON{}, taskJSON{}, Encounter{}, Note{}, Proc{}, Consent{}, Diagnosis{}, Result{}, Patient{}, Deficiency{}} {
		writeShape(h, reflect.TypeOf(v), 0)
	}
	fmt.Fprintf(h, "rules:%s", rs.indexKey())
	return fmt.Sprintf("chart-%d-%s", factsVersion, hex.EncodeToString(h.Sum(nil)[:12]))
}

// writeShape writes t's structure (field names, tags and types) to w.
func writeShape(w interface{ Write([]byte) (int, error) }, t reflect.Type, depth int) {
	if depth > 4 {
		fmt.Fprintf(w, "%s", t)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		// The standard library's own structs are not the index's shapes
		// (a new Go release must not read the record whole again).
		if t.PkgPath() == "time" {
			fmt.Fprintf(w, "%s", t)
			return
		}
		fmt.Fprintf(w, "{")
		for i := range t.NumField() {
			f := t.Field(i)
			fmt.Fprintf(w, "%s %q ", f.Name, f.Tag)
			writeShape(w, f.Type, depth+1)
			fmt.Fprintf(w, ";")
		}
		fmt.Fprintf(w, "}")
	case reflect.Slice, reflect.Pointer:
		fmt.Fprintf(w, "%s ", t.Kind())
		writeShape(w, t.Elem(), depth+1)
	case reflect.Map:
		fmt.Fprintf(w, "map[%s]", t.Key())
		writeShape(w, t.Elem(), depth+1)
	default:
		fmt.Fprintf(w, "%s", t)
	}
}

// encodeFact writes what decode (or fromTask, for a Task) read of a
// resource of typ as a fact; nil when the index keeps nothing of it. It
// must run before apply files v (apply sets references in place).
func encodeFact(typ string, v any) []byte {
	var w factWriter
	switch d := v.(type) {
	case *Encounter:
		if d == nil {
			return nil
		}
		w.strs(d.Patient, d.Class, d.Status, d.Attending, d.Service)
		w.time(d.Start)
		w.time(d.End)
		w.bools(d.startOK, d.AdmitSource, d.Disposition)
	case *noteRec:
		if d == nil {
			return nil
		}
		w.str(d.replaces)
		n := d.note
		if n == nil {
			w.bools(false)
			break
		}
		w.bools(true, n.Preliminary)
		w.strs(n.Type, n.Encounter, n.Authenticator, n.Text)
		w.list(n.Authors)
		w.list(n.Related)
		w.time(n.Written)
		w.time(n.Signed)
	case *Proc:
		if d == nil {
			return nil
		}
		w.strs(d.Encounter, d.System, d.Code, d.Performer)
		w.bools(d.Surgical)
		w.time(d.Start)
		w.time(d.End)
	case *Consent:
		if d == nil {
			return nil
		}
		w.time(d.At)
		w.list(d.Procs)
	case *Diagnosis:
		if d == nil {
			return nil
		}
		w.strs(d.Encounter, d.System, d.Code)
		w.list(d.Texts)
	case []*Result:
		if len(d) == 0 {
			return nil
		}
		w.uint(uint64(len(d)))
		for _, r := range d {
			w.strs(r.Ref, r.Encounter, r.Code, r.Unit)
			w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(r.Value))
		}
	case *Patient:
		if d == nil {
			return nil
		}
		w.str(d.Gender)
		w.time(d.Birth)
		w.time(d.Deceased)
		w.bools(d.hasBirth, d.hasDead)
	case *roleRec:
		if d == nil {
			return nil
		}
		w.str(d.practitioner)
		w.list(d.codes)
	case *taskRec:
		if d == nil {
			return nil
		}
		x := d.D
		w.strs(d.ID, d.Status, x.Key, x.Rule, x.Kind, x.Title, x.Encounter, x.Patient, x.Focus, x.Date, x.Owner,
			x.Evidence, x.Clear, x.Service, x.Class)
		w.bools(x.Open)
		for _, t := range []time.Time{d.Authored, x.Since, x.Due, x.Cleared, x.Discharge} {
			w.time(t)
		}
	default:
		return nil
	}
	return w.b
}

// errFact is a saved fact that cannot be read back.
var errFact = errors.New("chart: a saved fact is unreadable")

// decodeFact reads back a fact encodeFact wrote for typ, as decode (or
// fromTask) would have returned it.
func decodeFact(typ string, b []byte) (any, error) {
	r := factReader{b: b}
	var v any
	switch typ {
	case "Encounter":
		d := &Encounter{Visit: &Visit{}}
		r.strs(&d.Patient, &d.Class, &d.Status, &d.Attending, &d.Service)
		d.Start, d.End = r.time(), r.time()
		r.bools(&d.startOK, &d.AdmitSource, &d.Disposition)
		v = d
	case "DocumentReference":
		rec := &noteRec{replaces: r.str()}
		var has bool
		r.bools(&has)
		if has {
			n := &Note{Authorship: &Authorship{}, noteExtra: &noteExtra{}}
			r.bools(&n.Preliminary)
			r.strs(&n.Type, &n.Encounter, &n.Authenticator, &n.Text)
			n.Authors, n.Related = r.list(), r.list()
			n.Written, n.Signed = r.time(), r.time()
			rec.note = n
		}
		v = rec
	case "Procedure":
		p := &Proc{}
		r.strs(&p.Encounter, &p.System, &p.Code, &p.Performer)
		r.bools(&p.Surgical)
		p.Start, p.End = r.time(), r.time()
		v = p
	case "Consent":
		c := &Consent{}
		c.At = r.time()
		c.Procs = r.list()
		v = c
	case "Condition":
		d := &Diagnosis{DxCode: &DxCode{}}
		r.strs(&d.Encounter, &d.System, &d.Code)
		d.Texts = r.list()
		v = d
	case "Observation":
		n := r.uint()
		if n > uint64(len(b)) {
			return nil, errFact
		}
		out := make([]*Result, n)
		for i := range out {
			x := &Result{}
			r.strs(&x.Ref, &x.Encounter, &x.Code, &x.Unit)
			x.Value = math.Float64frombits(r.u64())
			out[i] = x
		}
		v = out
	case "Patient":
		p := &Patient{Gender: r.str()}
		p.Birth, p.Deceased = r.time(), r.time()
		r.bools(&p.hasBirth, &p.hasDead)
		v = p
	case "PractitionerRole":
		v = &roleRec{practitioner: r.str(), codes: r.list()}
	case "Task":
		d := &Deficiency{}
		t := &taskRec{D: d}
		r.strs(&t.ID, &t.Status, &d.Key, &d.Rule, &d.Kind, &d.Title, &d.Encounter, &d.Patient, &d.Focus, &d.Date, &d.Owner,
			&d.Evidence, &d.Clear, &d.Service, &d.Class)
		r.bools(&d.Open)
		t.Authored, d.Since, d.Due, d.Cleared, d.Discharge = r.time(), r.time(), r.time(), r.time(), r.time()
		v = t
	default:
		return nil, fmt.Errorf("%w: type %s", errFact, typ)
	}
	if r.bad || len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %s", errFact, typ)
	}
	return v, nil
}

// factWriter appends a fact's fields: strings and lists with a uvarint
// length, times in time.Time's binary form behind a length byte, booleans
// as bytes.
type factWriter struct{ b []byte }

func (w *factWriter) uint(n uint64) { w.b = binary.AppendUvarint(w.b, n) }

func (w *factWriter) str(s string) {
	w.uint(uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *factWriter) strs(ss ...string) {
	for _, s := range ss {
		w.str(s)
	}
}

func (w *factWriter) list(ss []string) {
	w.uint(uint64(len(ss)))
	w.strs(ss...)
}

func (w *factWriter) bools(bs ...bool) {
	for _, b := range bs {
		if b {
			w.b = append(w.b, 1)
		} else {
			w.b = append(w.b, 0)
		}
	}
}

func (w *factWriter) time(t time.Time) {
	if t.IsZero() {
		w.b = append(w.b, 0)
		return
	}
	b, err := t.MarshalBinary()
	if err != nil || len(b) > 255 {
		w.b = append(w.b, 0) // a zone offset time cannot write: never from parseTime
		return
	}
	w.b = append(w.b, byte(len(b)))
	w.b = append(w.b, b...)
}

// factReader reads what factWriter wrote; bad is set (and zero values
// returned) once the fact runs short or is malformed.
type factReader struct {
	b   []byte
	bad bool
}

func (r *factReader) uint() uint64 {
	n, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[k:]
	return n
}

func (r *factReader) u64() uint64 {
	if len(r.b) < 8 {
		r.bad, r.b = true, nil
		return 0
	}
	n := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return n
}

func (r *factReader) str() string {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *factReader) strs(ps ...*string) {
	for _, p := range ps {
		*p = r.str()
	}
}

func (r *factReader) list() []string {
	n := r.uint()
	if n == 0 {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.str()
	}
	return out
}

func (r *factReader) bools(ps ...*bool) {
	for _, p := range ps {
		if len(r.b) == 0 || r.b[0] > 1 {
			r.bad, r.b = true, nil
			return
		}
		*p = r.b[0] == 1
		r.b = r.b[1:]
	}
}

func (r *factReader) time() time.Time {
	if len(r.b) == 0 {
		r.bad = true
		return time.Time{}
	}
	n := int(r.b[0])
	if n == 0 {
		r.b = r.b[1:]
		return time.Time{}
	}
	if len(r.b) < 1+n {
		r.bad, r.b = true, nil
		return time.Time{}
	}
	var t time.Time
	if err := t.UnmarshalBinary(r.b[1 : 1+n]); err != nil {
		r.bad = true
	}
	r.b = r.b[1+n:]
	return t
}
