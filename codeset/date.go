package codeset

import (
	"fmt"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
)

// Date is a date of service as the number YYYYMMDD. The zero Date means
// "the latest date the code set covers".
type Date int32

// DateOf returns the Date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date(y*10000 + int(m)*100 + d)
}

// ParseDate reads a date of service written YYYY-MM-DD (a FHIR dateTime's
// date part is taken; "" is the zero Date). It returns EINVALID otherwise.
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if len(s) > 10 && s[10] == 'T' {
		s = s[:10]
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return 0, custodian.Errorf(custodian.EINVALID, "the date %q is not a date written YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// String writes d as YYYY-MM-DD ("" for the zero Date).
func (d Date) String() string {
	if d == 0 {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d/10000, d/100%100, d%100)
}

// FiscalYear returns the US federal fiscal year d falls in (FY2025 runs
// from 2024-10-01 to 2025-09-30), the year ICD-10 editions are named for.
func (d Date) FiscalYear() int {
	y := int(d / 10000)
	if d%10000 >= 1001 {
		y++
	}
	return y
}

// parseCompact reads YYYYMMDD.
func parseCompact(s string) Date {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return Date(n)
}
