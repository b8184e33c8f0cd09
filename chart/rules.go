package chart

import (
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
)

//go:embed rules.json
var defaultRules []byte

// DefaultRules returns the rule set Custodian ships (rules.json), which a
// site copies and edits.
func DefaultRules() *RuleSet {
	rs, err := ParseRules(defaultRules)
	if err != nil {
		panic("chart: the embedded rules.json is invalid: " + err.Error())
	}
	return rs
}

// The built-in checks a rule may name (Rule.Check).
const (
	CheckHP               = "history-and-physical"
	CheckHPBeforeSurgery  = "history-and-physical-before-surgery"
	CheckProgressNotes    = "progress-notes"
	CheckOperativeNote    = "operative-note"
	CheckConsent          = "consent"
	CheckDischargeSummary = "discharge-summary"
	CheckAuthentication   = "authentication"
	CheckCosignature      = "cosignature"
	CheckEncounterData    = "encounter-data"
	CheckDates            = "dates"
	CheckPlausibleValues  = "plausible-values"
	CheckCodeSexAge       = "code-sex-age"
	CheckCodeValidity     = "code-validity"
	CheckDxDocumented     = "diagnosis-documented"
	CheckDxCoded          = "diagnosis-coded"
)

var checks = []string{CheckHP, CheckHPBeforeSurgery, CheckProgressNotes, CheckOperativeNote, CheckConsent,
	CheckDischargeSummary, CheckAuthentication, CheckCosignature, CheckEncounterData, CheckDates,
	CheckPlausibleValues, CheckCodeSexAge, CheckCodeValidity, CheckDxDocumented, CheckDxCoded}

// RuleSet is a site's chart rules: the JSON of rules.json.
type RuleSet struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	// Timezone is the hospital's time zone for calendar days (an IANA
	// name or ±hh:mm); "" means the offset written in each admission time.
	Timezone string `json:"timezone"`
	// RecordCompleteDays is how long after discharge the record must be
	// complete; a record incomplete past it is delinquent (CMS 42 CFR
	// 482.24(c)(4)(viii) says 30 days).
	RecordCompleteDays int `json:"recordCompleteDays"`
	// Documents maps a kind of note to the note types (system|code) that
	// count as it.
	Documents map[string][]string `json:"documents"`
	// SurgicalCategories are Procedure.category codings (system|code) that
	// need an operative report and a consent.
	SurgicalCategories []string `json:"surgicalCategories"`
	// ResidentRoles and AttendingRoles are PractitionerRole.code codes.
	ResidentRoles  []string `json:"residentRoles"`
	AttendingRoles []string `json:"attendingRoles"`
	Rules          []*Rule  `json:"rules"`

	loc *time.Location
}

// Rule is one chart rule.
type Rule struct {
	ID    string `json:"id"`
	Check string `json:"check"`
	// Disabled turns the rule off without deleting it.
	Disabled bool `json:"disabled,omitempty"`
	// Classes are the Encounter.class codes the rule applies to.
	Classes []string `json:"classes"`
	// Limit is the time allowed (for example 24h after admission); its
	// meaning depends on Check.
	Limit string `json:"limit,omitempty"`
	// Owner is who is assigned the deficiency: attending, author,
	// performer or none.
	Owner string `json:"owner"`
	Title string `json:"title"`
	// Clear says what clears a deficiency of this rule.
	Clear     string       `json:"clear"`
	Ranges    []ValueRange `json:"ranges,omitempty"`
	CodeEdits []CodeEdit   `json:"codeEdits,omitempty"`
	Terms     []Term       `json:"terms,omitempty"`

	limit time.Duration
}

// ValueRange is the plausible range of a result (plausible-values).
type ValueRange struct {
	Code  string  `json:"code"` // system|code
	Unit  string  `json:"unit"` // UCUM code the range is in
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Label string  `json:"label"`
}

// CodeEdit limits codes starting with one of Prefixes to a sex or an age
// range (code-sex-age).
type CodeEdit struct {
	System   string   `json:"system"`
	Prefixes []string `json:"prefixes"`
	Sex      string   `json:"sex,omitempty"` // male or female
	MinAge   *int     `json:"minAge,omitempty"`
	MaxAge   *int     `json:"maxAge,omitempty"`
	Label    string   `json:"label"`
}

// Term is a diagnosis as written, with the ICD-10-CM code prefixes that
// code it (diagnosis-coded).
type Term struct {
	Term  string   `json:"term"`
	Codes []string `json:"codes"`
}

// ParseRules reads and checks a rule set. Problems are EINVALID errors
// naming the rule.
func ParseRules(b []byte) (*RuleSet, error) {
	var rs RuleSet
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rs); err != nil {
		return nil, custodian.Errorf(custodian.EINVALID, "chart rules: %v", err)
	}
	if err := rs.check(); err != nil {
		return nil, err
	}
	return &rs, nil
}

func (rs *RuleSet) check() error {
	bad := func(format string, a ...any) error {
		return custodian.Errorf(custodian.EINVALID, "chart rules: "+format, a...)
	}
	if rs.Name == "" || rs.Version == "" {
		return bad("name and version are required")
	}
	if rs.RecordCompleteDays <= 0 {
		return bad("recordCompleteDays must be positive")
	}
	if rs.Timezone != "" {
		loc, err := parseZone(rs.Timezone)
		if err != nil {
			return bad("timezone %q: %v", rs.Timezone, err)
		}
		rs.loc = loc
	}
	seen := map[string]bool{}
	for i, r := range rs.Rules {
		if r == nil || r.ID == "" {
			return bad("rule %d has no id", i+1)
		}
		if seen[r.ID] {
			return bad("rule id %q is used twice", r.ID)
		}
		seen[r.ID] = true
		if !slices.Contains(checks, r.Check) {
			return bad("rule %q: unknown check %q (known: %s)", r.ID, r.Check, strings.Join(checks, ", "))
		}
		switch r.Owner {
		case "attending", "author", "performer", "none":
		default:
			return bad("rule %q: owner must be attending, author, performer or none", r.ID)
		}
		if r.Limit != "" {
			d, err := time.ParseDuration(r.Limit)
			if err != nil || d < 0 {
				return bad("rule %q: limit %q is not a duration such as 24h", r.ID, r.Limit)
			}
			r.limit = d
		}
		for _, v := range r.Ranges {
			if !strings.Contains(v.Code, "|") || v.Min >= v.Max {
				return bad("rule %q: range %q needs system|code and min < max", r.ID, v.Code)
			}
		}
		for _, e := range r.CodeEdits {
			if e.System == "" || len(e.Prefixes) == 0 || (e.Sex == "" && e.MinAge == nil && e.MaxAge == nil) {
				return bad("rule %q: a code edit needs a system, prefixes and a sex or an age range", r.ID)
			}
			if e.Sex != "" && e.Sex != "male" && e.Sex != "female" {
				return bad("rule %q: code edit sex must be male or female", r.ID)
			}
		}
		for _, t := range r.Terms {
			if strings.TrimSpace(t.Term) == "" || len(t.Codes) == 0 {
				return bad("rule %q: a term needs its text and codes", r.ID)
			}
		}
	}
	return nil
}

func parseZone(s string) (*time.Location, error) {
	if len(s) == 6 && (s[0] == '+' || s[0] == '-') && s[3] == ':' {
		t, err := time.Parse("-07:00", s)
		if err != nil {
			return nil, err
		}
		_, off := t.Zone()
		return time.FixedZone(s, off), nil
	}
	return time.LoadLocation(s)
}

// Rule returns the rule with id, or nil.
func (rs *RuleSet) Rule(id string) *Rule {
	for _, r := range rs.Rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// indexKey sums up what of the rules decides what an Index keeps: the
// plausible ranges, the surgical categories and the discharge summary
// types. Two rule sets with the same key need the same index.
func (rs *RuleSet) indexKey() string {
	var ranges []ValueRange
	for _, r := range rs.Rules {
		ranges = append(ranges, r.Ranges...)
	}
	b, _ := json.Marshal([]any{ranges, rs.SurgicalCategories, rs.Documents[docDischarge]})
	return string(b)
}

// JSON returns the rule set as indented JSON, the form a site edits.
func (rs *RuleSet) JSON() []byte {
	b, _ := json.MarshalIndent(rs, "", "  ")
	return b
}

// recordLimit is how long after discharge the record must be complete.
func (rs *RuleSet) recordLimit() time.Duration {
	return time.Duration(rs.RecordCompleteDays) * 24 * time.Hour
}

// RulesLibraryID is the id of the Library that holds a site's active rule
// set; the store's versions of it are the rule set's history.
const RulesLibraryID = "chart-rules"

// Library returns the rule set as a FHIR Library resource: the rules'
// JSON is its content, its name, version and title those of the set.
func (rs *RuleSet) Library() map[string]any {
	return map[string]any{
		"resourceType": "Library",
		"id":           RulesLibraryID,
		"url":          "https://custodian.example/fhir/Library/" + RulesLibraryID,
		"name":         libraryName(rs.Name),
		"version":      rs.Version,
		"title":        rs.Title,
		"status":       "active",
		"type": map[string]any{"coding": []any{map[string]any{
			"system": "http://terminology.hl7.org/CodeSystem/library-type", "code": "logic-library"}}},
		"description": rs.Description,
		"content": []any{map[string]any{
			"contentType": "application/json",
			"title":       "Chart rules",
			"data":        base64.StdEncoding.EncodeToString(rs.JSON()),
		}},
	}
}

// libraryName makes a computer-friendly Library.name from a rule set name.
func libraryName(s string) string {
	var b strings.Builder
	up := true
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z':
			if up {
				c -= 'a' - 'A'
			}
			b.WriteRune(c)
			up = false
		case c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && b.Len() > 0:
			b.WriteRune(c)
			up = false
		default:
			up = true
		}
	}
	if b.Len() == 0 {
		return "ChartRules"
	}
	return b.String()
}

// RulesFromLibrary reads the rule set out of a Library's JSON body.
func RulesFromLibrary(body []byte) (*RuleSet, error) {
	var lib struct {
		Content []struct {
			ContentType string `json:"contentType"`
			Data        string `json:"data"`
		} `json:"content"`
	}
	if err := json.Unmarshal(body, &lib); err != nil {
		return nil, custodian.Errorf(custodian.EINVALID, "chart rules library: %v", err)
	}
	for _, c := range lib.Content {
		if c.ContentType != "application/json" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(c.Data)
		if err != nil {
			return nil, custodian.Errorf(custodian.EINVALID, "chart rules library: content is not base64")
		}
		return ParseRules(b)
	}
	return nil, custodian.Errorf(custodian.EINVALID, "chart rules library has no application/json content")
}

func (r *Rule) applies(class string) bool {
	return !r.Disabled && slices.Contains(r.Classes, class)
}

func (r *Rule) String() string { return fmt.Sprintf("%s (%s)", r.ID, r.Title) }
