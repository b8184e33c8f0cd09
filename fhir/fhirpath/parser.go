package fhirpath

import (
	"strconv"
	"strings"
)

// Operator precedence, lowest first, as in the FHIRPath grammar (§ 6 and Appendix A).
const (
	precImplies = iota + 1
	precOr
	precAnd
	precMembership
	precEquality
	precInequality
	precUnion
	precType
	precAdditive
	precMultiplicative
)

var binaryPrec = map[string]int{
	"implies": precImplies,
	"or":      precOr, "xor": precOr,
	"and": precAnd,
	"in":  precMembership, "contains": precMembership,
	"=": precEquality, "~": precEquality, "!=": precEquality, "!~": precEquality,
	"<=": precInequality, "<": precInequality, ">": precInequality, ">=": precInequality,
	"|":  precUnion,
	"is": precType, "as": precType,
	"+": precAdditive, "-": precAdditive, "&": precAdditive,
	"*": precMultiplicative, "/": precMultiplicative, "div": precMultiplicative, "mod": precMultiplicative,
}

// parser is a precedence-climbing parser over the token slice.
type parser struct {
	toks      []token
	i         int
	usesClock bool // the expression calls now(), today() or timeOfDay()
}

func parse(src string) (*parser, node, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, nil, err
	}
	p := &parser{toks: toks}
	n, err := p.expr(precImplies)
	if err != nil {
		return nil, nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, nil, syntaxErrorf(t.pos, "unexpected %q", t.text)
	}
	return p, n, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) isOp(s string) bool {
	t := p.peek()
	return t.kind == tokOp && t.text == s
}

func (p *parser) expect(s string) error {
	t := p.next()
	if t.kind != tokOp || t.text != s {
		if t.kind == tokEOF {
			return syntaxErrorf(t.pos, "expected %q, found end of expression", s)
		}
		return syntaxErrorf(t.pos, "expected %q, found %q", s, t.text)
	}
	return nil
}

// binaryOp returns the binary operator at the current token, if any.
func (p *parser) binaryOp() (string, int) {
	t := p.peek()
	if t.kind != tokOp && t.kind != tokIdent {
		return "", 0
	}
	prec, ok := binaryPrec[t.text]
	if !ok {
		return "", 0
	}
	return t.text, prec
}

func (p *parser) expr(minPrec int) (node, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		op, prec := p.binaryOp()
		if op == "" || prec < minPrec {
			return left, nil
		}
		t := p.next()
		if op == "is" || op == "as" {
			ts, err := p.typeSpecifier()
			if err != nil {
				return nil, err
			}
			left = &typeOpNode{op: op, left: left, typ: ts, at: t.pos}
			continue
		}
		next := prec + 1
		if op == "implies" {
			next = prec // right associative
		}
		right, err := p.expr(next)
		if err != nil {
			return nil, err
		}
		left = newBinary(op, left, right, t.pos)
	}
}

func (p *parser) typeSpecifier() (string, error) {
	t := p.next()
	if t.kind != tokIdent && t.kind != tokDelimIdent {
		return "", syntaxErrorf(t.pos, "expected a type name")
	}
	name := t.text
	for p.isOp(".") && (p.toks[p.i+1].kind == tokIdent || p.toks[p.i+1].kind == tokDelimIdent) {
		p.next()
		name += "." + p.next().text
	}
	return name, nil
}

func (p *parser) unary() (node, error) {
	if p.isOp("+") || p.isOp("-") {
		t := p.next()
		operand, err := p.unary()
		if err != nil {
			return nil, err
		}
		if t.text == "+" {
			return &unaryNode{op: '+', operand: operand, at: t.pos}, nil
		}
		// Fold negative numeric literals so that -1 is an Integer literal.
		if lit, ok := operand.(*literalNode); ok && len(lit.val) == 1 {
			if v, ok := negateLiteral(lit.val[0]); ok {
				return &literalNode{val: Collection{v}}, nil
			}
		}
		return &unaryNode{op: '-', operand: operand, at: t.pos}, nil
	}
	return p.postfix()
}

func (p *parser) postfix() (node, error) {
	n, err := p.term()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.isOp("."):
			p.next()
			inv, err := p.invocation()
			if err != nil {
				return nil, err
			}
			n = &invokeNode{left: n, right: inv}
		case p.isOp("["):
			t := p.next()
			idx, err := p.expr(precImplies)
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			n = &indexerNode{left: n, index: idx, at: t.pos}
		default:
			return n, nil
		}
	}
}

func (p *parser) term() (node, error) {
	t := p.peek()
	switch t.kind {
	case tokEOF:
		return nil, syntaxErrorf(t.pos, "unexpected end of expression")
	case tokString:
		p.next()
		return &literalNode{val: Collection{systemItem(t.text)}}, nil
	case tokNumber:
		p.next()
		return p.numberOrQuantity(t)
	case tokLong:
		p.next()
		v, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, syntaxErrorf(t.pos, "invalid long %q", t.text)
		}
		return &literalNode{val: Collection{systemItem(v)}}, nil
	case tokDate, tokDateTime, tokTime:
		p.next()
		v, err := parseTemporalLiteral(t.kind, t.text)
		if err != nil {
			return nil, syntaxErrorf(t.pos, "%v", err)
		}
		return &literalNode{val: Collection{systemItem(v)}}, nil
	case tokVar:
		p.next()
		return &varNode{name: t.text, at: t.pos}, nil
	case tokOp:
		switch t.text {
		case "(":
			p.next()
			n, err := p.expr(precImplies)
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return n, nil
		case "{":
			p.next()
			if err := p.expect("}"); err != nil {
				return nil, err
			}
			return &literalNode{}, nil
		}
		return nil, syntaxErrorf(t.pos, "unexpected %q", t.text)
	case tokIdent:
		switch t.text {
		case "true", "false":
			p.next()
			return &literalNode{val: Collection{systemItem(t.text == "true")}}, nil
		}
	}
	n, err := p.invocation()
	if m, ok := n.(*memberNode); ok {
		m.term = true
	}
	return n, err
}

func newMember(name string, pos int) *memberNode {
	return &memberNode{name: name, ext: "_" + name, at: pos}
}

func (p *parser) numberOrQuantity(t token) (node, error) {
	var num any
	if strings.Contains(t.text, ".") {
		d, err := parseDecimal(t.text)
		if err != nil {
			return nil, syntaxErrorf(t.pos, "invalid number %q", t.text)
		}
		num = d
	} else {
		v, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			d, err2 := parseDecimal(t.text)
			if err2 != nil {
				return nil, syntaxErrorf(t.pos, "invalid number %q", t.text)
			}
			num = d
		} else {
			num = v
		}
	}
	u := p.peek()
	unit := ""
	switch {
	case u.kind == tokString:
		unit = u.text
	case u.kind == tokIdent && calendarUnits[u.text] != "":
		unit = u.text
	default:
		return &literalNode{val: Collection{systemItem(num)}}, nil
	}
	p.next()
	var d Decimal
	switch v := num.(type) {
	case int64:
		d = decimalFromInt(v)
	case Decimal:
		d = v
	}
	return &literalNode{val: Collection{systemItem(Quantity{Value: d, Unit: unit})}}, nil
}

// invocation parses an identifier, function call, or $this/$index/$total.
func (p *parser) invocation() (node, error) {
	t := p.next()
	switch t.kind {
	case tokSpecial:
		return &specialNode{name: t.text}, nil
	case tokDelimIdent:
		return newMember(t.text, t.pos), nil
	case tokIdent:
		if !p.isOp("(") {
			return newMember(t.text, t.pos), nil
		}
		p.next()
		var args []node
		if !p.isOp(")") {
			for {
				a, err := p.expr(precImplies)
				if err != nil {
					return nil, err
				}
				args = append(args, a)
				if !p.isOp(",") {
					break
				}
				p.next()
			}
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		switch t.text {
		case "now", "today", "timeOfDay":
			p.usesClock = true
		}
		return newFunc(t.text, args, t.pos)
	case tokEOF:
		return nil, syntaxErrorf(t.pos, "unexpected end of expression")
	}
	return nil, syntaxErrorf(t.pos, "unexpected %q", t.text)
}

// typeNameOf turns a function argument such as `Quantity` or `FHIR.Patient` into a type name.
func typeNameOf(n node) (string, bool) {
	switch v := n.(type) {
	case *memberNode:
		return v.name, true
	case *invokeNode:
		l, ok := typeNameOf(v.left)
		r, ok2 := v.right.(*memberNode)
		if ok && ok2 {
			return l + "." + r.name, true
		}
	}
	return "", false
}
