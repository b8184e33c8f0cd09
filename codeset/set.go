package codeset

import (
	"embed"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/custodian-him/custodian"
)

//go:embed data/*.txt.gz
var embedded embed.FS

// SystemID names a coding system: "icd10cm" or "icd10pcs".
type SystemID string

// The systems held.
const (
	ICD10CM  SystemID = "icd10cm"
	ICD10PCS SystemID = "icd10pcs"
)

// The canonical URIs of the systems, as FHIR names them.
const (
	URIICD10CM  = "http://hl7.org/fhir/sid/icd-10-cm"
	URIICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
)

// systemInfo describes the systems this package knows how to load. More
// systems or editions are added here and by the generator.
var systemInfo = []struct {
	id         SystemID
	uri, name  string
	file       string
	aliases    []string
	dotAfter   int // where the dot goes when a code is displayed (0: none)
	codeLength int // the length of a complete code, 0 if it varies
}{
	{ICD10CM, URIICD10CM, "ICD-10-CM", "data/icd10cm.txt.gz", []string{"icd10cm", "icd-10-cm", "icd10", "cm", "2.16.840.1.113883.6.90", "urn:oid:2.16.840.1.113883.6.90"}, 3, 0},
	{ICD10PCS, URIICD10PCS, "ICD-10-PCS", "data/icd10pcs.txt.gz", []string{"icd10pcs", "icd-10-pcs", "pcs", "2.16.840.1.113883.6.4", "urn:oid:2.16.840.1.113883.6.4", "http://www.cms.gov/medicare/coding/icd10"}, 0, 7},
}

// ParseSystem returns the system named by s: its URI, its id ("icd10cm"),
// or a common spelling ("ICD-10-PCS", an OID). Unknown names are EINVALID
// with the names that are known.
func ParseSystem(s string) (SystemID, error) {
	t := strings.TrimSpace(s)
	for _, si := range systemInfo {
		if t == si.uri {
			return si.id, nil
		}
		for _, a := range si.aliases {
			if strings.EqualFold(t, a) {
				return si.id, nil
			}
		}
	}
	return "", custodian.Errorf(custodian.EINVALID, "unknown code system %q: use %s (ICD-10-CM) or %s (ICD-10-PCS)", s, URIICD10CM, URIICD10PCS)
}

// Set is the collection of loaded code systems. It is safe for concurrent
// use; nothing in it changes after Load.
type Set struct {
	systems map[SystemID]*CodeSystem
	order   []SystemID
}

// Load reads every embedded code system. Search indexes are built on first
// use (or by Warm).
func Load() (*Set, error) {
	s := &Set{systems: map[SystemID]*CodeSystem{}}
	var wg sync.WaitGroup
	errs := make([]error, len(systemInfo))
	css := make([]*CodeSystem, len(systemInfo))
	for i, si := range systemInfo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := embedded.ReadFile(si.file)
			if err != nil {
				errs[i] = err
				return
			}
			cs, err := parse(b)
			if err != nil {
				errs[i] = fmt.Errorf("codeset: %s: %w", si.file, err)
				return
			}
			cs.id, cs.uri, cs.name, cs.dotAfter, cs.codeLength = si.id, si.uri, si.name, si.dotAfter, si.codeLength
			css[i] = cs
		}()
	}
	wg.Wait()
	for i, si := range systemInfo {
		if errs[i] != nil {
			return nil, errs[i]
		}
		s.systems[si.id] = css[i]
		s.order = append(s.order, si.id)
	}
	return s, nil
}

// System returns the system id, or EINVALID if it is not loaded.
func (s *Set) System(id SystemID) (*CodeSystem, error) {
	if cs, ok := s.systems[id]; ok {
		return cs, nil
	}
	return nil, custodian.Errorf(custodian.EINVALID, "code system %q is not loaded", id)
}

// ByURI returns the system with canonical URI (or another name ParseSystem
// accepts).
func (s *Set) ByURI(uri string) (*CodeSystem, error) {
	id, err := ParseSystem(uri)
	if err != nil {
		return nil, err
	}
	return s.System(id)
}

// Systems lists the loaded systems in a fixed order.
func (s *Set) Systems() []*CodeSystem {
	out := make([]*CodeSystem, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.systems[id])
	}
	return out
}

// Warm builds every system's search index now rather than on first search.
func (s *Set) Warm() {
	var wg sync.WaitGroup
	for _, cs := range s.systems {
		wg.Add(1)
		go func() { defer wg.Done(); cs.searchIndex() }()
	}
	wg.Wait()
}

// CodeSystem is one classification: its concepts in code order, the
// chapters and blocks that group them, and its edition.
type CodeSystem struct {
	id         SystemID
	uri, name  string
	dotAfter   int
	codeLength int

	edition              string // the edition titles come from: "FY2025"
	titlesFrom, titlesTo Date
	validFrom, validTo   Date
	concepts             []Concept
	index                map[string]int32
	roots                []int32
	chapters             []Group
	blocks               []Group
	ageGroups            []AgeGroup

	indexOnce sync.Once
	idx       *searchIndex
}

// ID returns the system's id.
func (cs *CodeSystem) ID() SystemID { return cs.id }

// URI returns the system's canonical URI.
func (cs *CodeSystem) URI() string { return cs.uri }

// Name returns the system's name ("ICD-10-CM").
func (cs *CodeSystem) Name() string { return cs.name }

// Edition returns the edition titles and notes come from ("FY2025").
func (cs *CodeSystem) Edition() string { return cs.edition }

// Coverage returns the first and last dates of service whose validity the
// system can answer.
func (cs *CodeSystem) Coverage() (from, to Date) { return cs.validFrom, cs.validTo }

// VersionOn returns the edition in force on a date of service, named for
// its fiscal year ("2026"); the zero Date means the latest covered.
func (cs *CodeSystem) VersionOn(d Date) string {
	if d == 0 {
		d = cs.validTo
	}
	return fmt.Sprint(d.FiscalYear())
}

// Len returns the number of concepts (codes and headers of every year).
func (cs *CodeSystem) Len() int { return len(cs.concepts) }

// Concept returns the concept whose code (without a dot, upper case) is
// exactly code.
func (cs *CodeSystem) Concept(code string) (*Concept, bool) {
	// the concepts are in code order
	i, ok := slices.BinarySearchFunc(cs.concepts, code, func(c Concept, code string) int { return strings.Compare(c.code, code) })
	if !ok {
		return nil, false
	}
	return &cs.concepts[i], true
}

// Roots returns the concepts without a parent (ICD-10-CM categories,
// ICD-10-PCS sections), in code order.
func (cs *CodeSystem) Roots() []*Concept { return cs.list(cs.roots) }

// Chapters returns the chapters (ICD-10-CM only).
func (cs *CodeSystem) Chapters() []*Group {
	out := make([]*Group, len(cs.chapters))
	for i := range cs.chapters {
		out[i] = &cs.chapters[i]
	}
	return out
}

// AgeGroups returns the MCE age groups (newborn, pediatric, maternity,
// adult) with their date ranges.
func (cs *CodeSystem) AgeGroups() []AgeGroup { return cs.ageGroups }

// All calls yield for every concept in code order until it returns false.
func (cs *CodeSystem) All(yield func(*Concept) bool) {
	for i := range cs.concepts {
		if !yield(&cs.concepts[i]) {
			return
		}
	}
}

func (cs *CodeSystem) list(ids []int32) []*Concept {
	out := make([]*Concept, len(ids))
	for i, id := range ids {
		out[i] = &cs.concepts[id]
	}
	return out
}

// date resolves the zero Date to the last covered date.
func (cs *CodeSystem) date(d Date) Date {
	if d == 0 {
		return cs.validTo
	}
	return d
}

// checkDate reports EINVALID for a date of service outside the coverage.
func (cs *CodeSystem) checkDate(d Date) error {
	if d != 0 && (d < cs.validFrom || d > cs.validTo) {
		return custodian.Errorf(custodian.EINVALID, "no %s edition is loaded for the date %s (dates from %s to %s are covered)", cs.name, d, cs.validFrom, cs.validTo)
	}
	return nil
}

// AgeGroup is an MCE age group: the ages (in years) a code flagged with it
// fits, over a span of dates.
type AgeGroup struct {
	Name      string // NEWBORN, PEDIATRIC, MATERNITY, ADULT
	Low, High int
	From, To  Date
}
