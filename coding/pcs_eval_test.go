package coding_test

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/custodian-him/custodian/coding"
)

// TestPCSFromOperativeNotes scores ICD-10-PCS suggestion on the lines of
// testdata/pcs-operative.tsv (the set the procedure rules were tuned on)
// and testdata/pcs-operative-heldout.tsv (written afterwards, not tuned
// on), each line put under PROCEDURE in an operative report: recall of
// the expected codes, and precision of the PCS codes suggested. Misses
// are logged.
func TestPCSFromOperativeNotes(t *testing.T) {
	for _, c := range []struct {
		file              string
		lines             int
		recall, precision float64
	}{
		{"testdata/pcs-operative.tsv", 40, .9, .9},
		{"testdata/pcs-operative-heldout.tsv", 15, .75, .75},
	} {
		t.Run(c.file, func(t *testing.T) {
			recall, precision, lines := pcsEval(t, c.file)
			if lines < c.lines {
				t.Fatalf("only %d lines", lines)
			}
			if recall < c.recall || precision < c.precision {
				t.Errorf("recall %.3f or precision %.3f under its floor (%.2f, %.2f)", recall, precision, c.recall, c.precision)
			}
		})
	}
}

func pcsEval(t *testing.T, file string) (recall, precision float64, lines int) {
	s := suggester(t)
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var want, hit, suggested, correct int
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		text, codes, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("no codes on %q", line)
		}
		lines++
		note := "OPERATIVE REPORT\nPROCEDURE: " + text + "\nDESCRIPTION: The patient tolerated the procedure well.\n"
		out, err := s.Suggest(note, coding.Options{Setting: coding.Inpatient})
		if err != nil {
			t.Fatal(err)
		}
		expected := map[string]bool{}
		for _, c := range strings.Fields(codes) {
			expected[c] = true
			want++
		}
		var got []string
		for _, sg := range out {
			if sg.System != "icd10pcs" {
				continue
			}
			got = append(got, sg.Code)
			suggested++
			if expected[sg.Code] {
				correct++
				hit++
			}
		}
		for c := range expected {
			if !strings.Contains(" "+strings.Join(got, " ")+" ", " "+c+" ") {
				t.Logf("missed %s in %q (suggested %v)", c, text, got)
			}
		}
	}
	recall, precision = ratio(hit, want), ratio(correct, suggested)
	t.Logf("ICD-10-PCS from %d operative-note lines: recall %.3f (%d of %d), precision %.3f (%d of %d)", lines, recall, hit, want, precision, correct, suggested)
	return recall, precision, lines
}
