package fhirpath

import (
	"math/big"
	"sort"
)

// Functions from FHIRPath 2.0 / 3.0 drafts that the R4 test suite exercises: sort(),
// lowBoundary(), highBoundary(), precision(), comparable().

// fnSort sorts by the item values or by key expressions; a key prefixed with unary minus
// sorts descending.
func fnSort(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	type keyed struct {
		it   Item
		keys []Collection
	}
	items := make([]keyed, len(focus))
	for i, it := range focus {
		items[i].it = it
		for _, a := range args {
			if u, ok := a.(*unaryNode); ok && u.op == '-' {
				a = u.operand
			}
			one := Collection{it}
			k, err := a.eval(ec.scoped(one, i), one)
			if err != nil {
				return nil, err
			}
			items[i].keys = append(items[i].keys, k)
		}
	}
	desc := make([]bool, len(args))
	for i, a := range args {
		if u, ok := a.(*unaryNode); ok && u.op == '-' {
			desc[i] = true
		}
	}
	var sortErr error
	cmp := func(a, b Collection) int {
		if len(a) == 0 || len(b) == 0 {
			return len(a) - len(b)
		}
		c, _, err := compareItems(a[0], b[0])
		if err != nil {
			sortErr = err
		}
		return c
	}
	sort.SliceStable(items, func(i, j int) bool {
		if len(args) == 0 {
			return cmp(Collection{items[i].it}, Collection{items[j].it}) < 0
		}
		for k := range args {
			a, b := items[i].keys[k], items[j].keys[k]
			c := cmp(a, b)
			if desc[k] && len(a) > 0 && len(b) > 0 {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	if sortErr != nil {
		return nil, sortErr
	}
	out := make(Collection, len(items))
	for i := range items {
		out[i] = items[i].it
	}
	return out, nil
}

// boundaryFn implements lowBoundary()/highBoundary() for decimals, dates and times.
func boundaryFn(high bool) funcImpl {
	return func(ec *evalCtx, focus Collection, args []node) (Collection, error) {
		it, ok, err := singleInput(focus, "boundary")
		if err != nil || !ok {
			return nil, err
		}
		prec := int64(-1) // default
		if len(args) == 1 {
			p, ok, err := ec.intArg(args[0])
			if err != nil {
				return nil, err
			}
			if ok {
				prec = p
				if p < 0 {
					return nil, nil
				}
			}
		}
		v, _ := it.system()
		switch v := v.(type) {
		case int64:
			return decimalBoundary(decimalFromInt(v), prec, high)
		case Decimal:
			return decimalBoundary(v, prec, high)
		case Quantity:
			c, err := decimalBoundary(v.Value, prec, high)
			if len(c) == 1 {
				c[0] = systemItem(Quantity{Value: c[0].val.(Decimal), Unit: v.Unit})
			}
			return c, err
		case Temporal:
			return temporalBoundary(v, prec, high)
		}
		return nil, nil
	}
}

func decimalBoundary(d Decimal, prec int64, high bool) (Collection, error) {
	if prec == -1 {
		prec = 8
	}
	if prec < 0 || prec > 28 {
		return nil, nil
	}
	// Half a unit in the last place of the input's precision.
	half := new(big.Rat).SetFrac(big.NewInt(5), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.scale)+1), nil))
	r := new(big.Rat)
	if high {
		r.Add(d.rat(), half)
	} else {
		r.Sub(d.rat(), half)
	}
	// Round outward at the requested precision: down for the low, up for the high boundary.
	// A value whose first significant digit lies beyond the precision gives 0, as the
	// test suite expects (0.0034.highBoundary(1) = 0.0).
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(prec), nil)
	if new(big.Rat).Abs(d.rat()).Cmp(new(big.Rat).SetFrac(big.NewInt(1), scale)) < 0 {
		return Collection{systemItem(decimalFromRat(new(big.Rat), int(prec)))}, nil
	}
	m := new(big.Rat).Mul(r, new(big.Rat).SetInt(scale))
	q, rem := new(big.Int).DivMod(m.Num(), m.Denom(), new(big.Int))
	if high && rem.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	out := decimalFromRat(new(big.Rat).SetFrac(q, scale), int(prec))
	return Collection{systemItem(out)}, nil
}

func temporalBoundary(t Temporal, prec int64, high bool) (Collection, error) {
	target := PrecisionMillisecond
	if t.Kind == KindDate {
		target = PrecisionDay
	}
	if prec >= 0 {
		switch {
		case t.Kind == KindDate && prec <= 8, t.Kind == KindDateTime && prec <= 17, t.Kind == KindTime && prec <= 9:
			m := map[int64]Precision{4: PrecisionYear, 6: PrecisionMonth, 8: PrecisionDay, 10: PrecisionHour, 12: PrecisionMinute, 14: PrecisionSecond, 17: PrecisionMillisecond}
			if t.Kind == KindTime {
				m = map[int64]Precision{2: PrecisionHour, 4: PrecisionMinute, 6: PrecisionSecond, 9: PrecisionMillisecond}
			}
			p, ok := m[prec]
			if !ok {
				return nil, nil
			}
			target = p
		default:
			return nil, nil
		}
	}
	out := t
	if t.Kind == KindDateTime && t.Precision == PrecisionHour {
		// An hour alone is not a valid FHIR time; read T08 as T08:00.
		out.Precision = PrecisionMinute
	}
	for p := out.Precision + 1; p <= target; p++ {
		switch p {
		case PrecisionMonth:
			out.Month = map[bool]int{true: 12, false: 1}[high]
		case PrecisionDay:
			out.Day = 1
			if high {
				out.Day = daysIn(out.Year, out.Month)
			}
		case PrecisionHour:
			out.Hour = map[bool]int{true: 23, false: 0}[high]
		case PrecisionMinute:
			out.Minute = map[bool]int{true: 59, false: 0}[high]
		case PrecisionSecond:
			out.Second = map[bool]int{true: 59, false: 0}[high]
		case PrecisionMillisecond:
			out.Nano = map[bool]int{true: 999000000, false: 0}[high]
		}
	}
	if t.Kind == KindDateTime && !t.HasZone && target >= PrecisionHour {
		out.HasZone = true
		out.Zone = map[bool]int{true: -12 * 3600, false: 14 * 3600}[high]
	}
	out.Precision = target
	return Collection{systemItem(out)}, nil
}

func fnPrecision(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
	it, ok, err := singleInput(focus, "precision")
	if err != nil || !ok {
		return nil, err
	}
	v, _ := it.system()
	switch v := v.(type) {
	case Decimal:
		return Collection{systemItem(int64(v.scale))}, nil
	case int64:
		return Collection{systemItem(int64(0))}, nil
	case Temporal:
		digits := map[Precision]int64{PrecisionYear: 4, PrecisionMonth: 6, PrecisionDay: 8, PrecisionHour: 10,
			PrecisionMinute: 12, PrecisionSecond: 14, PrecisionMillisecond: 17}[v.Precision]
		if v.Kind == KindTime {
			digits = map[Precision]int64{PrecisionHour: 2, PrecisionMinute: 4, PrecisionSecond: 6, PrecisionMillisecond: 9}[v.Precision]
		}
		return Collection{systemItem(digits)}, nil
	}
	return nil, nil
}

func fnComparable(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	it, ok, err := singleInput(focus, "comparable")
	if err != nil || !ok {
		return nil, err
	}
	other, err := ec.arg(args[0])
	if err != nil || len(other) != 1 {
		return nil, err
	}
	a, _ := it.system()
	b, _ := other[0].system()
	qa, ok1 := a.(Quantity)
	qb, ok2 := b.(Quantity)
	if !ok1 || !ok2 {
		return boolColl(false), nil
	}
	_, ok = compareQuantity(qa, qb)
	return boolColl(ok), nil
}
