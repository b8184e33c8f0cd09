package codeset_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/codeset"
)

var (
	loadOnce sync.Once
	loaded   *codeset.Set
	loadErr  error
)

// testSet loads the embedded code sets once for the package's tests.
func testSet(tb testing.TB) *codeset.Set {
	tb.Helper()
	loadOnce.Do(func() { loaded, loadErr = codeset.Load() })
	if loadErr != nil {
		tb.Fatal(loadErr)
	}
	return loaded
}

func system(tb testing.TB, id codeset.SystemID) *codeset.CodeSystem {
	tb.Helper()
	cs, err := testSet(tb).System(id)
	if err != nil {
		tb.Fatal(err)
	}
	return cs
}

func date(tb testing.TB, s string) codeset.Date {
	tb.Helper()
	d, err := codeset.ParseDate(s)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func TestCounts(t *testing.T) {
	t.Parallel()
	// The CMS counts of reportable codes per fiscal year (MCE v43.1).
	tests := []struct {
		sys  codeset.SystemID
		on   string
		want int
	}{
		{codeset.ICD10CM, "2023-10-01", 74044},
		{codeset.ICD10CM, "2024-10-01", 74260},
		{codeset.ICD10CM, "2025-10-01", 74719},
		{codeset.ICD10PCS, "2024-10-01", 78948},
		{codeset.ICD10PCS, "2025-10-01", 79115},
		{codeset.ICD10PCS, "2026-04-01", 79193},
	}
	for _, tt := range tests {
		cs := system(t, tt.sys)
		on := date(t, tt.on)
		n := 0
		cs.All(func(c *codeset.Concept) bool {
			if c.Billable(on) {
				n++
			}
			return true
		})
		if n != tt.want {
			t.Errorf("%s on %s: %d reportable codes, want %d", tt.sys, tt.on, n, tt.want)
		}
	}
}

func TestParseSystem(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]codeset.SystemID{
		"http://hl7.org/fhir/sid/icd-10-cm": codeset.ICD10CM,
		"icd10cm":                           codeset.ICD10CM,
		"ICD-10-PCS":                        codeset.ICD10PCS,
		"http://www.cms.gov/Medicare/Coding/ICD10": codeset.ICD10PCS,
		"urn:oid:2.16.840.1.113883.6.90":           codeset.ICD10CM,
	} {
		if got, err := codeset.ParseSystem(in); err != nil || got != want {
			t.Errorf("ParseSystem(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10"} {
		if _, err := codeset.ParseSystem(in); custodian.ErrorCode(err) != custodian.EINVALID {
			t.Errorf("ParseSystem(%q) error %v, want EINVALID", in, err)
		}
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sys      codeset.SystemID
		in, want string // want: the code, or the error code
	}{
		{codeset.ICD10CM, "E119", "E119"},
		{codeset.ICD10CM, "e11.9", "E119"},
		{codeset.ICD10CM, " E11.9 ", "E119"},
		{codeset.ICD10CM, "E11", "E11"},
		{codeset.ICD10CM, "S72.001A", "S72001A"},
		{codeset.ICD10CM, "T36.01A", "T360X1A"}, // placeholder X omitted
		{codeset.ICD10CM, "T36.0X1A", "T360X1A"},
		{codeset.ICD10CM, "E11.99", custodian.ENOTFOUND},
		{codeset.ICD10CM, "Z99.999", custodian.ENOTFOUND},
		{codeset.ICD10CM, "", custodian.EINVALID},
		{codeset.ICD10CM, "11.9", custodian.EINVALID},
		{codeset.ICD10CM, "E1.19", custodian.EINVALID},
		{codeset.ICD10CM, "E11.", custodian.EINVALID},
		{codeset.ICD10CM, "E11.9;DROP", custodian.EINVALID},
		{codeset.ICD10CM, "E11.9.1", custodian.EINVALID},
		{codeset.ICD10PCS, "0DTJ4ZZ", "0DTJ4ZZ"},
		{codeset.ICD10PCS, "odtj4zz", "0DTJ4ZZ"}, // letter O for zero
		{codeset.ICD10PCS, "0DT", "0DT"},
		{codeset.ICD10PCS, "0DTJ4ZZZ", custodian.EINVALID},
		{codeset.ICD10PCS, "0DTJ4Z9", custodian.ENOTFOUND},
	}
	for _, tt := range tests {
		cs := system(t, tt.sys)
		c, err := cs.Lookup(tt.in)
		got := ""
		if err != nil {
			got = custodian.ErrorCode(err)
			if custodian.ErrorMessage(err) == "" {
				t.Errorf("Lookup(%q): error without a message", tt.in)
			}
		} else {
			got = c.Code()
		}
		if got != tt.want {
			t.Errorf("%s Lookup(%q) = %q (%v), want %q", tt.sys, tt.in, got, err, tt.want)
		}
	}
}

func TestConcept(t *testing.T) {
	t.Parallel()
	cm := system(t, codeset.ICD10CM)
	c, err := cm.Lookup("E11.9")
	if err != nil {
		t.Fatal(err)
	}
	if c.Display() != "E11.9" || c.Title() != "Type 2 diabetes mellitus without complications" {
		t.Errorf("E11.9 = %s %q", c.Display(), c.Title())
	}
	if c.Parent().Code() != "E11" || c.Block().ID != "E08-E13" || c.Chapter().ID != "4" {
		t.Errorf("E11.9 hierarchy: parent %s, block %s, chapter %s", c.Parent().Code(), c.Block().ID, c.Chapter().ID)
	}
	e11, _ := cm.Concept("E11")
	if !e11.Header() || len(e11.Children()) < 10 || e11.Billable(0) {
		t.Errorf("E11 should be a header with children")
	}
	// E11's Excludes1 applies to E11.9; the chapter's notes do too.
	var ex1, chapter bool
	for _, n := range c.Notes() {
		if n.Kind == codeset.NoteExcludes1 && n.From == "E11" && strings.Contains(n.Text, "type 1 diabetes mellitus (E10.-)") {
			ex1 = true
			if refs := n.Refs(); len(refs) != 1 || !refs[0].Contains("E1010") || refs[0].Contains("E119") {
				t.Errorf("refs of %q = %v", n.Text, refs)
			}
		}
		if n.From == "chapter 4" {
			chapter = true
		}
	}
	if !ex1 || !chapter {
		t.Errorf("E11.9 notes: inherited Excludes1 %v, chapter notes %v", ex1, chapter)
	}
	// Inclusion terms stay with their code: S72.00's "Fracture of hip NOS"
	// is not a note of S72.001A, but S72's 7th characters and notes are.
	s, _ := cm.Lookup("S72.001A")
	for _, n := range s.Notes() {
		if n.Kind == codeset.NoteInclusion {
			t.Errorf("S72.001A inherited an inclusion term from %s: %q", n.From, n.Text)
		}
	}
	sev := s.SeventhCharacters()
	if len(sev) != 16 || sev[0].Char != 'A' || sev[0].Meaning != "initial encounter for closed fracture" || sev[0].From != "S72" {
		t.Errorf("S72.001A 7th characters: %+v", sev)
	}
	if got := s.NotesOf(codeset.NoteExcludes2); len(got) == 0 {
		t.Errorf("S72.001A has no Excludes2 from S72")
	}
	// MCE attributes change with the date.
	a, _ := cm.Lookup("A18.14")
	if got := a.Attributes(date(t, "2024-09-30")); !slices.Equal(got, []string{"ADULT", "MALE"}) {
		t.Errorf("A18.14 on 2024-09-30: %v", got)
	}
	if got := a.Attributes(date(t, "2024-10-01")); !slices.Equal(got, []string{"ADULT"}) {
		t.Errorf("A18.14 on 2024-10-01: %v", got)
	}
	g, _ := cm.Lookup("G01")
	if !slices.Contains(g.Attributes(0), "MANIF") {
		t.Errorf("G01 is a manifestation code: %v", g.Attributes(0))
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sys    codeset.SystemID
		code   string
		on     string
		status codeset.Status
	}{
		{codeset.ICD10CM, "E11.9", "2025-01-01", codeset.Billable},
		{codeset.ICD10CM, "e119", "", codeset.Billable},
		{codeset.ICD10CM, "E11", "2025-01-01", codeset.Header},
		{codeset.ICD10CM, "E72.53", "2025-09-30", codeset.Billable}, // split in FY2026
		{codeset.ICD10CM, "E72.53", "2025-10-01", codeset.Header},
		{codeset.ICD10CM, "E72.530", "2025-09-30", codeset.NotOnDate}, // added in FY2026
		{codeset.ICD10CM, "E72.530", "2025-10-01", codeset.Billable},
		{codeset.ICD10CM, "U07.1", "2019-12-01", codeset.NotOnDate}, // COVID-19, from 2020-04-01
		{codeset.ICD10CM, "U07.1", "2020-04-01", codeset.Billable},
		{codeset.ICD10CM, "E11.99", "", codeset.Unknown},
		{codeset.ICD10CM, "E1.19", "", codeset.Malformed},
		{codeset.ICD10CM, "E11.9", "2027-01-01", codeset.Unknown}, // beyond the loaded editions
		{codeset.ICD10PCS, "0DTJ4ZZ", "2025-01-01", codeset.Billable},
		{codeset.ICD10PCS, "0DT", "2025-01-01", codeset.Header},
		{codeset.ICD10PCS, "00H033J", "2025-09-30", codeset.NotOnDate},
		{codeset.ICD10PCS, "00H033J", "2025-10-01", codeset.Billable},
	}
	for _, tt := range tests {
		cs := system(t, tt.sys)
		v := cs.Validate(tt.code, date(t, tt.on))
		if v.Status != tt.status {
			t.Errorf("%s Validate(%q, %s) = %s (%s), want %s", tt.sys, tt.code, tt.on, v.Status, v.Message, tt.status)
		}
		if v.Status != codeset.Billable && v.Message == "" {
			t.Errorf("%s Validate(%q, %s): no message", tt.sys, tt.code, tt.on)
		}
	}
}

func TestSubsumes(t *testing.T) {
	t.Parallel()
	cm := system(t, codeset.ICD10CM)
	tests := []struct {
		a, b string
		want codeset.Relation
	}{
		{"E11", "E11.9", codeset.Subsumes},
		{"E11.9", "E11", codeset.SubsumedBy},
		{"e11.9", "E119", codeset.Equivalent},
		{"E11.9", "E10.9", codeset.NotSubsumed},
		{"S72", "S72.001A", codeset.Subsumes},
	}
	for _, tt := range tests {
		if got, err := cm.Subsumes(tt.a, tt.b); err != nil || got != tt.want {
			t.Errorf("Subsumes(%s, %s) = %s, %v; want %s", tt.a, tt.b, got, err, tt.want)
		}
	}
	if _, err := cm.Subsumes("E11", "E11.99"); custodian.ErrorCode(err) != custodian.ENOTFOUND {
		t.Errorf("unknown code: %v", err)
	}
}

func TestExcludes1AndSeventh(t *testing.T) {
	t.Parallel()
	cm := system(t, codeset.ICD10CM)
	get := func(code string) *codeset.Concept {
		c, err := cm.Lookup(code)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		a, b string
		want bool
	}{
		{"E11.9", "E10.9", true},   // E11 Excludes1 type 1 diabetes mellitus (E10.-)
		{"E10.9", "E11.9", true},   // either way round
		{"J18.9", "J84.9", true},   // J18 Excludes1 interstitial pneumonia NOS (J84.9)
		{"E11.9", "I10", false},    // no exclusion
		{"I10", "O10.02", true},    // I10 Excludes1 (O10-O11, O13-O16)
		{"E11.9", "E11.65", false}, // same category
	}
	for _, tt := range tests {
		n, got := get(tt.a).Excludes1Conflict(get(tt.b))
		if got != tt.want {
			t.Errorf("Excludes1Conflict(%s, %s) = %v (%q), want %v", tt.a, tt.b, got, n.Text, tt.want)
		}
	}
	for code, want := range map[string]bool{"S72.001": true, "S72.001A": false, "E11.9": false, "T36.0X1": true} {
		if got := get(code).RequiresSeventh(); got != want {
			t.Errorf("%s RequiresSeventh = %v", code, got)
		}
	}
}

func TestNoteRefs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want []codeset.CodeRange
	}{
		{"gestational diabetes (O24.4-)", []codeset.CodeRange{{Low: "O244", High: "O244"}}},
		{"hypertensive disease complicating pregnancy (O10-O11, O13-O16)", []codeset.CodeRange{{Low: "O10", High: "O11"}, {Low: "O13", High: "O16"}}},
		{"drug-induced interstitial lung disorder (J70.2-J70.4)", []codeset.CodeRange{{Low: "J702", High: "J704"}}},
		{"hypertension (arterial) (benign)", nil},
	}
	for _, tt := range tests {
		got := codeset.Note{Text: tt.text}.Refs()
		if !slices.Equal(got, tt.want) {
			t.Errorf("Refs(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
	r := codeset.CodeRange{Low: "J702", High: "J704"}
	for code, want := range map[string]bool{"J702": true, "J703": true, "J7049": true, "J705": false, "J70": false} {
		if r.Contains(code) != want {
			t.Errorf("%v contains %s = %v", r, code, !want)
		}
	}
}

func TestBelowAbove(t *testing.T) {
	s := testSet(t)
	cm := "http://hl7.org/fhir/sid/icd-10-cm"
	below, over, ok := s.Below(cm, "E11.2", 100)
	if !ok || over {
		t.Fatalf("Below E11.2: ok %v over %v", ok, over)
	}
	want := map[string]bool{"E11.2": true, "E112": true, "E11.21": true, "E11.22": true, "E1122": true, "E11.29": true}
	for _, c := range below {
		delete(want, c)
		if c[:3] != "E11" {
			t.Errorf("Below E11.2 gave %s", c)
		}
	}
	if len(want) != 0 {
		t.Errorf("Below E11.2 lacks %v (got %v)", want, below)
	}
	if _, over, _ := s.Below(cm, "S72", 50); !over {
		t.Error("Below S72 with a limit of 50 did not say it was over")
	}
	above, ok := s.Above(cm, "E11.22")
	if !ok || len(above) != 5 || above[0] != "E11.22" || above[2] != "E11.2" || above[4] != "E11" {
		t.Errorf("Above E11.22 = %v", above)
	}
	for _, bad := range [][2]string{{cm, "Q99.99"}, {"http://snomed.info/sct", "73211009"}} {
		if _, _, ok := s.Below(bad[0], bad[1], 10); ok {
			t.Errorf("Below %v ok", bad)
		}
	}
}

func TestValidOn(t *testing.T) {
	s := testSet(t)
	cm := "http://hl7.org/fhir/sid/icd-10-cm"
	day := func(v string) time.Time { d, _ := time.Parse("2006-01-02", v); return d }
	for _, c := range []struct {
		system, code, on string
		valid, ok        bool
	}{
		{cm, "E11.9", "2025-03-01", true, true},
		{cm, "E11", "2025-03-01", false, true},    // a header
		{cm, "Q99.99", "2025-03-01", false, true}, // no such code
		{cm, "E11.9", "1990-01-01", false, false}, // before ICD-10-CM was in use here
		{"http://snomed.info/sct", "44054006", "2025-03-01", false, false},
	} {
		valid, ok := s.ValidOn(c.system, c.code, day(c.on))
		if valid != c.valid || ok != c.ok {
			t.Errorf("ValidOn(%s, %s) = %v %v, want %v %v", c.code, c.on, valid, ok, c.valid, c.ok)
		}
	}
}
