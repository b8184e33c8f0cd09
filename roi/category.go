package roi

import (
	"strings"

	"github.com/custodian-him/custodian/store"
)

// ActCodeSystem is v3 ActCode, where the sensitivity labels live.
const ActCodeSystem = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

// Coding is a code in a system.
type Coding struct{ System, Code string }

// Category is a sensitive category of records that a release leaves out
// unless its legal ground names it. A record is in the category when it
// carries one of Labels in meta.security, or any coding in it has one of
// Codes' systems and a code starting with that entry's code (so F10
// covers F10.20).
type Category struct {
	Code, Name string
	// Regulation is the rule that protects it, for the cover letter.
	Regulation string
	Labels     []Coding
	Codes      []Coding
	// NotForIndividual marks categories the right of access does not reach
	// (psychotherapy notes, 164.524(a)(1)(i)).
	NotForIndividual bool
}

// Category codes of DefaultCategories.
const (
	SubstanceUse       = "substance-use"
	PsychotherapyNotes = "psychotherapy-notes"
	MentalHealth       = "mental-health"
	HIV                = "hiv"
	Genetic            = "genetic"
	ReproductiveHealth = "reproductive-health"
	DomesticViolence   = "domestic-violence"
	Restricted         = "restricted"
)

const icd10cm = "http://hl7.org/fhir/sid/icd-10-cm"

// DefaultCategories are the sensitive categories a site starts with; it
// may replace them (Service.Categories). Together their labels cover
// every label of store.SensitiveLabels but CEL (a VIP flag, not a kind of
// record).
func DefaultCategories() []Category {
	act := func(codes ...string) []Coding {
		out := make([]Coding, len(codes))
		for i, c := range codes {
			out[i] = Coding{ActCodeSystem, c}
		}
		return out
	}
	icd := func(codes ...string) []Coding {
		out := make([]Coding, len(codes))
		for i, c := range codes {
			out[i] = Coding{icd10cm, c}
		}
		return out
	}
	return []Category{
		{Code: SubstanceUse, Name: "substance use disorder treatment records", Regulation: "42 CFR Part 2",
			Labels: act("ETH", "ETHUD"), Codes: icd("F10", "F11", "F12", "F13", "F14", "F15", "F16", "F17", "F18", "F19")},
		{Code: PsychotherapyNotes, Name: "psychotherapy notes", Regulation: "45 CFR 164.508(a)(2)",
			Labels: act("PSYTHPN"), NotForIndividual: true},
		{Code: MentalHealth, Name: "mental health records", Regulation: "state law", Labels: act("PSY")},
		{Code: HIV, Name: "HIV/AIDS and sexually transmitted disease information", Regulation: "state law",
			Labels: act("HIV", "STD"), Codes: icd("B20", "Z21")},
		{Code: Genetic, Name: "genetic information", Regulation: "GINA and state law", Labels: act("GDIS")},
		{Code: ReproductiveHealth, Name: "reproductive and sexual health information", Regulation: "45 CFR 164.502(a)(5)(iii) and state law",
			Labels: act("SEX")},
		{Code: DomesticViolence, Name: "domestic and sexual violence, sickle cell and other protected information", Regulation: "state law",
			Labels: act("SDV", "SICKLE", "TBOO")},
		{Code: Restricted, Name: "restricted records", Regulation: "site policy",
			Labels: []Coding{{"http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R"}, {"http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "V"}}},
	}
}

// categoriesOf returns the codes of the categories res falls in, and
// whether it carries a sensitive label (store.SensitiveLabels) that none of
// cats covers.
func categoriesOf(res map[string]any, cats []Category) (in []string, uncovered bool) {
	meta, _ := res["meta"].(map[string]any)
	labels, _ := meta["security"].([]any)
	seen := map[string]bool{}
	add := func(c string) {
		if !seen[c] {
			seen[c] = true
			in = append(in, c)
		}
	}
	for _, l := range labels {
		m, _ := l.(map[string]any)
		sys, _ := m["system"].(string)
		code, _ := m["code"].(string)
		covered := false
		for _, c := range cats {
			for _, lb := range c.Labels {
				if lb.System == sys && lb.Code == code {
					add(c.Code)
					covered = true
				}
			}
		}
		if !covered && store.SensitiveLabels[sys][code] && code != "CEL" {
			uncovered = true
		}
	}
	walkCodings(res, func(sys, code string) {
		for _, c := range cats {
			for _, cc := range c.Codes {
				if cc.System == sys && strings.HasPrefix(code, cc.Code) {
					add(c.Code)
				}
			}
		}
	}, true)
	return in, uncovered
}

// walkCodings calls fn with every system and code pair in v (skipping
// meta when top is set).
func walkCodings(v any, fn func(sys, code string), top bool) {
	switch v := v.(type) {
	case map[string]any:
		if sys, ok := v["system"].(string); ok {
			if code, ok := v["code"].(string); ok {
				fn(sys, code)
			}
		}
		for k, x := range v {
			if top && k == "meta" {
				continue
			}
			walkCodings(x, fn, false)
		}
	case []any:
		for _, x := range v {
			walkCodings(x, fn, false)
		}
	}
}

// defaultCategories is DefaultCategories, made once; never changed.
var defaultCategories = DefaultCategories()

func (s *Service) categories() []Category {
	if s.Categories != nil {
		return s.Categories
	}
	return defaultCategories
}

func (s *Service) category(code string) *Category {
	cats := s.categories()
	for i := range cats {
		if cats[i].Code == code {
			return &cats[i]
		}
	}
	return nil
}
