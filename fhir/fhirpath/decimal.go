package fhirpath

import (
	"fmt"
	"math/big"
	"strings"
)

// Decimal is an exact decimal number that remembers its precision (the number of digits
// after the decimal point), so that 1.50 stays 1.50. The zero value is 0.
type Decimal struct {
	r     *big.Rat // nil means zero; never mutated after construction
	scale int      // digits after the decimal point
}

// ParseDecimal parses a FHIR/FHIRPath decimal such as "1.50", "-3" or "1e3".
func ParseDecimal(s string) (Decimal, error) { return parseDecimal(s) }

func parseDecimal(s string) (Decimal, error) {
	if i := strings.IndexAny(s, "eE"); i >= 0 && len(s)-i > 4 {
		// Refuse exponents beyond 999: they would build enormous numbers.
		return Decimal{}, fmt.Errorf("decimal exponent out of range in %q", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return Decimal{}, fmt.Errorf("invalid decimal %q", s)
	}
	scale := 0
	mant := s
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		fmt.Sscan(s[i+1:], &exp)
	}
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		scale = len(mant) - i - 1
	}
	scale -= exp
	if scale < 0 {
		scale = 0
	}
	return Decimal{r: r, scale: scale}, nil
}

func decimalFromInt(v int64) Decimal { return Decimal{r: new(big.Rat).SetInt64(v)} }

func decimalFromRat(r *big.Rat, scale int) Decimal { return Decimal{r: r, scale: scale} }

func (d Decimal) rat() *big.Rat {
	if d.r == nil {
		return new(big.Rat)
	}
	return d.r
}

// Rat returns the exact value as a new big.Rat.
func (d Decimal) Rat() *big.Rat { return new(big.Rat).Set(d.rat()) }

// Scale returns the number of digits after the decimal point the value was written with.
func (d Decimal) Scale() int { return d.scale }

// Float64 returns the nearest float64.
func (d Decimal) Float64() float64 {
	f, _ := d.rat().Float64()
	return f
}

// String formats the value with its precision ("1.50"). A value that cannot be written
// exactly with its scale (e.g. 1/3) is written with up to 8 decimal places.
func (d Decimal) String() string {
	r := d.rat()
	if r.IsInt() && d.scale == 0 {
		return r.Num().String()
	}
	scale := d.scale
	if !exactAt(r, scale) {
		scale = 8
		s := r.FloatString(scale)
		s = strings.TrimRight(s, "0")
		return strings.TrimSuffix(s, ".")
	}
	return r.FloatString(scale)
}

// exactAt reports whether r*10^scale is an integer.
func exactAt(r *big.Rat, scale int) bool {
	if r.IsInt() {
		return true
	}
	m := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	return m.IsInt()
}

// Cmp compares d and e by value.
func (d Decimal) Cmp(e Decimal) int { return d.rat().Cmp(e.rat()) }

func (d Decimal) add(e Decimal) Decimal {
	return Decimal{r: new(big.Rat).Add(d.rat(), e.rat()), scale: max(d.scale, e.scale)}
}

func (d Decimal) sub(e Decimal) Decimal {
	return Decimal{r: new(big.Rat).Sub(d.rat(), e.rat()), scale: max(d.scale, e.scale)}
}

func (d Decimal) mul(e Decimal) Decimal {
	return Decimal{r: new(big.Rat).Mul(d.rat(), e.rat()), scale: d.scale + e.scale}
}

// quo divides; ok is false for division by zero.
func (d Decimal) quo(e Decimal) (Decimal, bool) {
	if e.rat().Sign() == 0 {
		return Decimal{}, false
	}
	r := new(big.Rat).Quo(d.rat(), e.rat())
	scale := 0
	for scale < 8 && !exactAt(r, scale) {
		scale++
	}
	return Decimal{r: r, scale: scale}, true
}

func (d Decimal) neg() Decimal { return Decimal{r: new(big.Rat).Neg(d.rat()), scale: d.scale} }

func (d Decimal) isInt() bool { return d.rat().IsInt() }

// round rounds half away from zero to the given number of decimal places.
func (d Decimal) round(places int) Decimal {
	r := d.rat()
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)
	m := new(big.Rat).Mul(r, new(big.Rat).SetInt(scale))
	num, den := m.Num(), m.Denom()
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	twice := new(big.Int).Mul(new(big.Int).Abs(rem), big.NewInt(2))
	if twice.Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return Decimal{r: new(big.Rat).SetFrac(q, scale), scale: places}
}

// truncInt returns the integer part (toward zero).
func (d Decimal) truncInt() *big.Int {
	r := d.rat()
	return new(big.Int).Quo(r.Num(), r.Denom())
}

// floorInt returns the largest integer not greater than d.
func (d Decimal) floorInt() *big.Int {
	r := d.rat()
	q, m := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int))
	_ = m
	return q // DivMod is Euclidean; with a positive denominator this is floor
}
