package fhirpath

import "math/big"

// Math operators (FHIRPath § 6.6), including date/time arithmetic with quantities.

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
