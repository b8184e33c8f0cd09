package drg

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"os"
	"strings"
	"testing"
)

// testCase is one row of testdata/msdrg_v431_v420_testcases.tsv.gz.
type testCase struct {
	line    int
	f       []string
	version string
}

func readTestCases(t testing.TB) []testCase {
	f, err := os.Open("testdata/msdrg_v431_v420_testcases.tsv.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(z)
	var out []testCase
	n := 0
	for sc.Scan() {
		n++
		if n == 1 {
			continue
		}
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) != 21 {
			t.Fatalf("line %d: %d columns", n, len(fs))
		}
		out = append(out, testCase{line: n, f: fs, version: fs[1]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCMSAgreement groups every claim of the CMS grouper's test cases and
// compares the final DRG, MDC and return code (and reports the initial DRG
// and the HAC status) with the CMS grouper's output.
func TestCMSAgreement(t *testing.T) {
	cases := readTestCases(t)
	g := New()
	var c Claim
	var r Result
	type count struct{ ok, n int }
	var final, initial, hac, finalSev, initialSev count
	perVersion := map[string]*count{}
	var bad []string
	for _, tc := range cases {
		f := tc.f
		if err := c.ParseFields(f[2], f[3], f[4], f[5], f[6], f[7]); err != nil {
			t.Fatalf("line %d: %v", tc.line, err)
		}
		if err := g.GroupInto(&c, Options{Version: tc.version}, &r); err != nil {
			t.Fatalf("line %d: %v", tc.line, err)
		}
		pv := perVersion[tc.version]
		if pv == nil {
			pv = &count{}
			perVersion[tc.version] = pv
		}
		pv.n++
		final.n++
		got := fmt.Sprintf("%d/%d/%s", r.Final.MDC, r.Final.DRG, r.Final.Return)
		want := fmt.Sprintf("%s/%s/%s", f[13], f[14], f[15])
		if got == want {
			final.ok++
			pv.ok++
		} else {
			bad = append(bad, fmt.Sprintf("%s v%s age=%s sex=%s ds=%s pdx=%s sdx=%s pr=%s: got %s want %s (initial got %d want %s)",
				f[0], tc.version, f[2], f[3], f[4], f[5], f[6], f[7], got, want, r.Initial.DRG, f[9]))
		}
		initial.n++
		if fmt.Sprintf("%d/%d/%s", r.Initial.MDC, r.Initial.DRG, r.Initial.Return) == fmt.Sprintf("%s/%s/%s", f[8], f[9], f[10]) {
			initial.ok++
		}
		hac.n++
		if r.HACStatus.String() == f[18] {
			hac.ok++
		}
		finalSev.n++
		if r.Final.Severity.String() == f[17] {
			finalSev.ok++
		}
		initialSev.n++
		if r.Initial.Severity.String() == f[12] {
			initialSev.ok++
		}
	}
	pct := func(c count) string { return fmt.Sprintf("%d/%d (%.2f%%)", c.ok, c.n, 100*float64(c.ok)/float64(c.n)) }
	t.Logf("final MDC+DRG+return code: %s", pct(final))
	for v, c := range perVersion {
		t.Logf("  version %s: %s", v, pct(*c))
	}
	t.Logf("initial MDC+DRG+return code: %s", pct(initial))
	t.Logf("HAC status: %s", pct(hac))
	t.Logf("initial severity: %s; final severity: %s", pct(initialSev), pct(finalSev))
	for i, b := range bad {
		if i == 40 {
			t.Logf("… and %d more", len(bad)-40)
			break
		}
		t.Log(b)
	}
	// The target is every claim. One v42.0 claim (420-011876: four thoracic
	// fusion codes that CMS combines into a "9 or more vertebrae" cluster)
	// still disagrees: the procedure-cluster definitions are not in the
	// shared tables. The threshold is the agreement reached; it fails on
	// any new disagreement.
	const minAgree = 13955
	if final.ok < minAgree {
		t.Errorf("final agreement %s is below %d claims: %d claims disagree with the CMS grouper", pct(final), minAgree, len(bad))
	}
}
