package fhirpath

// binaryNode is an operator expression.
type binaryNode struct {
	op          string
	left, right node
	at          int
}

func newBinary(op string, l, r node, pos int) node {
	return &binaryNode{op: op, left: l, right: r, at: pos}
}

func (n *binaryNode) eval(ec *evalCtx, focus Collection) (Collection, error) {
	l, err := n.left.eval(ec, focus)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "and", "or", "implies":
		// Short-circuit where the result is already known.
		lb, err := toBool3(l, n.op)
		if err != nil {
			return nil, err
		}
		if n.op == "and" && lb == bFalse {
			return boolColl(false), nil
		}
		if n.op == "or" && lb == bTrue {
			return boolColl(true), nil
		}
		if n.op == "implies" && lb == bFalse {
			return boolColl(true), nil
		}
		r, err := n.right.eval(ec, focus)
		if err != nil {
			return nil, err
		}
		rb, err := toBool3(r, n.op)
		if err != nil {
			return nil, err
		}
		return logic(n.op, lb, rb), nil
	}
	r, err := n.right.eval(ec, focus)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "xor":
		lb, err := toBool3(l, n.op)
		if err != nil {
			return nil, err
		}
		rb, err := toBool3(r, n.op)
		if err != nil {
			return nil, err
		}
		return logic(n.op, lb, rb), nil
	case "|":
		return union(l, r), nil
	case "=", "!=":
		res, ok := collEqual(l, r)
		if !ok {
			return nil, nil
		}
		return boolColl(res == (n.op == "=")), nil
	case "~", "!~":
		return boolColl(collEquivalent(l, r) == (n.op == "~")), nil
	case "<", ">", "<=", ">=":
		return compareOp(n.op, l, r)
	case "in", "contains":
		if n.op == "contains" {
			l, r = r, l
		}
		if len(l) == 0 {
			return nil, nil
		}
		if len(l) > 1 {
			return nil, execErrorf("%s: left operand has %d items", n.op, len(l))
		}
		for _, it := range r {
			if eq, ok := itemEqual(l[0], it); ok && eq {
				return boolColl(true), nil
			}
		}
		return boolColl(false), nil
	case "&":
		ls, err := concatOperand(l)
		if err != nil {
			return nil, err
		}
		rs, err := concatOperand(r)
		if err != nil {
			return nil, err
		}
		return Collection{systemItem(ls + rs)}, nil
	}
	return arithmetic(n.op, l, r)
}

// trueColl and falseColl are shared, never-modified results; their capacity is 1, so an
// append by a caller copies rather than writes into them.
var (
	trueColl  = Collection{systemItem(true)}[:1:1]
	falseColl = Collection{systemItem(false)}[:1:1]
)

func boolColl(b bool) Collection {
	if b {
		return trueColl
	}
	return falseColl
}

// bool3 is a three-valued boolean (FHIRPath § 6.5).
type bool3 uint8

const (
	bEmpty bool3 = iota
	bFalse
	bTrue
)

// toBool3 applies singleton evaluation (§ 4.5) to a boolean operand.
func toBool3(c Collection, op string) (bool3, error) {
	if len(c) == 0 {
		return bEmpty, nil
	}
	if len(c) > 1 {
		return bEmpty, execErrorf("%s: operand is a collection of %d items", op, len(c))
	}
	v, ok := c[0].system()
	if !ok {
		return bTrue, nil
	}
	if b, ok := v.(bool); ok {
		if b {
			return bTrue, nil
		}
		return bFalse, nil
	}
	return bTrue, nil
}

func logic(op string, a, b bool3) Collection {
	var r bool3
	switch op {
	case "and":
		switch {
		case a == bFalse || b == bFalse:
			r = bFalse
		case a == bTrue && b == bTrue:
			r = bTrue
		}
	case "or":
		switch {
		case a == bTrue || b == bTrue:
			r = bTrue
		case a == bFalse && b == bFalse:
			r = bFalse
		}
	case "xor":
		if a != bEmpty && b != bEmpty {
			r = bFalse
			if a != b {
				r = bTrue
			}
		}
	case "implies":
		switch {
		case a == bFalse || b == bTrue:
			r = bTrue
		case a == bTrue && b == bFalse:
			r = bFalse
		}
	}
	switch r {
	case bTrue:
		return boolColl(true)
	case bFalse:
		return boolColl(false)
	}
	return nil
}

// union merges two collections removing duplicates (§ 6.5 |).
func union(l, r Collection) Collection {
	out := make(Collection, 0, len(l)+len(r))
	for _, c := range [2]Collection{l, r} {
		for _, it := range c {
			if !containsItem(out, it) {
				out = append(out, it)
			}
		}
	}
	return out
}

func containsItem(c Collection, it Item) bool {
	for _, o := range c {
		if eq, ok := itemEqual(o, it); ok && eq {
			return true
		}
	}
	return false
}

func concatOperand(c Collection) (string, error) {
	if len(c) == 0 {
		return "", nil
	}
	if len(c) > 1 {
		return "", execErrorf("&: operand is a collection of %d items", len(c))
	}
	v, ok := c[0].system()
	if !ok && !c[0].isComplex() {
		return "", nil // a primitive with extensions only
	}
	s, ok := v.(string)
	if !ok {
		return "", execErrorf("&: operand is not a string")
	}
	return s, nil
}

// singletonInt evaluates c as a single Integer; ok is false for empty.
func singletonInt(c Collection) (int64, bool, error) {
	if len(c) == 0 {
		return 0, false, nil
	}
	if len(c) > 1 {
		return 0, false, execErrorf("expected a single integer, got %d items", len(c))
	}
	v, _ := c[0].system()
	switch v := v.(type) {
	case int64:
		return v, true, nil
	case Decimal:
		if v.isInt() {
			return v.truncInt().Int64(), true, nil
		}
	}
	return 0, false, execErrorf("expected an integer, got %s", c[0].Type())
}

// typeOpNode is `expr is Type` or `expr as Type`.
type typeOpNode struct {
	op   string
	left node
	typ  string
	at   int
}

func (n *typeOpNode) eval(ec *evalCtx, focus Collection) (Collection, error) {
	l, err := n.left.eval(ec, focus)
	if err != nil {
		return nil, err
	}
	if n.op == "is" {
		return ec.isType(l, n.typ)
	}
	// The `as` operator filters a collection of several items like ofType() instead of
	// failing: 135 R4 SearchParameter expressions apply it to repeating elements, e.g.
	// (ActivityDefinition.useContext.value as CodeableConcept). The as() function keeps
	// the singleton rule, as the official tests require.
	out := l[:0:0] // allocate only if some items are dropped
	all := true
	for i, it := range l {
		ok, err := ec.castMatches(it, n.typ)
		if err != nil {
			return nil, err
		}
		switch {
		case ok && !all:
			out = append(out, it)
		case !ok && all:
			all = false
			out = append(out, l[:i]...)
		}
	}
	if all {
		return l, nil
	}
	return out, nil
}
