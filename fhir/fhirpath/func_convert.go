package fhirpath

import (
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// Conversion functions (FHIRPath § 5.5).

// convertFn builds toX (test false) or convertsToX (test true) from a converter.
func convertFn(conv func(Item) (Item, bool), test bool) funcImpl {
	return func(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
		it, ok, err := singleInput(focus, "conversion")
		if err != nil || !ok {
			return nil, err
		}
		r, ok := conv(it)
		if test {
			return boolColl(ok), nil
		}
		if !ok {
			return nil, nil
		}
		return Collection{r}, nil
	}
}

func toBooleanValue(it Item) (Item, bool) {
	v, _ := it.system()
	switch v := v.(type) {
	case bool:
		return systemItem(v), true
	case int64:
		if v == 0 || v == 1 {
			return systemItem(v == 1), true
		}
	case Decimal:
		if v.Cmp(decimalFromInt(0)) == 0 || v.Cmp(decimalFromInt(1)) == 0 {
			return systemItem(v.Cmp(decimalFromInt(1)) == 0), true
		}
	case string:
		switch strings.ToLower(v) {
		case "true", "t", "yes", "y", "1", "1.0":
			return systemItem(true), true
		case "false", "f", "no", "n", "0", "0.0":
			return systemItem(false), true
		}
	}
	return Item{}, false
}

var (
	intPattern     = regexp.MustCompile(`^[+-]?[0-9]+$`)
	decimalPattern = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`)
	quantityString = regexp.MustCompile(`^([+-]?[0-9]+(?:\.[0-9]+)?)\s*(?:'([^']+)'|([a-zA-Z]+))?$`)
)

func toIntegerValue(it Item) (Item, bool) {
	v, _ := it.system()
	switch v := v.(type) {
	case int64:
		return systemItem(v), true
	case bool:
		if v {
			return systemItem(int64(1)), true
		}
		return systemItem(int64(0)), true
	case string:
		if intPattern.MatchString(v) {
			n, err := strconv.ParseInt(v, 10, 64)
			return systemItem(n), err == nil
		}
	}
	return Item{}, false
}

func toDecimalValue(it Item) (Item, bool) {
	v, _ := it.system()
	switch v := v.(type) {
	case int64:
		return systemItem(decimalFromInt(v)), true
	case Decimal:
		return systemItem(v), true
	case bool:
		if v {
			return systemItem(Decimal{r: big.NewRat(1, 1), scale: 1}), true
		}
		return systemItem(Decimal{r: new(big.Rat), scale: 1}), true
	case string:
		if decimalPattern.MatchString(v) {
			d, err := parseDecimal(v)
			return systemItem(d), err == nil
		}
	}
	return Item{}, false
}

func toStringItem(it Item) (Item, bool) {
	s, ok := toStringValue(it)
	return systemItem(s), ok
}

// toStringValue renders a primitive or System value as a string (§ 5.5.8).
func toStringValue(it Item) (string, bool) {
	v, ok := it.system()
	if !ok {
		return "", false
	}
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case Decimal:
		return v.String(), true
	case Temporal:
		if it.typ != "" {
			if s, ok := it.val.(string); ok {
				return s, true
			}
		}
		return v.String(), true
	case Quantity:
		return v.String(), true
	}
	return "", false
}

func toDateValue(it Item) (Item, bool) {
	v, _ := it.system()
	switch v := v.(type) {
	case Temporal:
		if v.Kind == KindTime {
			return Item{}, false
		}
		d := Temporal{Kind: KindDate, Year: v.Year, Month: v.Month, Day: v.Day, Precision: min(v.Precision, PrecisionDay)}
		return systemItem(d), true
	case string:
		t, err := parseDateTime(v)
		if err != nil {
			return Item{}, false
		}
		return toDateValue(systemItem(t))
	}
	return Item{}, false
}

func toDateTimeValue(it Item) (Item, bool) {
	v, _ := it.system()
	switch v := v.(type) {
	case Temporal:
		if v.Kind == KindTime {
			return Item{}, false
		}
		v.Kind = KindDateTime
		return systemItem(v), true
	case string:
		t, err := parseDateTime(v)
		if err != nil {
			return Item{}, false
		}
		t.Kind = KindDateTime
		return systemItem(t), true
	}
	return Item{}, false
}

func toTimeValue(it Item) (Item, bool) {
	v, _ := it.system()
	switch v := v.(type) {
	case Temporal:
		if v.Kind == KindTime {
			return systemItem(v), true
		}
	case string:
		t, err := parseTime(v)
		if err != nil {
			return Item{}, false
		}
		return systemItem(t), true
	}
	return Item{}, false
}

func toQuantityValue(it Item) (Quantity, bool) {
	v, _ := it.system()
	switch v := v.(type) {
	case int64:
		return Quantity{Value: decimalFromInt(v), Unit: "1"}, true
	case Decimal:
		return Quantity{Value: v, Unit: "1"}, true
	case bool:
		d := decimalFromInt(0)
		if v {
			d = decimalFromInt(1)
		}
		d.scale = 1
		return Quantity{Value: d, Unit: "1"}, true
	case Quantity:
		return v, true
	case string:
		m := quantityString.FindStringSubmatch(strings.TrimSpace(v))
		if m == nil {
			return Quantity{}, false
		}
		d, err := parseDecimal(m[1])
		if err != nil {
			return Quantity{}, false
		}
		unit := m[2]
		if m[3] != "" {
			if _, ok := calendarUnits[m[3]]; !ok {
				return Quantity{}, false
			}
			unit = m[3]
		}
		if unit == "" {
			unit = "1"
		}
		return Quantity{Value: d, Unit: unit}, true
	}
	return Quantity{}, false
}

func fnToQuantity(test bool) funcImpl {
	return func(ec *evalCtx, focus Collection, args []node) (Collection, error) {
		it, ok, err := singleInput(focus, "toQuantity")
		if err != nil || !ok {
			return nil, err
		}
		q, ok := toQuantityValue(it)
		if ok && len(args) == 1 {
			uc, err := ec.arg(args[0])
			if err != nil {
				return nil, err
			}
			if len(uc) == 1 {
				q, ok = convertUnit(q, uc[0].String())
			}
		}
		if test {
			return boolColl(ok), nil
		}
		if !ok {
			return nil, nil
		}
		return Collection{systemItem(q)}, nil
	}
}

// convertUnit converts q to unit when both are understood and commensurable.
func convertUnit(q Quantity, unit string) (Quantity, bool) {
	if q.Unit == unit {
		return q, true
	}
	r, dim, ok := q.canonical()
	f, dim2, ok2 := Quantity{Value: decimalFromInt(1), Unit: unit}.canonical()
	if !ok || !ok2 || dim != dim2 {
		return Quantity{}, false
	}
	d, _ := decimalFromRat(new(big.Rat).Quo(r, f), 0).quo(decimalFromInt(1))
	return Quantity{Value: d, Unit: unit}, true
}
