package deid

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/custodian-him/custodian"
)

// Report says what an export changed: per type, the resources read,
// written and dropped, and how many times each rule applied.
type Report struct {
	Method    Method                 `json:"method"`
	DateShift bool                   `json:"dateShift"`
	DUA       string                 `json:"dataUseAgreement,omitempty"`
	Started   time.Time              `json:"started"`
	Read      int                    `json:"read"`
	Written   int                    `json:"written"`
	Dropped   int                    `json:"dropped"`
	Names     int                    `json:"nameVocabulary"`
	Types     map[string]*TypeReport `json:"types"`
	// Seconds is the wall time and CPUSeconds the process CPU time of the
	// export.
	Seconds    float64 `json:"seconds"`
	CPUSeconds float64 `json:"cpuSeconds"`
}

// TypeReport is the part of a Report about one type.
type TypeReport struct {
	File    string         `json:"file,omitempty"`
	Read    int            `json:"read"`
	Written int            `json:"written"`
	Dropped int            `json:"dropped,omitempty"`
	Skipped string         `json:"skipped,omitempty"`
	Rules   map[string]int `json:"rules"`
}

// ruleText explains the rule names of a report.
var ruleText = map[string]string{
	"reference":                "references rewritten to pseudonymous ids",
	"reference-removed":        "references removed (not to a resource in the export)",
	"reference-display":        "reference display text removed",
	"identifier-removed":       "direct identifiers removed (SSN, MRN, plan, account, licence, device)",
	"identifier-pseudonymised": "other identifiers replaced by keyed pseudonyms",
	"name":                     "names removed",
	"telecom":                  "phone, fax, email and URL contacts removed",
	"valueContactPoint":        "contact extensions removed",
	"photo":                    "photos removed",
	"address":                  "addresses generalised",
	"zip-000":                  "ZIP codes of restricted areas written 000",
	"date-year":                "dates cut to the year",
	"date-shifted":             "dates shifted",
	"age-90+":                  "ages over 89 grouped as 90+",
	"device-identifier":        "device identifiers removed",
	"attachment-text-scrubbed": "text attachments scrubbed",
	"attachment-dropped":       "attachment content dropped (not text)",
	"attachment-url-removed":   "attachment links removed",
	"binary-dropped":           "Binary resources dropped",
	"sensitive-left-out":       "resources with a sensitive security label left out",
	"text-name":                "names removed from text",
	"text-date":                "dates in text generalised or shifted",
	"text-phone":               "phone numbers removed from text",
	"text-ssn":                 "SSNs removed from text",
	"text-identifier":          "record and other numbers removed from text",
	"text-email":               "emails removed from text",
	"text-url":                 "URLs removed from text",
	"text-ip":                  "IP addresses removed from text",
	"text-address":             "street addresses removed from text",
	"text-zip":                 "ZIP codes removed from text",
	"text-age":                 "ages over 89 in text written 90+",
}

func (r *Report) write(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(b, '\n'), 0o600); err != nil {
		return custodian.Wrap(custodian.EINTERNAL, err, "the report cannot be written")
	}
	if err := os.WriteFile(filepath.Join(dir, "report.txt"), []byte(r.Summary()), 0o600); err != nil {
		return custodian.Wrap(custodian.EINTERNAL, err, "the report cannot be written")
	}
	return nil
}

// Summary is the report for a person to read.
func (r *Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "De-identified export (%s", r.Method)
	if r.DateShift {
		b.WriteString(", dates shifted per patient")
	}
	fmt.Fprintf(&b, ") made %s\n", r.Started.Format(time.RFC3339))
	if r.DUA != "" {
		fmt.Fprintf(&b, "Data-use agreement: %s\n", r.DUA)
	}
	fmt.Fprintf(&b, "%d resources read, %d written, %d left out; %d names and places in the scrubbing vocabulary\n",
		r.Read, r.Written, r.Dropped, r.Names)
	if r.Seconds > 0 {
		fmt.Fprintf(&b, "%.1f s, %.0f resources/s, %.1f CPU-seconds\n", r.Seconds, float64(r.Read)/r.Seconds, r.CPUSeconds)
	}
	for _, typ := range sortedKeys(r.Types) {
		t := r.Types[typ]
		fmt.Fprintf(&b, "\n%s: %d read, %d written", typ, t.Read, t.Written)
		if t.Dropped > 0 {
			fmt.Fprintf(&b, ", %d left out", t.Dropped)
		}
		if t.Skipped != "" {
			fmt.Fprintf(&b, " (skipped: %s)", t.Skipped)
		}
		b.WriteString("\n")
		for _, k := range sortedKeys(t.Rules) {
			text := ruleText[k]
			if text == "" {
				text = k
			}
			fmt.Fprintf(&b, "  %8d  %s\n", t.Rules[k], text)
		}
	}
	return b.String()
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
