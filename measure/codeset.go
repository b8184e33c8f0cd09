package measure

import (
	"strings"

	"github.com/custodian-him/custodian"
)

// Code systems the built-in measures and registries use.
const (
	SystemICD10CM  = "http://hl7.org/fhir/sid/icd-10-cm"
	SystemICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
	SystemLOINC    = "http://loinc.org"
)

// Hierarchy says whether a code falls under another in its code system's
// hierarchy (itself included). It is the seam for a terminology service
// with the real hierarchy; without one, CodeSet uses the shape of the code
// (an ICD-10 code falls under its category and every shorter prefix).
type Hierarchy interface {
	Subsumes(system, ancestor, code string) bool
}

// CodeSet is a value set written as entries over one code system's
// hierarchy: a code ("E11.65") stands for itself and everything under it;
// a range of categories ("I21-I22", "C00-D49") for every code whose
// three-character category lies between the two, both included.
type CodeSet struct {
	System  string   `json:"system"`
	Include []string `json:"include"`
	// Hierarchy, if set, decides single entries instead of the code's
	// shape (ranges stay ranges of categories).
	Hierarchy Hierarchy `json:"-"`

	entries []codeEntry
}

type codeEntry struct {
	lo, hi string // a range of categories when hi != ""
}

// NewCodeSet returns the set of system codes under the given entries.
func NewCodeSet(system string, include ...string) *CodeSet {
	cs := &CodeSet{System: system, Include: include}
	if err := cs.Compile(); err != nil {
		panic(err) // built-in sets are constants
	}
	return cs
}

// Compile checks the entries and prepares them for Contains. EINVALID
// names the first entry that is not a code or a range of categories.
func (cs *CodeSet) Compile() error {
	cs.entries = cs.entries[:0]
	for _, e := range cs.Include {
		e = strings.TrimSpace(e)
		lo, hi, isRange := strings.Cut(e, "-")
		switch {
		case e == "":
			return custodian.Errorf(custodian.EINVALID, "a code set entry is empty")
		case isRange:
			lo, hi = normCode(lo), normCode(hi)
			if len(lo) < 3 || len(hi) < 3 || lo > hi {
				return custodian.Errorf(custodian.EINVALID, "the code range %q must run from a category to a later one (such as I21-I22)", e)
			}
			cs.entries = append(cs.entries, codeEntry{lo: lo[:3], hi: hi[:3]})
		default:
			cs.entries = append(cs.entries, codeEntry{lo: normCode(e)})
		}
	}
	return nil
}

// normCode writes an ICD-10 code without its dot, upper case.
func normCode(c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	if i := strings.IndexByte(c, '.'); i >= 0 {
		c = c[:i] + c[i+1:]
	}
	return c
}

// compact appends code to buf without its dot and in upper case (what
// normCode does, without allocating).
func compact(buf []byte, code string) []byte {
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c == '.' || c == ' ':
		case c >= 'a' && c <= 'z':
			buf = append(buf, c-'a'+'A')
		default:
			buf = append(buf, c)
		}
	}
	return buf
}

// Contains reports whether code (with or without its dot) is in the set.
func (cs *CodeSet) Contains(code string) bool {
	if cs == nil || code == "" {
		return false
	}
	var buf [32]byte
	n := compact(buf[:0], code)
	for i, e := range cs.entries {
		if e.hi != "" {
			if len(n) >= 3 && string(n[:3]) >= e.lo && string(n[:3]) <= e.hi {
				return true
			}
			continue
		}
		if cs.Hierarchy != nil {
			if cs.Hierarchy.Subsumes(cs.System, cs.Include[i], code) {
				return true
			}
			continue
		}
		if len(n) >= len(e.lo) && string(n[:len(e.lo)]) == e.lo {
			return true
		}
	}
	return false
}

// String writes the set as its entries.
func (cs *CodeSet) String() string { return strings.Join(cs.Include, ", ") }
