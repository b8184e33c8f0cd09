package coding

import (
	_ "embed"
	"strconv"
	"strings"
)

// dischargeStatusTSV maps FHIR discharge dispositions to UB-04 patient
// discharge status codes (see data/PROVENANCE.md).
//
//go:embed data/discharge-status.tsv
var dischargeStatusTSV string

// dischargeStatus maps a disposition code (the FHIR R4
// encounter-discharge-disposition codes, "home", "snf", "exp", …) to the
// UB-04 patient discharge status.
var dischargeStatus = func() map[string]int {
	m := map[string]int{}
	for _, line := range strings.Split(dischargeStatusTSV, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 2 {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			panic("coding: data/discharge-status.tsv: bad status " + f[1])
		}
		m[f[0]] = n
	}
	return m
}()

// DischargeStatus returns the UB-04 patient discharge status of a FHIR
// discharge disposition code, and whether the code is known.
func DischargeStatus(disposition string) (int, bool) {
	n, ok := dischargeStatus[strings.ToLower(strings.TrimSpace(disposition))]
	return n, ok
}
