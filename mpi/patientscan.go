package mpi

import (
	"errors"
	"strconv"

	"github.com/custodian-him/custodian/internal/jsonstr"
)

// A Patient scanner: reads the fields matching needs straight from the
// JSON bytes and skips the rest, several times faster than
// encoding/json's reflection for the millions of Patients of a batch run.
// It accepts what encoding/json accepts for these fields (null as
// absent) and rejects malformed JSON and wrongly typed fields.

var errSyntax = errors.New("malformed JSON")

type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) lit(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return errSyntax
	}
	s.i += len(word)
	return nil
}

// null consumes a null and reports whether there was one.
func (s *scanner) null() (bool, error) {
	if s.peek() != 'n' {
		return false, nil
	}
	return true, s.lit("null")
}

// str reads a string (null reads as "").
func (s *scanner) str() (string, error) {
	if isNull, err := s.null(); isNull || err != nil {
		return "", err
	}
	if s.peek() != '"' {
		return "", errors.New("a string was expected")
	}
	v, next, ok := jsonstr.Unquote(s.b, s.i)
	s.i = next
	if !ok {
		return "", errSyntax
	}
	return v, nil
}

// object calls fn for each member, with the scanner at its value; fn must
// consume the value. A null object has no members.
func (s *scanner) object(fn func(key string) error) error {
	if isNull, err := s.null(); isNull || err != nil {
		return err
	}
	if s.peek() != '{' {
		return errors.New("an object was expected")
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		k, err := s.str()
		if err != nil {
			return errSyntax
		}
		if s.peek() != ':' {
			return errSyntax
		}
		s.i++
		if err := fn(k); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errSyntax
		}
	}
}

// array calls fn for each element; fn must consume it.
func (s *scanner) array(fn func() error) error {
	if isNull, err := s.null(); isNull || err != nil {
		return err
	}
	if s.peek() != '[' {
		return errors.New("an array was expected")
	}
	s.i++
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return errSyntax
		}
	}
}

// skip consumes any value, checking its syntax.
func (s *scanner) skip() error {
	switch c := s.peek(); {
	case c == '{':
		return s.object(func(string) error { return s.skip() })
	case c == '[':
		return s.array(s.skip)
	case c == '"':
		_, err := s.str()
		return err
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		start := s.i
		for s.i < len(s.b) && (s.b[s.i] == '-' || s.b[s.i] == '+' || s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E' || s.b[s.i] >= '0' && s.b[s.i] <= '9') {
			s.i++
		}
		if _, err := strconv.ParseFloat(string(s.b[start:s.i]), 64); err != nil {
			return errSyntax
		}
		return nil
	}
	return errSyntax
}

func (s *scanner) strs(out *[]string) error {
	return s.array(func() error {
		v, err := s.str()
		*out = append(*out, v)
		return err
	})
}

// scanPatient fills p from a Patient's JSON.
func scanPatient(b []byte, p *fhirPatient) error {
	s := &scanner{b: b}
	err := s.object(func(k string) error {
		var err error
		switch k {
		case "resourceType":
			p.ResourceType, err = s.str()
		case "id":
			p.ID, err = s.str()
		case "gender":
			p.Gender, err = s.str()
		case "birthDate":
			p.BirthDate, err = s.str()
		case "name":
			err = s.array(func() error {
				p.Name = append(p.Name, fhirName{})
				n := &p.Name[len(p.Name)-1]
				return s.object(func(k string) error {
					switch k {
					case "use":
						return s.strInto(&n.Use)
					case "text":
						return s.strInto(&n.Text)
					case "family":
						return s.strInto(&n.Family)
					case "given":
						return s.strs(&n.Given)
					case "suffix":
						return s.strs(&n.Suffix)
					}
					return s.skip()
				})
			})
		case "telecom":
			err = s.array(func() error {
				p.Telecom = append(p.Telecom, fhirTelecom{})
				t := &p.Telecom[len(p.Telecom)-1]
				return s.object(func(k string) error {
					switch k {
					case "system":
						return s.strInto(&t.System)
					case "value":
						return s.strInto(&t.Value)
					}
					return s.skip()
				})
			})
		case "address":
			err = s.array(func() error {
				p.Address = append(p.Address, fhirAddress{})
				a := &p.Address[len(p.Address)-1]
				return s.object(func(k string) error {
					switch k {
					case "use":
						return s.strInto(&a.Use)
					case "line":
						return s.strs(&a.Line)
					case "city":
						return s.strInto(&a.City)
					case "state":
						return s.strInto(&a.State)
					case "postalCode":
						return s.strInto(&a.PostalCode)
					}
					return s.skip()
				})
			})
		case "identifier":
			err = s.array(func() error {
				p.Identifier = append(p.Identifier, fhirIdentifier{})
				id := &p.Identifier[len(p.Identifier)-1]
				return s.object(func(k string) error {
					switch k {
					case "system":
						return s.strInto(&id.System)
					case "value":
						return s.strInto(&id.Value)
					case "type":
						return s.object(func(k string) error {
							if k != "coding" {
								return s.skip()
							}
							return s.array(func() error {
								return s.object(func(k string) error {
									if k != "code" {
										return s.skip()
									}
									c, err := s.str()
									id.Codes = append(id.Codes, c)
									return err
								})
							})
						})
					}
					return s.skip()
				})
			})
		default:
			err = s.skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	if s.peek() != 0 {
		return errSyntax // something after the object
	}
	return nil
}

func (s *scanner) strInto(dst *string) error {
	v, err := s.str()
	*dst = v
	return err
}
