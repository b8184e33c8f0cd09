package fhirpath

import (
	"github.com/custodian-him/custodian/fhir/ucum"
	"math/big"
)

// Quantity is a FHIRPath Quantity: a decimal value with a UCUM unit or a calendar
// duration keyword ("year", "days", ...).
type Quantity struct {
	Value Decimal
	Unit  string
}

// String formats the quantity as a FHIRPath literal would be written: 4.5 'mg', 3 days.
func (q Quantity) String() string {
	if _, ok := calendarUnits[q.Unit]; ok {
		return q.Value.String() + " " + q.Unit
	}
	return q.Value.String() + " '" + q.Unit + "'"
}

// calendarToUCUM maps calendar keywords to UCUM for comparison. Per FHIRPath § 5.6.1,
// calendar durations from weeks down are equal to their UCUM counterparts; years and
// months are not definite durations and only compare with themselves.
var calendarToUCUM = map[string]string{
	"week": "wk", "weeks": "wk", "day": "d", "days": "d", "hour": "h", "hours": "h",
	"minute": "min", "minutes": "min", "second": "s", "seconds": "s", "millisecond": "ms", "milliseconds": "ms",
	"year": "year", "years": "year", "month": "month", "months": "month",
}

// canonical converts q to a value in base units and a dimension string; ok is false if a
// unit is not understood.
func (q Quantity) canonical() (*big.Rat, string, bool) {
	unit := q.Unit
	if u, ok := calendarToUCUM[unit]; ok {
		unit = u
	}
	if unit == "year" || unit == "month" {
		return q.Value.rat(), unit, true
	}
	factor, dims, ok := ucum.Parse(unit)
	if !ok {
		return nil, "", false
	}
	return new(big.Rat).Mul(q.Value.rat(), factor), dims, true
}

// compareQuantity compares two quantities after unit conversion; ok is false if their
// units are not comparable.
func compareQuantity(a, b Quantity) (int, bool) {
	if a.Unit == b.Unit {
		return a.Value.Cmp(b.Value), true
	}
	ra, da, ok1 := a.canonical()
	rb, db, ok2 := b.canonical()
	if !ok1 || !ok2 || da != db {
		return 0, false
	}
	return ra.Cmp(rb), true
}

func newRatMul(r *big.Rat, num, den int64) *big.Rat {
	return new(big.Rat).Mul(r, big.NewRat(num, den))
}
