package synth

import (
	_ "embed"
	"strings"
	"sync"
)

// codesTSV is the curated subset of ICD-10-CM and ICD-10-PCS the
// generator uses, with titles and validity (see data/PROVENANCE.md).
// Columns: system (cm or pcs), code (ICD-10-CM dotted), billable in
// FY2025 (Y/N), valid in FY2026 (Y/N), MCE effective from, MCE effective
// to, MCE edit attributes on 2024-10-01, sex restriction from the last
// MCE rows that carried one (M, F or -), title.
//
//go:generate go run ./internal/gencodes -shared ../../shared/data -codes data/codes.tsv
//go:embed data/codes.tsv
var codesTSV string

// CodeInfo is what data/codes.tsv says about one code.
type CodeInfo struct {
	System         string // "cm" or "pcs"
	Code           string
	BillableFY2025 bool
	ValidFY2026    bool
	ValidFrom      string // first day valid (MCE), YYYY-MM-DD
	ValidTo        string // last day valid (MCE)
	Attributes     []string
	Sex            string // "M", "F" or ""
	Title          string
}

var loadCodes = sync.OnceValue(func() map[string]*CodeInfo {
	m := map[string]*CodeInfo{}
	for _, l := range strings.Split(codesTSV, "\n") {
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "system\t") {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) < 9 {
			continue
		}
		ci := &CodeInfo{System: f[0], Code: f[1], BillableFY2025: f[2] == "Y", ValidFY2026: f[3] == "Y",
			ValidFrom: f[4], ValidTo: f[5], Title: f[8]}
		if f[6] != "" && f[6] != "-" {
			ci.Attributes = strings.Split(f[6], ",")
		}
		if f[7] != "-" {
			ci.Sex = f[7]
		}
		m[ci.Code] = ci
	}
	return m
})

// Codes returns the embedded code subset, keyed by code (ICD-10-CM
// dotted, ICD-10-PCS as is).
func Codes() map[string]*CodeInfo { return loadCodes() }

func codeTitle(code string) string {
	if ci := loadCodes()[code]; ci != nil {
		return ci.Title
	}
	panic("synth: code " + code + " is not in data/codes.tsv")
}
