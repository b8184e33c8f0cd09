package drg

import (
	"strconv"
	"strings"

	"github.com/custodian-him/custodian"
)

// Diagnosis is an ICD-10-CM code (without the dot) with its present-on-
// admission indicator: Y, N, U, W, 1 (exempt), or 0 when none was reported.
type Diagnosis struct {
	Code string
	POA  byte
}

// Claim is what the grouper reads from an inpatient claim.
type Claim struct {
	Age             int
	Sex             byte // 'M', 'F' or 'U'
	DischargeStatus int  // UB-04 patient discharge status
	PDx             Diagnosis
	SDx             []Diagnosis
	Procedures      []string // ICD-10-PCS codes
}

// MaxCodes bounds the secondary diagnoses and the procedures of one claim
// (the UB-04 and 837I carry at most 24 of each; a little room is left).
const MaxCodes = 100

// ParseFields fills c from the text fields of the test-case and
// `custodian drg group` convention: age in years, sex M/F/U, the discharge
// status code, the principal diagnosis as CODE:POA, the secondary
// diagnoses as a |-list of CODE:POA, the procedures as a |-list. Codes are
// taken without dots, in upper case. It reuses c's slices.
func (c *Claim) ParseFields(age, sex, dischargeStatus, pdx, sdx, procedures string) error {
	var err error
	if c.Age, err = strconv.Atoi(strings.TrimSpace(age)); err != nil {
		return custodian.Errorf(custodian.EINVALID, "age %q is not a whole number of years", age)
	}
	switch s := strings.TrimSpace(sex); s {
	case "M", "F", "U", "":
		c.Sex = 'U'
		if s != "" {
			c.Sex = s[0]
		}
	case "1":
		c.Sex = 'M'
	case "2":
		c.Sex = 'F'
	default:
		return custodian.Errorf(custodian.EINVALID, "sex %q is not M, F or U", sex)
	}
	if c.DischargeStatus, err = strconv.Atoi(strings.TrimSpace(dischargeStatus)); err != nil {
		return custodian.Errorf(custodian.EINVALID, "discharge status %q is not a number", dischargeStatus)
	}
	pdx = strings.TrimSpace(pdx)
	if pdx == "" {
		return custodian.Errorf(custodian.EINVALID, "the principal diagnosis is missing")
	}
	if c.PDx, err = parseDiagnosis(pdx); err != nil {
		return err
	}
	c.SDx = c.SDx[:0]
	if sdx = strings.TrimSpace(sdx); sdx != "" {
		for s := range strings.SplitSeq(sdx, "|") {
			if s == "" {
				continue
			}
			d, err := parseDiagnosis(s)
			if err != nil {
				return err
			}
			c.SDx = append(c.SDx, d)
		}
	}
	c.Procedures = c.Procedures[:0]
	if procedures = strings.TrimSpace(procedures); procedures != "" {
		for p := range strings.SplitSeq(procedures, "|") {
			if p = strings.TrimSpace(p); p != "" {
				if !isCode(p) {
					return custodian.Errorf(custodian.EINVALID, "procedure %q is not an ICD-10-PCS code", p)
				}
				c.Procedures = append(c.Procedures, p)
			}
		}
	}
	if len(c.SDx) > MaxCodes || len(c.Procedures) > MaxCodes {
		return custodian.Errorf(custodian.EINVALID, "a claim carries at most %d secondary diagnoses and %d procedures", MaxCodes, MaxCodes)
	}
	return nil
}

func parseDiagnosis(s string) (Diagnosis, error) {
	code, poa, _ := strings.Cut(strings.TrimSpace(s), ":")
	if !isCode(code) {
		return Diagnosis{}, custodian.Errorf(custodian.EINVALID, "diagnosis %q is not an ICD-10-CM code", s)
	}
	d := Diagnosis{Code: code}
	switch poa {
	case "":
		d.POA = '0'
	case "Y", "N", "U", "W", "1":
		d.POA = poa[0]
	default:
		return Diagnosis{}, custodian.Errorf(custodian.EINVALID, "POA indicator %q of %s is not Y, N, U, W or 1", poa, code)
	}
	return d, nil
}

// isCode reports whether s looks like an ICD-10 code: 3 to 7 upper-case
// letters and digits.
func isCode(s string) bool {
	if len(s) < 3 || len(s) > 7 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
