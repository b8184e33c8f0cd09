package roi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// ActCodeSystem is v3 ActCode, where the sensitivity labels live.
const ActCodeSystem = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

// Coding is a code in a system.
type Coding struct {
	System string `json:"system"`
	Code   string `json:"code"`
}

// Category is a sensitive category of records that a release leaves out
// unless its legal ground names it. A record is in the category when
//
//   - it carries one of Labels in meta.security;
//   - any coding in it has one of Codes' systems and a code starting with
//     that entry's code (so F10 covers F10.20);
//   - it is a document whose type is one of DocumentTypes (LOINC document
//     codes the site uses for such notes), or whose type, or the code of
//     any record, is named with one of Words (matched as whole words in
//     the display or text of its type, category or code, e.g.
//     "psychotherapy" for a note titled "Psychotherapy note");
//   - it points to an Encounter or a Condition in the category (a note
//     written in a substance-use treatment encounter, a procedure done for
//     an HIV diagnosis): see classifier.
//
// So a record needs no label to be recognised; the site's configuration
// says which categories exist and what marks them.
type Category struct {
	Code string `json:"code"`
	Name string `json:"name"`
	// Regulation is the rule that protects it, for the cover letter.
	Regulation    string   `json:"regulation"`
	Labels        []Coding `json:"labels,omitempty"`
	Codes         []Coding `json:"codes,omitempty"`
	DocumentTypes []Coding `json:"documentTypes,omitempty"`
	Words         []string `json:"words,omitempty"`
	// NotForIndividual marks categories the right of access does not reach
	// (psychotherapy notes, 164.524(a)(1)(i)).
	NotForIndividual bool `json:"notForIndividual,omitempty"`
}

// ReadCategories reads a site's sensitive categories: a JSON array of
// Category (the form `custodian roi categories` prints the defaults in).
// Every category needs a code (letters, digits and hyphens), a name and
// the rule that protects it, and some way to be recognised; codes are
// unique, and every coding has a system and a code.
func ReadCategories(r io.Reader) ([]Category, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var cats []Category
	if err := dec.Decode(&cats); err != nil {
		return nil, custodian.Errorf(custodian.EINVALID, "the sensitive categories are not a JSON array of categories: %v", err)
	}
	if len(cats) == 0 {
		return nil, custodian.Errorf(custodian.EINVALID, "the sensitive categories file names no category")
	}
	seen := map[string]bool{}
	for i, c := range cats {
		where := fmt.Sprintf("category %d (%q)", i+1, c.Code)
		if c.Code == "" || strings.Trim(c.Code, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return nil, custodian.Errorf(custodian.EINVALID, "%s: the code must be lower-case letters, digits and hyphens", where)
		}
		if seen[c.Code] {
			return nil, custodian.Errorf(custodian.EINVALID, "%s: the code is used twice", where)
		}
		seen[c.Code] = true
		if strings.TrimSpace(c.Name) == "" || strings.TrimSpace(c.Regulation) == "" {
			return nil, custodian.Errorf(custodian.EINVALID, "%s: a category needs its name and the rule that protects it", where)
		}
		if len(c.Labels)+len(c.Codes)+len(c.DocumentTypes)+len(c.Words) == 0 {
			return nil, custodian.Errorf(custodian.EINVALID, "%s: give the labels, codes, document types or words that mark its records", where)
		}
		for _, list := range [][]Coding{c.Labels, c.Codes, c.DocumentTypes} {
			for _, cd := range list {
				if cd.System == "" || cd.Code == "" {
					return nil, custodian.Errorf(custodian.EINVALID, "%s: every coding needs a system and a code", where)
				}
			}
		}
		for _, w := range c.Words {
			if strings.TrimSpace(w) == "" {
				return nil, custodian.Errorf(custodian.EINVALID, "%s: an empty word would match everything", where)
			}
		}
	}
	return cats, nil
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

// codeRange lists the ICD-10-CM categories from first to last, which share
// their letter (codeRange("O00", "O08") is O00, O01, … O08).
func codeRange(first, last string) []string {
	var out []string
	from, _ := strconv.Atoi(first[1:])
	to, _ := strconv.Atoi(last[1:])
	for n := from; n <= to; n++ {
		out = append(out, fmt.Sprintf("%c%02d", first[0], n))
	}
	return out
}

// DefaultCategories are the sensitive categories a site starts with; it
// may replace them (Service.Categories). Together their labels cover
// every label of store.SensitiveLabels but CEL (a VIP flag, not a kind of
// record). The codes are ICD-10-CM:
//
//   - substance use: F10–F16, F18, F19 (alcohol and drug related
//     disorders; tobacco, F17, is not a substance use disorder for 42 CFR
//     Part 2, whose definition in 2.11 leaves out tobacco and caffeine),
//     and T40.0–T40.6 poisonings are left to the site;
//   - HIV: B20 (HIV disease), Z21 (asymptomatic HIV infection status),
//     R75 (inconclusive laboratory evidence of HIV), O98.7 (HIV in
//     pregnancy);
//   - genetic: Z14 (genetic carrier), Z15 (genetic susceptibility to
//     disease), Z31.43 and Z31.44 (genetic testing for procreative
//     management);
//   - reproductive health: O00–O08 (pregnancy with abortive outcome), Z30
//     (contraceptive management), Z31 (procreative management), Z32
//     (pregnancy test and childbirth instruction), Z33 (pregnant state),
//     Z3A (weeks of gestation);
//   - mental health: by label and words only by default (diagnoses F20–F99
//     are ordinary problem-list entries in a general hospital; a site
//     under a stricter state law adds them).
//
// Words recognise unlabelled notes and results by how they are named.
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
			Labels: act("ETH", "ETHUD"), Codes: icd("F10", "F11", "F12", "F13", "F14", "F15", "F16", "F18", "F19"),
			Words: []string{"substance use", "substance abuse", "chemical dependency", "addiction", "opioid treatment program",
				"opioid use disorder", "alcohol use disorder", "detoxification", "methadone maintenance", "medication for opioid use disorder"}},
		{Code: PsychotherapyNotes, Name: "psychotherapy notes", Regulation: "45 CFR 164.508(a)(2)",
			Labels: act("PSYTHPN"), Words: []string{"psychotherapy"}, NotForIndividual: true},
		{Code: MentalHealth, Name: "mental health records", Regulation: "state law", Labels: act("PSY"),
			Words: []string{"psychiatric", "psychiatry", "behavioral health", "mental health"}},
		{Code: HIV, Name: "HIV/AIDS and sexually transmitted disease information", Regulation: "state law",
			Labels: act("HIV", "STD"), Codes: icd("B20", "Z21", "R75", "O98.7"),
			Words: []string{"HIV", "human immunodeficiency virus", "AIDS"}},
		{Code: Genetic, Name: "genetic information", Regulation: "GINA and state law", Labels: act("GDIS"),
			Codes: icd("Z14", "Z15", "Z31.43", "Z31.44"),
			Words: []string{"genetic", "genetics", "genomic", "germline", "hereditary cancer panel"}},
		{Code: ReproductiveHealth, Name: "reproductive and sexual health information", Regulation: "45 CFR 164.502(a)(5)(iii) and state law",
			Labels: act("SEX"), Codes: icd(append(codeRange("O00", "O08"), "Z30", "Z31", "Z32", "Z33", "Z3A")...),
			Words: []string{"abortion", "termination of pregnancy", "contraception", "contraceptive", "family planning", "fertility", "infertility"}},
		{Code: DomesticViolence, Name: "domestic and sexual violence, sickle cell and other protected information", Regulation: "state law",
			Labels: act("SDV", "SICKLE", "TBOO")},
		{Code: Restricted, Name: "restricted records", Regulation: "site policy",
			Labels: []Coding{{"http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R"}, {"http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "V"}}},
	}
}

// namedFields are the elements whose display and text name what a record
// is (its type, category or code); Category.Words are looked for there
// only, never in the body of a note, where "denies alcohol use" would
// match.
var namedFields = []string{"type", "category", "code", "serviceType", "reasonCode", "medicationCodeableConcept", "vaccineCode"}

// categoriesOf returns the codes of the categories res falls in by what it
// carries itself (labels, codes, document type, names), and whether it
// carries a sensitive label (store.SensitiveLabels) that none of cats
// covers.
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
	if str(res, "resourceType") == "DocumentReference" {
		for _, cd := range list(obj(res, "type"), "coding") {
			for _, c := range cats {
				for _, dt := range c.DocumentTypes {
					if dt.System == str(cd, "system") && dt.Code == str(cd, "code") {
						add(c.Code)
					}
				}
			}
		}
	}
	var names []string
	for _, f := range namedFields {
		collectNames(res[f], &names)
	}
	for _, n := range names {
		for _, c := range cats {
			for _, w := range c.Words {
				if containsWord(n, w) {
					add(c.Code)
				}
			}
		}
	}
	return in, uncovered
}

// collectNames appends the display and text strings of the
// CodeableConcepts (or lists of them) in v.
func collectNames(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		if t, ok := v["text"].(string); ok {
			*out = append(*out, t)
		}
		for _, cd := range list(v, "coding") {
			if d := str(cd, "display"); d != "" {
				*out = append(*out, d)
			}
		}
	case []any:
		for _, x := range v {
			collectNames(x, out)
		}
	}
}

// containsWord reports whether phrase occurs in s as whole words. A phrase
// written in capitals (an abbreviation such as HIV or AIDS) must match
// case and all, so "aids" (hearing aids) does not; others match in any
// case.
func containsWord(s, phrase string) bool {
	if phrase != strings.ToUpper(phrase) {
		s, phrase = strings.ToLower(s), strings.ToLower(phrase)
	}
	for i := 0; ; {
		j := strings.Index(s[i:], phrase)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(phrase)
		if (j == 0 || !isWordByte(s[j-1])) && (end == len(s) || !isWordByte(s[end])) {
			return true
		}
		i = j + 1
	}
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// classifier finds the sensitive categories of a patient's records,
// including those a record takes from what it points to: an Encounter is
// in the categories of its own codes and of the Conditions it names as
// reason or diagnosis; any record that refers to an Encounter (encounter,
// context.encounter) or a Condition (reasonReference, addresses,
// diagnosis.condition, evidence) is in their categories too.
type classifier struct {
	cats []Category
	// linked are the categories of the patient's Encounters and Conditions,
	// by "Type/id".
	linked map[string][]string
}

// newClassifier reads the patient's Encounters and Conditions (as the
// system actor gathering a packet) and works out their categories.
func (s *Service) newClassifier(sys context.Context, patient string) (*classifier, error) {
	c := &classifier{cats: s.categories(), linked: map[string][]string{}}
	encs := map[string]map[string]any{}
	for _, typ := range []string{"Condition", "Encounter"} {
		rs, err := s.searchAll(sys, typ, "patient=Patient/"+patient+"&_count=1000")
		if err != nil {
			return nil, err
		}
		for _, res := range rs {
			tree, err := store.Decode(res.Body)
			if err != nil {
				return nil, err
			}
			in, _ := categoriesOf(tree, c.cats)
			key := typ + "/" + res.ID
			c.linked[key] = in
			if typ == "Encounter" {
				encs[key] = tree
			}
		}
	}
	// An Encounter also takes the categories of the Conditions it names.
	for key, tree := range encs {
		in := c.linked[key]
		for _, ref := range references(tree) {
			if strings.HasPrefix(ref, "Condition/") {
				in = union(in, c.linked[ref])
			}
		}
		c.linked[key] = in
	}
	return c, nil
}

// of returns the categories res falls in, its own and those of the
// Encounters and Conditions it refers to, and whether it carries a
// sensitive label no category covers.
func (c *classifier) of(res map[string]any) ([]string, bool) {
	in, uncovered := categoriesOf(res, c.cats)
	for _, ref := range references(res) {
		in = union(in, c.linked[ref])
	}
	return in, uncovered
}

// linkFields are the elements through which a record points to the
// Encounter it belongs to or the Conditions it is about.
var linkFields = []string{"encounter", "context", "reasonReference", "addresses", "diagnosis", "evidence", "partOf"}

// references returns the Encounter and Condition references in res's
// linkFields (one level of nesting: context.encounter,
// diagnosis.condition, evidence.detail).
func references(res map[string]any) []string {
	var out []string
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["reference"].(string); ok {
				// Relative, versioned or absolute: "Encounter/1",
				// "Encounter/1/_history/2", "https://…/fhir/Encounter/1".
				if i := strings.Index(ref, "/_history/"); i >= 0 {
					ref = ref[:i]
				}
				for _, typ := range []string{"Encounter/", "Condition/"} {
					if i := strings.LastIndex(ref, typ); i >= 0 && (i == 0 || ref[i-1] == '/') {
						out = append(out, ref[i:])
					}
				}
			}
			if depth < 2 {
				for _, x := range v {
					walk(x, depth+1)
				}
			}
		case []any:
			for _, x := range v {
				walk(x, depth)
			}
		}
	}
	for _, f := range linkFields {
		walk(res[f], 0)
	}
	return out
}

func union(a, b []string) []string {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(a, x)
		}
	}
	return a
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

// Sensitive returns the categories of cats a record falls in by what it
// carries itself (labels, codes, document type, how it is named) — not by
// the records it points to, which need the patient's chart (the packet
// uses those too) — and whether it carries a sensitive label none of cats
// covers. Other packages that leave sensitive records out (de-identified
// exports) use it with the site's categories.
func Sensitive(res map[string]any, cats []Category) (in []string, uncovered bool) {
	return categoriesOf(res, cats)
}
