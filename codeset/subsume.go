package codeset

import "time"

// Below returns code and every code under it in the system named by the
// URI, each as written in FHIR resources (dotted for ICD-10-CM) and, where
// different, as typed without the dot, for search with :below. At most max
// codes are returned; more reports over. ok is false when the system or the
// code is unknown.
func (s *Set) Below(system, code string, max int) (codes []string, over, ok bool) {
	cs, err := s.ByURI(system)
	if err != nil {
		return nil, false, false
	}
	c, err := cs.Lookup(code)
	if err != nil {
		return nil, false, false
	}
	add := func(x *Concept) bool {
		if len(codes) >= max {
			over = true
			return false
		}
		codes = appendForms(codes, x)
		return true
	}
	if add(c) {
		c.Descendants(add)
	}
	return codes, over, true
}

// Above returns code and every code above it (its ancestors), in the same
// forms as Below, for search with :above.
func (s *Set) Above(system, code string) (codes []string, ok bool) {
	cs, err := s.ByURI(system)
	if err != nil {
		return nil, false
	}
	c, err := cs.Lookup(code)
	if err != nil {
		return nil, false
	}
	codes = appendForms(codes, c)
	for _, a := range c.Ancestors() {
		codes = appendForms(codes, a)
	}
	return codes, true
}

func appendForms(codes []string, c *Concept) []string {
	codes = append(codes, c.Display())
	if c.Code() != c.Display() {
		codes = append(codes, c.Code())
	}
	return codes
}

// ValidOn reports whether code may be reported on the date of service on
// in the system named by the URI (a billable code of the edition in force).
// ok is false when the system is not one of the set's or the date is
// outside what the set covers: then the code cannot be judged.
func (s *Set) ValidOn(system, code string, on time.Time) (valid, ok bool) {
	cs, err := s.ByURI(system)
	if err != nil {
		return false, false
	}
	d := DateOf(on)
	if from, to := cs.Coverage(); d < from || d > to {
		return false, false
	}
	return cs.Validate(code, d).Valid(), true
}
