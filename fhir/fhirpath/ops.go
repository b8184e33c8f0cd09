package fhirpath

import (
	"math/big"
	"strings"
)

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

func boolColl(b bool) Collection { return Collection{systemItem(b)} }

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

// collEqual implements = on collections; ok is false when the result is empty.
func collEqual(l, r Collection) (bool, bool) {
	if len(l) == 0 || len(r) == 0 {
		return false, false
	}
	if len(l) != len(r) {
		return false, true
	}
	for i := range l {
		eq, ok := itemEqual(l[i], r[i])
		if !ok {
			return false, false
		}
		if !eq {
			return false, true
		}
	}
	return true, true
}

// itemEqual compares two items for equality; ok is false when the result is unknown
// (e.g. dates of different precision).
func itemEqual(a, b Item) (bool, bool) {
	av, aok := a.system()
	bv, bok := b.system()
	if !aok || !bok {
		if !aok && !bok {
			am, ok1 := a.val.(map[string]any)
			bm, ok2 := b.val.(map[string]any)
			if ok1 && ok2 {
				return jsonEqual(am, bm), true
			}
		}
		return false, true
	}
	switch x := av.(type) {
	case bool:
		y, ok := bv.(bool)
		return ok && x == y, true
	case string:
		switch y := bv.(type) {
		case string:
			return x == y, true
		case Temporal:
			if t, err := ParseTemporal(x); err == nil {
				c, ok := compareTemporal(t, y)
				return c == 0, ok
			}
		}
		return false, true
	case int64, Decimal:
		xd, _ := toDecimal(av)
		yd, ok := toDecimal(bv)
		if !ok {
			if q, isQ := bv.(Quantity); isQ && (q.Unit == "1" || q.Unit == "") {
				return xd.Cmp(q.Value) == 0, true
			}
			return false, true
		}
		return xd.Cmp(yd) == 0, true
	case Temporal:
		switch y := bv.(type) {
		case Temporal:
			if (x.Kind == KindTime) != (y.Kind == KindTime) {
				return false, true
			}
			c, ok := compareTemporal(x, y)
			return c == 0, ok
		case string:
			if t, err := ParseTemporal(y); err == nil {
				c, ok := compareTemporal(x, t)
				return c == 0, ok
			}
		}
		return false, true
	case Quantity:
		y, ok := bv.(Quantity)
		if !ok {
			return false, true
		}
		c, ok := compareQuantity(x, y)
		if !ok {
			return false, false
		}
		return c == 0, true
	}
	return false, true
}

func toDecimal(v any) (Decimal, bool) {
	switch v := v.(type) {
	case int64:
		return decimalFromInt(v), true
	case Decimal:
		return v, true
	}
	return Decimal{}, false
}

// jsonEqual compares two JSON values structurally.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// collEquivalent implements ~ (§ 6.1.3): order-independent, empty ~ empty.
func collEquivalent(l, r Collection) bool {
	if len(l) != len(r) {
		return false
	}
	used := make([]bool, len(r))
outer:
	for _, a := range l {
		for j, b := range r {
			if !used[j] && itemEquivalent(a, b) {
				used[j] = true
				continue outer
			}
		}
		return false
	}
	return true
}

func itemEquivalent(a, b Item) bool {
	av, aok := a.system()
	bv, bok := b.system()
	if !aok || !bok {
		am, ok1 := a.val.(map[string]any)
		bm, ok2 := b.val.(map[string]any)
		return ok1 && ok2 && jsonEquivalent(am, bm)
	}
	switch x := av.(type) {
	case string:
		y, ok := bv.(string)
		return ok && normalizeSpace(x) == normalizeSpace(y)
	case int64, Decimal:
		xd, _ := toDecimal(av)
		yd, ok := toDecimal(bv)
		if !ok {
			return false
		}
		p := min(xd.scale, yd.scale)
		return xd.round(p).Cmp(yd.round(p)) == 0
	case Temporal:
		y, ok := bv.(Temporal)
		if !ok {
			return false
		}
		c, ok := compareTemporal(x, y)
		return ok && c == 0
	case Quantity:
		y, ok := bv.(Quantity)
		if !ok {
			return false
		}
		ra, da, ok1 := x.canonical()
		rb, db, ok2 := y.canonical()
		if !ok1 || !ok2 || da != db {
			return false
		}
		p := min(x.Value.scale, y.Value.scale)
		return decimalFromRat(ra, 0).round(p).Cmp(decimalFromRat(rb, 0).round(p)) == 0
	}
	eq, ok := itemEqual(a, b)
	return ok && eq
}

func jsonEquivalent(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range x {
			if k == "id" || k == "extension" {
				continue
			}
			if !jsonEquivalent(v, y[k]) {
				return false
			}
		}
		for k := range y {
			if _, ok := x[k]; !ok && k != "id" && k != "extension" {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEquivalent(x[i], y[i]) {
				return false
			}
		}
		return true
	case string:
		y, ok := b.(string)
		return ok && normalizeSpace(x) == normalizeSpace(y)
	}
	return a == b
}

func normalizeSpace(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// compareOp implements <, >, <=, >= (§ 6.2).
func compareOp(op string, l, r Collection) (Collection, error) {
	if len(l) == 0 || len(r) == 0 {
		return nil, nil
	}
	if len(l) > 1 || len(r) > 1 {
		return nil, execErrorf("%s: operands must be single items", op)
	}
	c, ok, err := compareItems(l[0], r[0])
	if err != nil || !ok {
		return nil, err
	}
	var res bool
	switch op {
	case "<":
		res = c < 0
	case ">":
		res = c > 0
	case "<=":
		res = c <= 0
	default:
		res = c >= 0
	}
	return boolColl(res), nil
}

// compareItems orders two items; ok is false when the order is unknown.
func compareItems(a, b Item) (int, bool, error) {
	av, aok := a.system()
	bv, bok := b.system()
	if !aok || !bok {
		return 0, false, nil
	}
	switch x := av.(type) {
	case int64, Decimal:
		xd, _ := toDecimal(av)
		if yd, ok := toDecimal(bv); ok {
			return xd.Cmp(yd), true, nil
		}
	case string:
		switch y := bv.(type) {
		case string:
			return strings.Compare(x, y), true, nil
		case Temporal:
			if t, err := ParseTemporal(x); err == nil {
				c, ok := compareTemporal(t, y)
				return c, ok, nil
			}
		}
	case Temporal:
		switch y := bv.(type) {
		case Temporal:
			c, ok := compareTemporal(x, y)
			return c, ok, nil
		case string:
			if t, err := ParseTemporal(y); err == nil {
				c, ok := compareTemporal(x, t)
				return c, ok, nil
			}
		}
	case Quantity:
		if y, ok := bv.(Quantity); ok {
			c, ok := compareQuantity(x, y)
			if !ok {
				return 0, false, nil
			}
			return c, true, nil
		}
	}
	return 0, false, execErrorf("cannot compare %s with %s", a.Type(), b.Type())
}

// arithmetic implements + - * / div mod (§ 6.6).
func arithmetic(op string, l, r Collection) (Collection, error) {
	if len(l) == 0 || len(r) == 0 {
		return nil, nil
	}
	if len(l) > 1 || len(r) > 1 {
		return nil, execErrorf("%s: operands must be single items", op)
	}
	av, aok := l[0].system()
	bv, bok := r[0].system()
	if !aok && !l[0].isComplex() || !bok && !r[0].isComplex() {
		return nil, nil // a primitive with extensions only
	}
	switch x := av.(type) {
	case string:
		if y, ok := bv.(string); ok && op == "+" {
			return Collection{systemItem(x + y)}, nil
		}
		if q, ok := bv.(Quantity); ok && (op == "+" || op == "-") {
			// Without a model a date is read as a string.
			if t, err := ParseTemporal(x); err == nil {
				return arithmetic(op, Collection{systemItem(t)}, Collection{systemItem(q)})
			}
		}
	case int64:
		if y, ok := bv.(int64); ok && op != "/" {
			return intArith(op, x, y)
		}
		if _, ok := bv.(Decimal); ok || op == "/" {
			return decArith(op, decimalFromInt(x), bv)
		}
		if q, ok := bv.(Quantity); ok && op == "*" {
			return Collection{systemItem(Quantity{Value: decimalFromInt(x).mul(q.Value), Unit: q.Unit})}, nil
		}
	case Decimal:
		if q, ok := bv.(Quantity); ok && op == "*" {
			return Collection{systemItem(Quantity{Value: x.mul(q.Value), Unit: q.Unit})}, nil
		}
		return decArith(op, x, bv)
	case Temporal:
		if q, ok := bv.(Quantity); ok && (op == "+" || op == "-") {
			sign := 1
			if op == "-" {
				sign = -1
			}
			t, err := addQuantity(x, q, sign)
			if err != nil {
				return nil, err
			}
			return Collection{systemItem(t)}, nil
		}
	case Quantity:
		return quantityArith(op, x, bv)
	}
	return nil, execErrorf("operator %s cannot be applied to %s and %s", op, l[0].Type(), r[0].Type())
}

func intArith(op string, x, y int64) (Collection, error) {
	var v int64
	switch op {
	case "+":
		v = x + y
	case "-":
		v = x - y
	case "*":
		v = x * y
	case "div":
		if y == 0 {
			return nil, nil
		}
		v = x / y
	case "mod":
		if y == 0 {
			return nil, nil
		}
		v = x % y
	}
	return Collection{systemItem(v)}, nil
}

func decArith(op string, x Decimal, bv any) (Collection, error) {
	y, ok := toDecimal(bv)
	if !ok {
		return nil, execErrorf("operator %s needs a number", op)
	}
	var v Decimal
	switch op {
	case "+":
		v = x.add(y)
	case "-":
		v = x.sub(y)
	case "*":
		v = x.mul(y)
	case "/":
		q, ok := x.quo(y)
		if !ok {
			return nil, nil
		}
		v = q
	case "div":
		if y.rat().Sign() == 0 {
			return nil, nil
		}
		q := decimalFromRat(new(big.Rat).Quo(x.rat(), y.rat()), 0)
		return Collection{systemItem(q.truncInt().Int64())}, nil
	case "mod":
		if y.rat().Sign() == 0 {
			return nil, nil
		}
		q := decimalFromRat(new(big.Rat).Quo(x.rat(), y.rat()), 0).truncInt()
		m := new(big.Rat).Sub(x.rat(), new(big.Rat).Mul(new(big.Rat).SetInt(q), y.rat()))
		v = decimalFromRat(m, max(x.scale, y.scale))
	}
	return Collection{systemItem(v)}, nil
}

func quantityArith(op string, x Quantity, bv any) (Collection, error) {
	switch y := bv.(type) {
	case Quantity:
		switch op {
		case "+", "-":
			if x.Unit != y.Unit {
				ra, da, ok1 := x.canonical()
				rb, db, ok2 := y.canonical()
				if !ok1 || !ok2 || da != db {
					return nil, nil
				}
				_, _ = ra, rb
				// Convert y to x's unit.
				fx, _, _ := Quantity{Value: decimalFromInt(1), Unit: x.Unit}.canonical()
				y = Quantity{Value: decimalFromRat(new(big.Rat).Quo(rb, fx), y.Value.scale), Unit: x.Unit}
			}
			v := x.Value.add(y.Value)
			if op == "-" {
				v = x.Value.sub(y.Value)
			}
			return Collection{systemItem(Quantity{Value: v, Unit: x.Unit})}, nil
		case "*":
			return Collection{systemItem(Quantity{Value: x.Value.mul(y.Value), Unit: x.Unit + "." + y.Unit})}, nil
		case "/":
			q, ok := x.Value.quo(y.Value)
			if !ok {
				return nil, nil
			}
			unit := x.Unit + "/" + y.Unit
			if x.Unit == y.Unit {
				unit = "1"
			}
			return Collection{systemItem(Quantity{Value: q, Unit: unit})}, nil
		}
	case int64, Decimal:
		d, _ := toDecimal(bv)
		switch op {
		case "*":
			return Collection{systemItem(Quantity{Value: x.Value.mul(d), Unit: x.Unit})}, nil
		case "/":
			q, ok := x.Value.quo(d)
			if !ok {
				return nil, nil
			}
			return Collection{systemItem(Quantity{Value: q, Unit: x.Unit})}, nil
		}
	}
	return nil, execErrorf("operator %s cannot be applied to a Quantity and this operand", op)
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
	return ec.asType(l, n.typ)
}
