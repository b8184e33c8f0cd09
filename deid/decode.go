package deid

import (
	"encoding/json"
	"strconv"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/internal/jsonstr"
)

// decode parses a stored resource body into the same tree store.Decode
// gives (objects, arrays, strings, json.Number, bools, nil) at a fraction
// of its cost: bodies read from the store were checked when written, and
// decoding is most of the CPU an export spends on a resource.
func decode(b []byte) (map[string]any, error) {
	p := &parser{b: b}
	p.ws()
	if p.i >= len(b) || b[p.i] != '{' {
		return nil, p.fail()
	}
	v, err := p.object()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(b) {
		return nil, p.fail()
	}
	return v, nil
}

type parser struct {
	b []byte
	i int
}

func (p *parser) fail() error {
	return custodian.Errorf(custodian.EINTERNAL, "a stored resource is not valid JSON (at byte %d)", p.i)
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) value() (any, error) {
	p.ws()
	if p.i >= len(p.b) {
		return nil, p.fail()
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.string()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		start := p.i
		for p.i < len(p.b) {
			c := p.b[p.i]
			if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
				p.i++
				continue
			}
			break
		}
		n := json.Number(p.b[start:p.i])
		if _, err := strconv.ParseFloat(string(n), 64); err != nil {
			return nil, p.fail()
		}
		return n, nil
	}
	return nil, p.fail()
}

func (p *parser) literal(s string) error {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return p.fail()
	}
	p.i += len(s)
	return nil
}

func (p *parser) object() (map[string]any, error) {
	p.i++ // {
	m := map[string]any{}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return m, nil
	}
	for {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, p.fail()
		}
		k, err := p.string()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, p.fail()
		}
		p.i++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
		p.ws()
		if p.i >= len(p.b) {
			return nil, p.fail()
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return m, nil
		default:
			return nil, p.fail()
		}
	}
}

func (p *parser) array() ([]any, error) {
	p.i++ // [
	a := []any{}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return a, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.ws()
		if p.i >= len(p.b) {
			return nil, p.fail()
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return a, nil
		default:
			return nil, p.fail()
		}
	}
}

func (p *parser) string() (string, error) {
	v, next, ok := jsonstr.Unquote(p.b, p.i)
	if !ok {
		p.i = next
		return "", p.fail()
	}
	p.i = next
	return v, nil
}
