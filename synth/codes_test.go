package synth

import (
	"bufio"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCatalogCodes checks that every code the catalog can produce is in
// data/codes.tsv, billable in FY2025 and valid from FY2023 through FY2026.
func TestCatalogCodes(t *testing.T) {
	var used []string
	for i := range chronics {
		used = append(used, chronics[i].code...)
		if chronics[i].ltc != "" {
			used = append(used, chronics[i].ltc)
		}
	}
	for code := range phrases {
		used = append(used, code)
	}
	for code := range procPhrases {
		used = append(used, code)
	}
	for _, im := range imagings {
		used = append(used, im.pcs)
	}
	for _, a := range acuteOffice {
		used = append(used, a.code)
	}
	for bmi := 30.0; bmi < 80; bmi += 0.5 {
		used = append(used, bmiCode(bmi))
	}
	codes := Codes()
	for _, code := range used {
		ci := codes[code]
		switch {
		case ci == nil:
			t.Errorf("%s is not in data/codes.tsv", code)
		case !ci.BillableFY2025:
			t.Errorf("%s is not billable in FY2025", code)
		case ci.ValidFrom > "2022-10-01" || ci.ValidTo < "2026-09-30":
			t.Errorf("%s is valid only %s..%s", code, ci.ValidFrom, ci.ValidTo)
		}
	}
	for _, ci := range codes {
		if !strings.Contains(ci.Code, ".") && ci.System == "cm" && len(ci.Code) > 3 {
			t.Errorf("ICD-10-CM %s is not dotted", ci.Code)
		}
	}
}

// TestCodesMatchSource re-reads the CMS/CDC files the subset was taken
// from (when ../shared/data is present) and checks every row.
func TestCodesMatchSource(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data")
	read := func(path string) map[string][]string {
		f, err := os.Open(filepath.Join(dir, path))
		if err != nil {
			t.Skipf("source data not available: %v", err)
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string][]string{}
		sc := bufio.NewScanner(zr)
		for sc.Scan() {
			fs := strings.Split(sc.Text(), "\t")
			m[fs[0]] = fs
		}
		return m
	}
	cm := read("icd10cm/icd10cm_fy2025_codes.tsv.gz")
	pcs := read("icd10pcs/icd10pcs_fy2025_codes.tsv.gz")
	for _, ci := range Codes() {
		src := cm
		if ci.System == "pcs" {
			src = pcs
		}
		row := src[strings.ReplaceAll(ci.Code, ".", "")]
		if row == nil {
			t.Errorf("%s %s is not in the FY2025 source", ci.System, ci.Code)
			continue
		}
		if (row[2] == "Y") != ci.BillableFY2025 || (row[3] == "Y") != ci.ValidFY2026 || row[4] != ci.Title {
			t.Errorf("%s: codes.tsv says billable=%v fy2026=%v %q; the source says %s %s %q", ci.Code, ci.BillableFY2025, ci.ValidFY2026, ci.Title, row[2], row[3], row[4])
		}
	}
}

func TestNPICheckDigit(t *testing.T) {
	// The published example: 123456789 has check digit 3.
	luhn := func(s string) bool {
		sum := 24
		for i := 0; i < 10; i++ {
			d := int(s[9-i] - '0')
			if i%2 == 1 {
				d *= 2
				if d > 9 {
					d -= 9
				}
			}
			sum += d
		}
		return sum%10 == 0
	}
	if !luhn("1234567893") {
		t.Fatal("the check itself is wrong")
	}
	r := unitRand(1, 0, 0)
	for range 100 {
		if n := npi(r); !luhn(n) || len(n) != 10 {
			t.Errorf("npi %s fails the check digit", n)
		}
	}
}

func TestTypo(t *testing.T) {
	r := unitRand(1, 0, 0)
	for _, s := range []string{"Robert", "Smith", "Li", "Nguyen"} {
		for range 20 {
			if got := typo(r, s); got == s {
				t.Errorf("typo(%q) changed nothing", s)
			}
		}
	}
}

func TestIDsAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	mrns := map[string]bool{}
	for u := range 5000 {
		for slot := range 2 {
			id, m := patientID(7, u, slot), mrn(7, u, slot)
			if seen[id] || mrns[m] {
				t.Fatalf("unit %d slot %d: id or MRN repeats", u, slot)
			}
			seen[id], mrns[m] = true, true
		}
	}
}
