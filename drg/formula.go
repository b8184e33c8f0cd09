package drg

import (
	"fmt"
	"strings"
)

// The formula language of the MS-DRG tables: operands are attribute names,
// optionally prefixed (PDX: the principal diagnosis has it, SDX: some
// secondary diagnosis has it, ANY: either or a procedure), bare names are
// attributes of any code or claim-level facts (ALIVE, DIED, MULTST, …), MCC
// and CC test the claim's severity; operators are & (and), | (or), ~ (not)
// and parentheses, with ~ binding tightest and & tighter than |.

type op uint8

const (
	opAny op = iota // the attribute is on some code or is a claim fact
	opPDX
	opSDX
	opMCC
	opCC
	opAnd
	opOr
	opNot
)

type node struct {
	op   op
	attr uint16
	a, b int32
}

// compile parses a formula into nodes (children before parents) and returns
// the root's index.
func compile(text string, t *table) ([]node, int32, error) {
	p := &parser{src: text, t: t}
	p.next()
	root, err := p.or()
	if err != nil {
		return nil, 0, fmt.Errorf("formula %q: %v", text, err)
	}
	if p.tok != "" {
		return nil, 0, fmt.Errorf("formula %q: unexpected %q", text, p.tok)
	}
	return p.nodes, root, nil
}

type parser struct {
	src   string
	pos   int
	tok   string
	nodes []node
	t     *table
}

func (p *parser) next() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
	if p.pos >= len(p.src) {
		p.tok = ""
		return
	}
	switch c := p.src[p.pos]; c {
	case '(', ')', '&', '|', '~':
		p.tok = p.src[p.pos : p.pos+1]
		p.pos++
		return
	}
	start := p.pos
	for p.pos < len(p.src) && !strings.ContainsRune(" \t()&|~", rune(p.src[p.pos])) {
		p.pos++
	}
	p.tok = p.src[start:p.pos]
}

func (p *parser) add(n node) int32 {
	p.nodes = append(p.nodes, n)
	return int32(len(p.nodes) - 1)
}

func (p *parser) or() (int32, error) {
	l, err := p.and()
	if err != nil {
		return 0, err
	}
	for p.tok == "|" {
		p.next()
		r, err := p.and()
		if err != nil {
			return 0, err
		}
		l = p.add(node{op: opOr, a: l, b: r})
	}
	return l, nil
}

func (p *parser) and() (int32, error) {
	l, err := p.unary()
	if err != nil {
		return 0, err
	}
	for p.tok == "&" {
		p.next()
		r, err := p.unary()
		if err != nil {
			return 0, err
		}
		l = p.add(node{op: opAnd, a: l, b: r})
	}
	return l, nil
}

func (p *parser) unary() (int32, error) {
	switch p.tok {
	case "":
		return 0, fmt.Errorf("unexpected end")
	case "~":
		p.next()
		c, err := p.unary()
		if err != nil {
			return 0, err
		}
		return p.add(node{op: opNot, a: c}), nil
	case "(":
		p.next()
		e, err := p.or()
		if err != nil {
			return 0, err
		}
		if p.tok != ")" {
			return 0, fmt.Errorf("missing )")
		}
		p.next()
		return e, nil
	case ")", "&", "|":
		return 0, fmt.Errorf("unexpected %q", p.tok)
	}
	tok := p.tok
	p.next()
	switch tok {
	case "MCC":
		return p.add(node{op: opMCC}), nil
	case "CC":
		return p.add(node{op: opCC}), nil
	}
	prefix, name, ok := strings.Cut(tok, ":")
	if !ok {
		return p.add(node{op: opAny, attr: p.t.attr(tok)}), nil
	}
	switch prefix {
	case "PDX":
		return p.add(node{op: opPDX, attr: p.t.attr(name)}), nil
	case "SDX":
		return p.add(node{op: opSDX, attr: p.t.attr(name)}), nil
	case "ANY":
		return p.add(node{op: opAny, attr: p.t.attr(name)}), nil
	case "ONLY":
		return p.add(node{op: opAny, attr: p.t.attr(tok)}), nil
	}
	return 0, fmt.Errorf("unknown operand prefix in %q", tok)
}

// eval evaluates node i over the claim's attribute sets and a severity.
func eval(nodes []node, i int32, c *sets, sev Severity) bool {
	n := &nodes[i]
	switch n.op {
	case opAny:
		return c.any.has(n.attr)
	case opPDX:
		return c.pdx.has(n.attr)
	case opSDX:
		return c.sdx.has(n.attr)
	case opMCC:
		return sev == MCC
	case opCC:
		return sev == CC
	case opAnd:
		return eval(nodes, n.a, c, sev) && eval(nodes, n.b, c, sev)
	case opOr:
		return eval(nodes, n.a, c, sev) || eval(nodes, n.b, c, sev)
	case opNot:
		return !eval(nodes, n.a, c, sev)
	}
	return false
}

// sets are a claim's attribute sets.
type sets struct {
	pdx, sdx, any bits
}

// usedAttrs collects the attributes (with their prefix) whose truth made a
// true formula true: both sides of an and, the true sides of an or; nothing
// under a not.
func usedAttrs(nodes []node, i int32, c *sets, sev Severity, out *[]node) {
	n := nodes[i]
	switch n.op {
	case opAny, opPDX, opSDX, opMCC, opCC:
		*out = append(*out, n)
	case opAnd:
		usedAttrs(nodes, n.a, c, sev, out)
		usedAttrs(nodes, n.b, c, sev, out)
	case opOr:
		if eval(nodes, n.a, c, sev) {
			usedAttrs(nodes, n.a, c, sev, out)
		}
		if eval(nodes, n.b, c, sev) {
			usedAttrs(nodes, n.b, c, sev, out)
		}
	}
}

// ReturnCode is the grouper's return code.
type ReturnCode uint8

// Return codes, named as the CMS grouper names them.
const (
	OK ReturnCode = iota
	InvalidPDX
	DxCannotBePDX
	InvalidSex
	InvalidAge
	InvalidDischargeStatus
	HACMissingOnePOA
	Ungroupable
)

var returnCodeNames = [...]string{"OK", "INVALID_PDX", "DX_CANNOT_BE_PDX", "INVALID_SEX", "INVALID_AGE", "INVALID_DISCHARGE_STATUS", "HAC_MISSING_ONE_POA", "UNGROUPABLE"}

func (r ReturnCode) String() string { return returnCodeNames[r] }

// formulaReturnCode names the return code a DRG-0 formula gives when it
// holds (OK if it gives none and is passed over).
func formulaReturnCode(text string) ReturnCode {
	switch {
	case strings.Contains(text, "INVALID_PDX"):
		return InvalidPDX
	case strings.Contains(text, "INVALID_DSTAT"):
		return InvalidDischargeStatus
	case strings.Contains(text, "INVALID_SEX"):
		return InvalidSex
	case strings.Contains(text, "INVALID_AGE"):
		return InvalidAge
	case strings.Contains(text, "PDX_ECODE"):
		return DxCannotBePDX
	}
	return OK
}
