package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
)

func runCode(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := (&CodeCommand{Stdout: &out, Stderr: &errOut}).Run(context.Background(), args)
	return out.String(), err
}

func TestCodeCommand(t *testing.T) {
	out, err := runCode(t, "search", "T2DM with neuropathy", "--limit", "3")
	if err != nil || !strings.HasPrefix(out, "E11.40\tType 2 diabetes mellitus with diabetic neuropathy, unspecified\n") || strings.Count(out, "\n") != 3 {
		t.Errorf("search tsv: %v\n%s", err, out)
	}
	out, err = runCode(t, "search", "--system", "icd10pcs", "--format", "json", "--limit", "1", "laparoscopic", "appendectomy")
	var res struct {
		Hits []struct{ Code string }
	}
	if err != nil || json.Unmarshal([]byte(out), &res) != nil || len(res.Hits) != 1 || res.Hits[0].Code != "0DTJ4ZZ" {
		t.Errorf("search json: %v\n%s", err, out)
	}
	out, err = runCode(t, "lookup", "s72.001a", "--date", "2025-01-01")
	for _, want := range []string{"S72.001A Fracture of unspecified part of neck of right femur, initial encounter for closed fracture", "status:    billable", "chapter:   19", "parent:    S72 Fracture of femur", "[from S72]", "7th character:      A initial encounter for closed fracture"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("lookup lacks %q: %v\n%s", want, err, out)
		}
	}
	if out, err = runCode(t, "validate", "E11.9", "--date", "2025-01-01"); err != nil || !strings.Contains(out, "E11.9 valid on 2025-01-01") {
		t.Errorf("validate E11.9: %v %s", err, out)
	}
	for _, tt := range []struct {
		args []string
		code string
	}{
		{[]string{"validate", "E11"}, custodian.EUNPROCESSABLE},
		{[]string{"validate", "E72.530", "--date", "2025-09-30"}, custodian.EUNPROCESSABLE},
		{[]string{"validate", "E11.99"}, custodian.EUNPROCESSABLE},
		{[]string{"validate", "E1.19"}, custodian.EINVALID},
		{[]string{"lookup", "E11.99"}, custodian.ENOTFOUND},
		{[]string{"lookup", "E11.9", "--date", "2025-13-01"}, custodian.EINVALID},
		{[]string{"search", "x", "--system", "snomed"}, custodian.EINVALID},
		{[]string{"search", "x", "--format", "xml"}, custodian.EINVALID},
		{[]string{"search"}, custodian.EINVALID},
	} {
		_, err := runCode(t, tt.args...)
		if custodian.ErrorCode(err) != tt.code || custodian.ErrorMessage(err) == "" {
			t.Errorf("code %v: error %v, want %s", tt.args, err, tt.code)
		}
	}
}
