package codeset

import (
	"strings"

	"github.com/custodian-him/custodian"
)

// Dotted writes a code as coders write it: ICD-10-CM with a dot after the
// category ("E11.9"); ICD-10-PCS codes have none.
func (cs *CodeSystem) Dotted(code string) string {
	if cs.dotAfter == 0 || len(code) <= cs.dotAfter {
		return code
	}
	return code[:cs.dotAfter] + "." + code[cs.dotAfter:]
}

// Normalize turns what a person typed into the stored form of a code:
// surrounding space trimmed, upper case, the dot removed ("e11.9 " →
// "E119"); in ICD-10-PCS, which has no letters I or O, a letter O is read as
// the digit 0 and a letter I as 1. Input that cannot be a code of the system
// is EINVALID, saying why.
func (cs *CodeSystem) Normalize(input string) (string, error) {
	s := strings.ToUpper(strings.TrimSpace(input))
	if s == "" {
		return "", custodian.Errorf(custodian.EINVALID, "no %s code given", cs.name)
	}
	if cs.dotAfter > 0 {
		if i := strings.IndexByte(s, '.'); i >= 0 {
			if i != cs.dotAfter || strings.Count(s, ".") > 1 {
				return "", custodian.Errorf(custodian.EINVALID, "%q is not an %s code: the dot comes after the 3-character category (E11.9)", strings.TrimSpace(input), cs.name)
			}
			s = s[:i] + s[i+1:]
			if len(s) == cs.dotAfter {
				return "", custodian.Errorf(custodian.EINVALID, "%q is not an %s code: nothing follows the dot", strings.TrimSpace(input), cs.name)
			}
		}
	}
	if cs.id == ICD10PCS {
		s = strings.NewReplacer("O", "0", "I", "1").Replace(s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return "", custodian.Errorf(custodian.EINVALID, "%q is not an %s code: it may hold only letters and digits (and, in ICD-10-CM, a dot)", strings.TrimSpace(input), cs.name)
		}
	}
	switch cs.id {
	case ICD10CM:
		if len(s) < 3 || len(s) > 7 || s[0] < 'A' || s[0] > 'Z' || s[1] < '0' || s[1] > '9' {
			return "", custodian.Errorf(custodian.EINVALID, "%q is not an ICD-10-CM code: a code is a letter, a digit, then 1 to 5 letters or digits (E11, E11.9, S72.001A)", strings.TrimSpace(input))
		}
	case ICD10PCS:
		if len(s) > 7 {
			return "", custodian.Errorf(custodian.EINVALID, "%q is not an ICD-10-PCS code: a code has 7 characters", strings.TrimSpace(input))
		}
	}
	return s, nil
}

// Lookup finds the concept a person meant by input: Normalize, then, for an
// ICD-10-CM code typed without its placeholder X ("T36.01A" for
// T36.0X1A), the one code the placeholders make of it. An unknown code is
// ENOTFOUND, naming the nearest code above it.
func (cs *CodeSystem) Lookup(input string) (*Concept, error) {
	code, err := cs.Normalize(input)
	if err != nil {
		return nil, err
	}
	if c, ok := cs.Concept(code); ok {
		return c, nil
	}
	if c := cs.withPlaceholders(code); c != nil {
		return c, nil
	}
	return nil, cs.notFound(code)
}

func (cs *CodeSystem) notFound(code string) error {
	for n := len(code) - 1; n >= 1; n-- {
		if p, ok := cs.Concept(code[:n]); ok && (cs.id != ICD10CM || n >= 3) {
			return custodian.Errorf(custodian.ENOTFOUND, "%s is not an %s code; the nearest code above it is %s %s", cs.Dotted(code), cs.name, p.Display(), p.Label())
		}
	}
	return custodian.Errorf(custodian.ENOTFOUND, "%s is not an %s code", cs.Dotted(code), cs.name)
}

// withPlaceholders returns the code with placeholder X characters
// inserted before a 7th character, when that gives exactly one code.
func (cs *CodeSystem) withPlaceholders(code string) *Concept {
	if cs.id != ICD10CM || len(code) < 4 || len(code) >= 7 {
		return nil
	}
	last := code[len(code)-1]
	if last >= '0' && last <= '9' {
		return nil
	}
	var found *Concept
	stem := code[:len(code)-1]
	for x := 1; len(stem)+x < 7; x++ {
		for pos := len(stem); pos >= 3; pos-- {
			cand := stem[:pos] + strings.Repeat("X", x) + stem[pos:]
			if len(cand) != 6 {
				continue
			}
			if c, ok := cs.Concept(cand + string(last)); ok {
				if found != nil && found != c {
					return nil
				}
				found = c
			}
		}
	}
	return found
}
