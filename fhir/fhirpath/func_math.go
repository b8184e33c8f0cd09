package fhirpath

import (
	"math"
	"math/big"
	"strconv"
)

// Math functions (FHIRPath § 5.7). Transcendental functions go through float64; the
// result keeps at most 8 decimal places, as the test suite expects.

// numberInput returns the single numeric input (int64 or Decimal, or Quantity if allowed).
func numberInput(focus Collection, fn string, quantity bool) (any, bool, error) {
	it, ok, err := singleInput(focus, fn)
	if err != nil || !ok {
		return nil, false, err
	}
	v, _ := it.system()
	switch v.(type) {
	case int64, Decimal:
		return v, true, nil
	case Quantity:
		if quantity {
			return v, true, nil
		}
	}
	return nil, false, execErrorf("%s() requires a number, got %s", fn, it.Type())
}

func fnAbs(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
	v, ok, err := numberInput(focus, "abs", true)
	if err != nil || !ok {
		return nil, err
	}
	switch v := v.(type) {
	case int64:
		if v < 0 {
			v = -v
		}
		return Collection{systemItem(v)}, nil
	case Decimal:
		if v.rat().Sign() < 0 {
			v = v.neg()
		}
		return Collection{systemItem(v)}, nil
	case Quantity:
		if v.Value.rat().Sign() < 0 {
			v.Value = v.Value.neg()
		}
		return Collection{systemItem(v)}, nil
	}
	return nil, nil
}

// maxDecimalPlaces bounds precisions given to round(), so that an expression cannot ask
// for astronomically large intermediate numbers.
const maxDecimalPlaces = 100

func floatDecimal(f float64) (Collection, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, nil
	}
	d, err := parseDecimal(strconv.FormatFloat(f, 'f', -1, 64))
	if err != nil {
		return nil, nil
	}
	if d.scale > 8 {
		d = d.round(8)
	}
	return Collection{systemItem(d)}, nil
}

func mathFn(kind string) funcImpl {
	return func(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
		v, ok, err := numberInput(focus, kind, false)
		if err != nil || !ok {
			return nil, err
		}
		d, _ := toDecimal(v)
		switch kind {
		case "ceiling":
			f := d.floorInt()
			if !d.isInt() {
				f.Add(f, big.NewInt(1))
			}
			return Collection{systemItem(f.Int64())}, nil
		case "floor":
			return Collection{systemItem(d.floorInt().Int64())}, nil
		case "truncate":
			return Collection{systemItem(d.truncInt().Int64())}, nil
		case "exp":
			return floatDecimal(math.Exp(d.Float64()))
		case "ln":
			return floatDecimal(math.Log(d.Float64()))
		case "sqrt":
			if d.rat().Sign() < 0 {
				return nil, nil
			}
			return floatDecimal(math.Sqrt(d.Float64()))
		}
		return nil, nil
	}
}

func (ec *evalCtx) numberArg(n node) (Decimal, any, bool, error) {
	c, err := ec.arg(n)
	if err != nil || len(c) == 0 {
		return Decimal{}, nil, false, err
	}
	v, _ := c[0].system()
	d, ok := toDecimal(v)
	if !ok {
		return Decimal{}, nil, false, execErrorf("expected a numeric argument")
	}
	return d, v, true, nil
}

func fnLog(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	v, ok, err := numberInput(focus, "log", false)
	if err != nil || !ok {
		return nil, err
	}
	base, _, ok, err := ec.numberArg(args[0])
	if err != nil || !ok {
		return nil, err
	}
	d, _ := toDecimal(v)
	return floatDecimal(math.Log(d.Float64()) / math.Log(base.Float64()))
}

func fnPower(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	v, ok, err := numberInput(focus, "power", false)
	if err != nil || !ok {
		return nil, err
	}
	exp, ev, ok, err := ec.numberArg(args[0])
	if err != nil || !ok {
		return nil, err
	}
	bi, bInt := v.(int64)
	ei, eInt := ev.(int64)
	if bInt && eInt && ei >= 0 && ei <= 64 {
		r := new(big.Int).Exp(big.NewInt(bi), big.NewInt(ei), nil)
		if r.IsInt64() {
			return Collection{systemItem(r.Int64())}, nil
		}
	}
	d, _ := toDecimal(v)
	return floatDecimal(math.Pow(d.Float64(), exp.Float64()))
}

func fnRound(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	v, ok, err := numberInput(focus, "round", false)
	if err != nil || !ok {
		return nil, err
	}
	places := int64(0)
	if len(args) == 1 {
		p, ok, err := ec.intArg(args[0])
		if err != nil {
			return nil, err
		}
		if ok {
			if p < 0 || p > maxDecimalPlaces {
				return nil, execErrorf("round() precision must be between 0 and %d", maxDecimalPlaces)
			}
			places = p
		}
	}
	d, _ := toDecimal(v)
	return Collection{systemItem(d.round(int(places)))}, nil
}
