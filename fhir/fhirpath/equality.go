package fhirpath

import "strings"

// Equality and equivalence (FHIRPath § 6.1) and comparison (§ 6.2).

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
