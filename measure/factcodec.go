package measure

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
)

// Facts are stored in a compact binary form of the parsed shapes, which
// reads back several times faster than JSON: the fields in declaration
// order, strings and json.Numbers as a length and bytes, ints as varints,
// a *bool as one byte, slices as a count and their elements. The first
// byte, factBinary, tells it from JSON (which starts with '{'). The
// facts' Format covers the shapes' fields, so a change of shape is a
// change of format and old facts are not read with the new shape.
const factBinary = 0x01

var errShortFact = errors.New("measure: a saved fact is cut short")

// encodeFact writes v (a pointer to a parsed shape) in the binary form.
func encodeFact(v any) []byte {
	b := []byte{factBinary}
	return appendValue(b, reflect.ValueOf(v).Elem())
}

var numberType = reflect.TypeOf(json.Number(""))

func appendValue(b []byte, v reflect.Value) []byte {
	switch v.Kind() {
	case reflect.String:
		b = binary.AppendUvarint(b, uint64(v.Len()))
		return append(b, v.String()...)
	case reflect.Int:
		return binary.AppendVarint(b, v.Int())
	case reflect.Pointer:
		if v.IsNil() {
			return append(b, 0)
		}
		switch e := v.Elem(); e.Kind() {
		case reflect.Bool:
			if e.Bool() {
				return append(b, 2)
			}
			return append(b, 1)
		default: // *json.Number
			b = binary.AppendUvarint(b, uint64(e.Len())+1)
			return append(b, e.String()...)
		}
	case reflect.Slice:
		b = binary.AppendUvarint(b, uint64(v.Len()))
		for i := range v.Len() {
			b = appendValue(b, v.Index(i))
		}
		return b
	case reflect.Struct:
		for i := range v.NumField() {
			b = appendValue(b, v.Field(i))
		}
		return b
	}
	panic("measure: a parsed shape has a field of kind " + v.Kind().String())
}

// decodeFact reads a binary fact into v (a pointer to a parsed shape).
func decodeFact(data []byte, v any) error {
	if len(data) == 0 || data[0] != factBinary {
		return errors.New("measure: not a binary fact")
	}
	d := factDecoder{b: data[1:]}
	d.value(reflect.ValueOf(v).Elem())
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("measure: a saved fact has bytes left over")
	}
	return d.err
}

type factDecoder struct {
	b   []byte
	err error
}

func (d *factDecoder) uvarint() uint64 {
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *factDecoder) fail() {
	if d.err == nil {
		d.err = errShortFact
	}
	d.b = nil
}

func (d *factDecoder) bytes(n uint64) string {
	if uint64(len(d.b)) < n {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *factDecoder) value(v reflect.Value) {
	if d.err != nil {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(d.bytes(d.uvarint()))
	case reflect.Int:
		x, n := binary.Varint(d.b)
		if n <= 0 {
			d.fail()
			return
		}
		d.b = d.b[n:]
		v.SetInt(x)
	case reflect.Pointer:
		if v.Type().Elem().Kind() == reflect.Bool {
			if len(d.b) == 0 {
				d.fail()
				return
			}
			tag := d.b[0]
			d.b = d.b[1:]
			if tag != 0 {
				t := tag == 2
				v.Set(reflect.ValueOf(&t))
			}
			return
		}
		n := d.uvarint()
		if n == 0 {
			return
		}
		num := json.Number(d.bytes(n - 1))
		v.Set(reflect.ValueOf(&num))
	case reflect.Slice:
		n := d.uvarint()
		if n > uint64(len(d.b)) { // every element takes a byte at least
			d.fail()
			return
		}
		if n == 0 {
			return
		}
		s := reflect.MakeSlice(v.Type(), int(n), int(n))
		for i := range int(n) {
			d.value(s.Index(i))
		}
		v.Set(s)
	case reflect.Struct:
		for i := range v.NumField() {
			d.value(v.Field(i))
		}
	default:
		d.err = errors.New("measure: a parsed shape has a field of kind " + v.Kind().String())
	}
}
