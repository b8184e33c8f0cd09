// Command gencodes fills in data/codes.tsv, the generator's curated
// ICD-10-CM and ICD-10-PCS subset, from the CMS/CDC FY2025 code files and
// the MCE tables in ../shared/data. It keeps the file's first two columns
// (system, code) and rewrites the others.
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	shared := flag.String("shared", "../../shared/data", "the shared data directory")
	codes := flag.String("codes", "data/codes.tsv", "the file to update")
	flag.Parse()
	cm := readTSV(filepath.Join(*shared, "icd10cm/icd10cm_fy2025_codes.tsv.gz"))
	pcs := readTSV(filepath.Join(*shared, "icd10pcs/icd10pcs_fy2025_codes.tsv.gz"))
	mceDx := readMCE(filepath.Join(*shared, "mce/mce_i10_dx_master.tsv.gz"))
	mcePcs := readMCE(filepath.Join(*shared, "mce/mce_i10_pcs_master.tsv.gz"))
	in, err := os.ReadFile(*codes)
	if err != nil {
		log.Fatal(err)
	}
	var out strings.Builder
	out.WriteString("system\tcode\tbillable_fy2025\tvalid_fy2026\tvalid_from\tvalid_to\tmce_attributes_fy2025\tsex\ttitle\n")
	for _, l := range strings.Split(string(in), "\n") {
		if l == "" || strings.HasPrefix(l, "system\t") {
			continue
		}
		f := strings.Split(l, "\t")
		sys, code := f[0], f[1]
		key := strings.ReplaceAll(code, ".", "")
		var row []string
		var rows [][3]string
		switch sys {
		case "cm":
			row, rows = cm[key], mceDx[key]
		case "pcs":
			row, rows = pcs[key], mcePcs[key]
		default:
			log.Fatalf("unknown system %q", sys)
		}
		if row == nil || rows == nil {
			log.Fatalf("%s %s: not in the FY2025 files or the MCE", sys, code)
		}
		var billable, v26, title string
		if sys == "cm" {
			billable, v26, title = row[2], row[3], row[4]
		} else {
			billable, v26, title = row[2], row[3], row[4]
		}
		from, to, attrs, sex := rows[0][0], rows[0][1], "-", "-"
		for _, r := range rows {
			from, to = minS(from, r[0]), maxS(to, r[1])
			if r[0] <= "2024-10-01" && "2024-10-01" <= r[1] && r[2] != "" {
				attrs = r[2]
			}
			for _, a := range strings.Split(r[2], ",") {
				if a == "MALE" {
					sex = "M"
				} else if a == "FEMALE" {
					sex = "F"
				}
			}
		}
		fmt.Fprintf(&out, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", sys, code, billable, v26, from, to, attrs, sex, title)
	}
	if err := os.WriteFile(*codes, []byte(out.String()), 0o644); err != nil {
		log.Fatal(err)
	}
}

func minS(a, b string) string {
	if b < a {
		return b
	}
	return a
}

func maxS(a, b string) string {
	if b > a {
		return b
	}
	return a
}

func open(path string) *bufio.Scanner {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		log.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	return sc
}

func readTSV(path string) map[string][]string {
	m := map[string][]string{}
	sc := open(path)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		m[f[0]] = f
	}
	return m
}

func readMCE(path string) map[string][][3]string {
	m := map[string][][3]string{}
	sc := open(path)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 3 || f[0] == "code" {
			continue
		}
		attrs := ""
		if len(f) > 3 {
			attrs = f[3]
		}
		m[f[0]] = append(m[f[0]], [3]string{f[1], f[2], attrs})
	}
	return m
}
