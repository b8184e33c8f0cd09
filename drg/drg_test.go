package drg

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
)

func TestFormula(t *testing.T) {
	t.Parallel()
	tb := &table{attrIDs: map[string]uint16{}}
	var c sets
	c.pdx.set(tb.attr("p"))
	c.any.set(tb.attr("p"))
	c.sdx.set(tb.attr("s"))
	c.any.set(tb.attr("s"))
	c.any.set(tb.attr("proc"))
	tests := []struct {
		text string
		sev  Severity
		want bool
	}{
		{"proc", NonCC, true},
		{"missing", NonCC, false},
		{"PDX:p", NonCC, true},
		{"PDX:s", NonCC, false},
		{"SDX:s & ANY:p", NonCC, true},
		{"SDX:p", NonCC, false},
		{"~proc", NonCC, false},
		{"~missing & proc", NonCC, true},
		{"missing & proc | p", NonCC, true},    // & binds tighter than |
		{"missing & (proc | p)", NonCC, false}, // parentheses
		{"MCC", MCC, true},
		{"CC", MCC, false}, // CC means exactly CC
		{"(MCC | CC) & proc", CC, true},
		{"~~proc", NonCC, true},
	}
	for _, tt := range tests {
		nodes, root, err := compile(tt.text, tb)
		if err != nil {
			t.Errorf("%q: %v", tt.text, err)
			continue
		}
		if got := eval(nodes, root, &c, tt.sev); got != tt.want {
			t.Errorf("%q with %s = %v, want %v", tt.text, tt.sev, got, tt.want)
		}
	}
	for _, bad := range []string{"", "(proc", "proc &", "proc)", "& proc", "XYZ:proc", "proc proc"} {
		if _, _, err := compile(bad, tb); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}

func TestVersions(t *testing.T) {
	t.Parallel()
	if vs := Versions(); vs[len(vs)-1].Name != CurrentVersion {
		t.Errorf("CurrentVersion %s is not the newest version %s", CurrentVersion, vs[len(vs)-1].Name)
	}
	for _, tt := range []struct{ in, want string }{
		{"v43.1", "v43.1"}, {"43.1", "v43.1"}, {"431", "v43.1"}, {"V42.0", "v42.0"}, {"42", "v42.0"}, {"v41.0", "v41.0"},
	} {
		v, err := LookupVersion(tt.in)
		if err != nil || v.Name != tt.want {
			t.Errorf("LookupVersion(%q) = %v, %v; want %s", tt.in, v.Name, err, tt.want)
		}
	}
	if _, err := LookupVersion("v40.0"); custodian.ErrorCode(err) != custodian.EINVALID {
		t.Errorf("v40.0: %v", err)
	}
	for _, tt := range []struct{ date, want string }{
		{"2023-10-01", "v41.0"}, {"2024-09-30", "v41.0"}, {"2024-10-01", "v42.0"}, {"2026-03-31", "v43.0"}, {"2026-04-01", "v43.1"}, {"2026-09-30", "v43.1"},
	} {
		d, _ := time.Parse(time.DateOnly, tt.date)
		v, err := VersionFor(d)
		if err != nil || v.Name != tt.want {
			t.Errorf("VersionFor(%s) = %v, %v; want %s", tt.date, v.Name, err, tt.want)
		}
	}
	for _, d := range []string{"2023-09-30", "2026-10-01"} {
		day, _ := time.Parse(time.DateOnly, d)
		if _, err := VersionFor(day); err == nil || !strings.Contains(err.Error(), "--version") {
			t.Errorf("VersionFor(%s): %v", d, err)
		}
	}
}

func TestParseFieldsErrors(t *testing.T) {
	t.Parallel()
	var c Claim
	for _, tt := range []struct{ age, sex, ds, pdx, sdx, pr, want string }{
		{"x", "M", "1", "I214:Y", "", "", "age"},
		{"60", "Q", "1", "I214:Y", "", "", "sex"},
		{"60", "M", "home", "I214:Y", "", "", "discharge status"},
		{"60", "M", "1", "", "", "", "principal diagnosis is missing"},
		{"60", "M", "1", "I21.4:Y", "", "", "not an ICD-10-CM code"},
		{"60", "M", "1", "I214:Z", "", "", "POA indicator"},
		{"60", "M", "1", "I214:Y", "N179:Y|bad code:N", "", "not an ICD-10-CM code"},
		{"60", "M", "1", "I214:Y", "", "02703DZ|0270", ""},
		{"60", "M", "1", "I214:Y", "", "02703DZ|x", "not an ICD-10-PCS code"},
	} {
		err := c.ParseFields(tt.age, tt.sex, tt.ds, tt.pdx, tt.sdx, tt.pr)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v", tt, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || custodian.ErrorCode(err) != custodian.EINVALID):
			t.Errorf("%+v: err = %v, want %q", tt, err, tt.want)
		}
	}
}

func group(t *testing.T, age int, sex byte, ds int, pdx string, sdx []string, procs ...string) *Result {
	t.Helper()
	c := Claim{Age: age, Sex: sex, DischargeStatus: ds}
	var err error
	if c.PDx, err = parseDiagnosis(pdx); err != nil {
		t.Fatal(err)
	}
	for _, s := range sdx {
		d, err := parseDiagnosis(s)
		if err != nil {
			t.Fatal(err)
		}
		c.SDx = append(c.SDx, d)
	}
	c.Procedures = procs
	r, err := New().Group(&c, Options{Version: "v43.1", Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestGroupingLogic(t *testing.T) {
	t.Parallel()
	// The CC of S82202B is excluded by principal diagnosis M84575A (CMS
	// test claim 431-000123): DRG 017, not 016.
	r := group(t, 30, 'F', 1, "M84575A:Y", []string{"S82202B:Y"}, "30243G0")
	if r.Final.DRG != 17 || r.Explanation.Diagnoses[1].Reason != "CC/MCC excluded by the principal diagnosis" || r.Explanation.Diagnoses[1].CountsInitial {
		t.Errorf("CC exclusion: DRG %d, %+v", r.Final.DRG, r.Explanation.Diagnoses[1])
	}
	if p := r.Explanation.Procedures[0]; p.AffectsDRG != "BOTH" || strings.Join(p.Attributes, ",") != "autobmt" {
		t.Errorf("procedure: %+v", p)
	}

	// Sex-dependent MDC: A5400 is MDC 12 for a man, 13 for a woman, and an
	// invalid sex without one.
	if r := group(t, 40, 'M', 1, "A5400:Y", nil); r.Final.MDC != 12 {
		t.Errorf("male A5400: MDC %d", r.Final.MDC)
	}
	if r := group(t, 40, 'F', 1, "A5400:Y", nil); r.Final.MDC != 13 {
		t.Errorf("female A5400: MDC %d", r.Final.MDC)
	}
	if r := group(t, 40, 'U', 1, "A5400:Y", nil); r.Final.DRG != 999 || r.Final.Return != InvalidSex {
		t.Errorf("unknown sex A5400: %d %s", r.Final.DRG, r.Final.Return)
	}

	// An MCC that counts only for the living (I469, cardiac arrest):
	// alive, pneumonia J189 groups with MCC; died, without.
	alive := group(t, 70, 'M', 1, "J189:Y", []string{"I469:Y"})
	died := group(t, 70, 'M', 20, "J189:Y", []string{"I469:Y"})
	if alive.Final.Severity != MCC || died.Final.Severity == MCC || alive.Final.DRG == died.Final.DRG {
		t.Errorf("alive %d %s, died %d %s", alive.Final.DRG, alive.Final.Severity, died.Final.DRG, died.Final.Severity)
	}
	if died.Explanation.Diagnoses[1].Reason != "an MCC only when the patient is discharged alive" {
		t.Errorf("died: %+v", died.Explanation.Diagnoses[1])
	}
	// The same with a discharge status that does not exist is ungroupable.
	if r := group(t, 70, 'M', 99, "J189:Y", []string{"I469:Y"}); r.Final.Return != InvalidDischargeStatus || r.Final.DRG != 999 {
		t.Errorf("status 99: %d %s", r.Final.DRG, r.Final.Return)
	}

	// HACs (CMS test claim 431-017861): two falls-and-trauma codes not
	// present on admission lose their severity in the final DRG.
	r = group(t, 70, 'F', 1, "S92315A:Y", []string{"S32491B:N", "S62641A:N"})
	if r.Initial.DRG != 562 || r.Final.DRG != 563 || r.HACStatus != HACChanges {
		t.Errorf("HAC: initial %d final %d %s", r.Initial.DRG, r.Final.DRG, r.HACStatus)
	}
	if d := r.Explanation.Diagnoses[1]; len(d.HACs) != 1 || d.HACs[0] != 5 || !d.CountsInitial || d.CountsFinal {
		t.Errorf("HAC diagnosis: %+v", d)
	}
	// The same code with POA exempt (1) makes the final grouping 999.
	r = group(t, 70, 'F', 1, "S92531S:Y", []string{"S14114A:1", "K06023:N"})
	if r.Final.DRG != 999 || r.Final.Return != HACMissingOnePOA || r.HACStatus != HACUngroupable || r.Initial.DRG != 559 {
		t.Errorf("HAC POA 1: initial %d final %d %s %s", r.Initial.DRG, r.Final.DRG, r.Final.Return, r.HACStatus)
	}

	// Invalid and unacceptable principal diagnoses.
	if r := group(t, 60, 'M', 1, "I21:Y", nil); r.Final.Return != InvalidPDX || r.Final.DRG != 999 || r.Final.MDC != 0 {
		t.Errorf("I21: %+v", r.Final)
	}
	if r := group(t, 60, 'M', 1, "V9135XA:Y", nil); r.Final.Return != DxCannotBePDX || r.Final.DRG != 999 {
		t.Errorf("V9135XA: %+v", r.Final)
	}
}

func TestGroupDoesNotAllocate(t *testing.T) {
	g := New()
	var c Claim
	if err := c.ParseFields("70", "F", "1", "S92315A:Y", "S32491B:N|S62641A:N|I469:Y", "0SRB0J9|30243G0"); err != nil {
		t.Fatal(err)
	}
	var r Result
	opt := Options{Version: "v43.1"}
	if err := g.GroupInto(&c, opt, &r); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { g.GroupInto(&c, opt, &r) }); n != 0 {
		t.Errorf("GroupInto allocates %.1f times per claim", n)
	}
}

func TestReadWeights(t *testing.T) {
	t.Parallel()
	csv := "Table 5 (sample)\n" +
		"MS-DRG,FY 2026 Final Rule Post-Acute DRG,FY 2026 Final Rule Special Pay DRG,MDC,TYPE,MS-DRG Title,Weights,Geometric mean LOS,Arithmetic mean LOS\n" +
		"001,No,No,PRE,SURG,\"HEART TRANSPLANT OR IMPLANT OF HEART ASSIST SYSTEM WITH MCC\",26.0000,30.1,37.5\n" +
		"552,Yes,No,08,MED,MEDICAL BACK PROBLEMS WITHOUT MCC,0.9000,3.1,3.8\n"
	w, err := ReadWeights(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if x, ok := w.Lookup(1); !ok || x.Weight != 26 || x.AMLOS != 37.5 || x.Title != "HEART TRANSPLANT OR IMPLANT OF HEART ASSIST SYSTEM WITH MCC" || x.Type != "SURG" {
		t.Errorf("DRG 001: %+v", x)
	}
	if x, _ := w.Lookup(552); !x.PostAcute || x.SpecialPay || x.GMLOS != 3.1 {
		t.Errorf("DRG 552: %+v", x)
	}
	if _, ok := w.Lookup(999); ok || w.Len() != 2 {
		t.Errorf("999 found or %d rows", w.Len())
	}
	var none *Weights
	if _, ok := none.Lookup(1); ok {
		t.Error("nil weights found a DRG")
	}
	for _, tt := range []struct{ in, want string }{
		{"no header\n001\t1\t2\t3\n", "no Table 5 header"},
		{"MS-DRG\tWeights\tGMLOS\tAMLOS\n", "no DRG rows"},
		{"MS-DRG\tWeights\tGMLOS\tAMLOS\n001\tabc\t1\t1\n", "weights line 2: DRG 001: weight"},
		{"MS-DRG\tWeights\tGMLOS\tAMLOS\nX1\t1\t1\t1\n", "weights line 2: \"X1\" is not an MS-DRG"},
		{"MS-DRG\tWeights\tGMLOS\tAMLOS\n001\t1\t1\t1\n001\t1\t1\t1\n", "line 3: DRG 001 appears twice"},
	} {
		_, err := ReadWeights(strings.NewReader(tt.in))
		var e *custodian.Error
		if !errors.As(err, &e) || e.Code != custodian.EINVALID || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.in, err, tt.want)
		}
	}
}
