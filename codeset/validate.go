package codeset

import "fmt"

// Status is what a code is on a date of service.
type Status int

// The statuses, from best to worst.
const (
	Billable  Status = iota // a complete code, reportable on the date
	Header                  // a category or subcategory with codes below it: not reportable
	NotOnDate               // a code of the system, but not in the edition of the date
	Unknown                 // not a code of the system
	Malformed               // cannot be a code of the system
)

var statusNames = [...]string{"billable", "header", "not-on-date", "unknown", "malformed"}

// String names the status ("billable").
func (s Status) String() string { return statusNames[s] }

// Validation is the answer to "may this code be reported on this date?".
type Validation struct {
	Input   string
	Code    string   // the normalised code ("" if malformed)
	Concept *Concept // nil if unknown or malformed
	Date    Date     // the date checked (the last covered one if none was given)
	Status  Status
	Message string // why, for people
}

// Valid reports whether the code is reportable on the date.
func (v Validation) Valid() bool { return v.Status == Billable }

// Validate checks input (normalised as by Lookup) for the date of service
// on (the zero Date: the latest covered). It never fails: a bad code or a
// date outside the coverage comes back as a Validation that says so.
func (cs *CodeSystem) Validate(input string, on Date) Validation {
	v := Validation{Input: input, Date: cs.date(on)}
	if err := cs.checkDate(on); err != nil {
		v.Status, v.Message = Unknown, errMessage(err)
		return v
	}
	c, err := cs.Lookup(input)
	if err != nil {
		v.Status, v.Message = Malformed, errMessage(err)
		if code, nerr := cs.Normalize(input); nerr == nil {
			v.Code, v.Status = code, Unknown
		}
		return v
	}
	v.Code, v.Concept = c.code, c
	switch {
	case c.Billable(v.Date):
		v.Status = Billable
	case c.headerOn(v.Date):
		v.Status = Header
		v.Message = fmt.Sprintf("%s is a header, not a reportable code: choose one of the %d codes below it", c.Display(), c.countReportable(v.Date))
	default:
		v.Status = NotOnDate
		v.Message = fmt.Sprintf("%s is not a valid %s code on %s%s", c.Display(), cs.name, v.Date, c.validityText())
	}
	return v
}

// headerOn reports whether c has a code below it that exists on d.
func (c *Concept) headerOn(d Date) bool {
	for _, ch := range c.children {
		if c.cs.concepts[ch].Exists(d) {
			return true
		}
	}
	return false
}

// countReportable counts the codes below c reportable on d.
func (c *Concept) countReportable(d Date) int {
	n := 0
	c.Descendants(func(x *Concept) bool {
		if x.Billable(d) {
			n++
		}
		return true
	})
	return n
}

func (c *Concept) validityText() string {
	if len(c.valid) == 0 {
		if c.spanFrom == 0 {
			return ""
		}
		return fmt.Sprintf(" (it existed as a header from %s to %s)", c.spanFrom, c.spanTo)
	}
	s := " (reportable "
	for i, v := range c.valid {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s to %s", v.From, v.To)
	}
	if len(c.children) > 0 {
		s += "; a header with codes below it otherwise"
	}
	return s + ")"
}

// Relation is how two codes of a system relate in the hierarchy.
type Relation string

// The relations $subsumes reports.
const (
	Equivalent  Relation = "equivalent"
	Subsumes    Relation = "subsumes"    // a is above b
	SubsumedBy  Relation = "subsumed-by" // a is below b
	NotSubsumed Relation = "not-subsumed"
)

// Subsumes relates codes a and b (each as Lookup reads it).
func (cs *CodeSystem) Subsumes(a, b string) (Relation, error) {
	ca, err := cs.Lookup(a)
	if err != nil {
		return "", err
	}
	cb, err := cs.Lookup(b)
	if err != nil {
		return "", err
	}
	switch {
	case ca == cb:
		return Equivalent, nil
	case cb.IsA(ca):
		return Subsumes, nil
	case ca.IsA(cb):
		return SubsumedBy, nil
	}
	return NotSubsumed, nil
}
