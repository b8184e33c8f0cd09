package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func runDRG(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &DRGCommand{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}
	err = c.Run(context.Background(), args)
	return out.String(), errb.String(), err
}

func TestDRGGroupTSV(t *testing.T) {
	t.Parallel()
	in := "id\tage\tsex\tdischarge_status\tpdx\tsdx\tprocedures\n" +
		"a\t73\tM\t1\tM4056:Y\tS82853R:Y\t\n" + // CMS: MDC 8, DRG 552
		"b\t48\tF\t1\tS90474A:Y\t\t\n" + // CMS: MDC 9, DRG 605
		"c\t60\tM\t1\tI21:Y\t\t\n" + // not a billable code: DRG 999, INVALID_PDX
		"d\tsixty\tM\t1\tI214:Y\t\t\n" + // a bad row
		"e\t60\tM\t1\tV9135XA:Y\t\t\n" // an external cause: DX_CANNOT_BE_PDX
	out, errs, err := runDRG(t, in, "group", "--version", "v43.1", "-")
	if err == nil || !strings.Contains(err.Error(), "1 of 5 claims could not be grouped") {
		t.Errorf("err = %v, want 1 of 5 claims not grouped", err)
	}
	if !strings.Contains(errs, `line 5: claim d: age "sixty" is not a whole number of years`) {
		t.Errorf("stderr lacks the bad row's line number and reason:\n%s", errs)
	}
	if !strings.Contains(errs, "no weights table loaded") {
		t.Errorf("stderr does not say no weights table is loaded:\n%s", errs)
	}
	want := "id\tfinal_mdc\tfinal_drg\tfinal_grc\tfinal_severity\tinitial_drg\thac_status\n" +
		"a\t8\t552\tOK\tNON_CC\t552\tNOT_APPLICABLE\n" +
		"b\t9\t605\tOK\tNON_CC\t605\tNOT_APPLICABLE\n" +
		"c\t0\t999\tINVALID_PDX\tNON_CC\t999\tNOT_APPLICABLE\n" +
		"e\t0\t999\tDX_CANNOT_BE_PDX\tNON_CC\t999\tNOT_APPLICABLE\n"
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}

func TestDRGGroupJSONWithWeights(t *testing.T) {
	t.Parallel()
	// No header: the columns are positional. v43.1 claim 431-000014 of the
	// CMS test cases: an autologous bone marrow transplant with a CC.
	in := "x1\t40\tF\t1\tS2094XS:Y\tI7581:Y\tXW143H9\n"
	out, _, err := runDRG(t, in, "group", "--version", "43.1", "--format", "json", "--weights", "testdata/drg_table5_sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ID       string `json:"id"`
		FinalDRG string `json:"final_drg"`
		Weight   *struct {
			RelativeWeight float64 `json:"relative_weight"`
			GMLOS          float64 `json:"gmlos"`
		} `json:"weight"`
		Explanation struct {
			Final struct {
				Formula     string `json:"formula"`
				FormulaMDC  int    `json:"formulaMDC"`
				FormulaRank int    `json:"formulaRank"`
			} `json:"final"`
			Diagnoses []struct {
				Code          string `json:"code"`
				CountsInitial bool   `json:"countsInitial"`
			} `json:"diagnoses"`
			Procedures []struct {
				Code       string   `json:"code"`
				AffectsDRG string   `json:"affectsDRG"`
				Attributes []string `json:"attributes"`
			} `json:"procedures"`
		} `json:"explanation"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.ID != "x1" || got.FinalDRG != "016" {
		t.Errorf("id %q DRG %q, want x1 016", got.ID, got.FinalDRG)
	}
	if got.Weight == nil || got.Weight.RelativeWeight != 5.1234 || got.Weight.GMLOS != 15.2 {
		t.Errorf("weight = %+v, want 5.1234 and GMLOS 15.2", got.Weight)
	}
	e := got.Explanation
	if e.Final.Formula != "(MCC | CC) & autobmt" || e.Final.FormulaMDC != 0 || e.Final.FormulaRank != 15 {
		t.Errorf("formula = %+v", e.Final)
	}
	if len(e.Diagnoses) != 2 || !e.Diagnoses[1].CountsInitial {
		t.Errorf("the CC I7581 should count: %+v", e.Diagnoses)
	}
	if len(e.Procedures) != 1 || e.Procedures[0].AffectsDRG != "BOTH" || strings.Join(e.Procedures[0].Attributes, ",") != "autobmt" {
		t.Errorf("procedures = %+v", e.Procedures)
	}
}

func TestDRGWeights(t *testing.T) {
	t.Parallel()
	out, _, err := runDRG(t, "", "weights")
	if err != nil || !strings.Contains(out, "no weights table loaded") {
		t.Errorf("without a file: %v %q", err, out)
	}
	out, _, err = runDRG(t, "", "weights", "--file", "testdata/drg_table5_sample.txt", "--drg", "552")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "3 DRGs read") || !strings.Contains(out, "552\t0.9000\t3.1\t3.8\tMEDICAL BACK PROBLEMS WITHOUT MCC") || strings.Contains(out, "605\t") {
		t.Errorf("output:\n%s", out)
	}
	if _, _, err := runDRG(t, "", "weights", "--file", "drg_test.go"); err == nil || !strings.Contains(err.Error(), "no Table 5 header") {
		t.Errorf("a file that is not Table 5: %v", err)
	}
	if _, _, err := runDRG(t, "", "group", "--version", "v39"); err == nil || !strings.Contains(err.Error(), "unknown MS-DRG version") {
		t.Errorf("unknown version: %v", err)
	}
}
