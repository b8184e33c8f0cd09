package fhirpath_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/xml"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/fhir/fhirpath"
)

// The official FHIRPath test suite for FHIR R4 (testdata/tests-fhir-r4.xml.gz, see
// testdata/PROVENANCE.md), run against the JSON renderings of its inputs.

type suiteXML struct {
	Groups []struct {
		Name  string      `xml:"name,attr"`
		Tests []suiteTest `xml:"test"`
	} `xml:"group"`
}

type suiteTest struct {
	Name       string `xml:"name,attr"`
	InputFile  string `xml:"inputfile,attr"`
	Mode       string `xml:"mode,attr"`
	Predicate  string `xml:"predicate,attr"`
	Expression struct {
		Invalid string `xml:"invalid,attr"`
		Mode    string `xml:"mode,attr"`
		Text    string `xml:",chardata"`
	} `xml:"expression"`
	Outputs []struct {
		Type string `xml:"type,attr"`
		Text string `xml:",chardata"`
	} `xml:"output"`
}

func loadSuite(t *testing.T) []suiteTest {
	t.Helper()
	f, err := os.Open("testdata/tests-fhir-r4.xml.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var s suiteXML
	if err := xml.NewDecoder(zr).Decode(&s); err != nil {
		t.Fatal(err)
	}
	var tests []suiteTest
	for _, g := range s.Groups {
		for i, tc := range g.Tests {
			if tc.Name == "" {
				tc.Name = g.Name + "-" + string(rune('0'+i))
			}
			tests = append(tests, tc)
		}
	}
	return tests
}

// loadSkips reads testdata/skip.txt: "name  # reason" per line.
func loadSkips(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("testdata/skip.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	skips := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, _ := strings.Cut(line, "#")
		skips[strings.TrimSpace(name)] = strings.TrimSpace(reason)
	}
	return skips
}

func TestOfficialSuite(t *testing.T) {
	tests := loadSuite(t)
	if len(tests) != 935 {
		t.Fatalf("suite has %d tests, want 935", len(tests))
	}
	skips := loadSkips(t)
	model := loadModel(t)
	inputs := map[string]any{}
	passed := 0
	for _, tc := range tests {
		ok := t.Run(tc.Name, func(t *testing.T) {
			if reason, ok := skips[tc.Name]; ok {
				t.Skip(reason)
			}
			var input any
			if tc.InputFile != "" {
				name := strings.TrimSuffix(strings.TrimSuffix(tc.InputFile, ".xml"), ".json") + ".json"
				if _, ok := inputs[name]; !ok {
					inputs[name] = loadJSON(t, "testdata/input/"+name)
				}
				input = inputs[name]
			}
			runSuiteTest(t, tc, input, model)
		})
		if ok {
			passed++
		}
	}
	t.Logf("official suite: %d/%d passed (%d skipped)", passed-len(skips), len(tests), len(skips))
}

func runSuiteTest(t *testing.T, tc suiteTest, input any, model fhirpath.Model) {
	src := tc.Expression.Text
	wantErr := tc.Expression.Invalid != ""
	env := &fhirpath.Env{
		Model:  model,
		Strict: tc.Mode == "strict" || tc.Expression.Mode == "strict",
		Now:    func() time.Time { return time.Now() },
	}
	expr, err := fhirpath.Compile(src)
	if err == nil {
		var got fhirpath.Collection
		got, err = expr.Evaluate(context.Background(), input, env)
		if err == nil && !wantErr {
			checkOutputs(t, tc, got)
			return
		}
	}
	var fe *fhirpath.Error
	if err != nil && !errors.As(err, &fe) {
		t.Errorf("%s: error is not a *fhirpath.Error: %v", src, err)
	}
	if wantErr && err == nil {
		t.Errorf("%s: want %s error, got none", src, tc.Expression.Invalid)
	}
	if !wantErr {
		t.Errorf("%s: unexpected error: %v", src, err)
	}
}

func checkOutputs(t *testing.T, tc suiteTest, got fhirpath.Collection) {
	t.Helper()
	src := tc.Expression.Text
	if tc.Predicate == "true" {
		want := len(tc.Outputs) == 1 && tc.Outputs[0].Text == "true"
		if (len(got) > 0) != want {
			t.Errorf("%s: predicate = %v, want %v", src, len(got) > 0, want)
		}
		return
	}
	if len(got) != len(tc.Outputs) {
		t.Errorf("%s: got %d items %v, want %d", src, len(got), render(got), len(tc.Outputs))
		return
	}
	for i, want := range tc.Outputs {
		if g := renderItem(got[i]); !sameOutput(want.Type, want.Text, g) {
			t.Errorf("%s: item %d = %q (%s), want %q (%s)", src, i, g, got[i].Type(), want.Text, want.Type)
		}
	}
}

func render(c fhirpath.Collection) []string {
	var out []string
	for _, it := range c {
		out = append(out, renderItem(it))
	}
	return out
}

// renderItem writes an item the way the suite writes outputs: dates with '@', quantities
// as value 'unit'.
func renderItem(it fhirpath.Item) string {
	switch v := it.Value().(type) {
	case fhirpath.Temporal:
		if v.Kind == fhirpath.KindTime {
			return "@T" + v.String()
		}
		return "@" + v.String()
	case fhirpath.Quantity:
		return v.Value.String() + " '" + v.Unit + "'"
	case map[string]any:
		return "{" + it.Type() + "}"
	}
	return it.String()
}

func sameOutput(typ, want, got string) bool {
	if want == got {
		return true
	}
	if typ == "decimal" || typ == "" {
		a, err1 := fhirpath.ParseDecimal(want)
		b, err2 := fhirpath.ParseDecimal(got)
		return err1 == nil && err2 == nil && a.Cmp(b) == 0
	}
	return false
}
