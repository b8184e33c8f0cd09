package ingest_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custodian-him/custodian/ingest"
)

// TestImportCCDAAndHL7 imports a directory holding C-CDA documents and
// HL7 v2 messages (gzip-compressed, as the fixtures of those packages are)
// and imports it again.
func TestImportCCDAAndHL7(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"ccda/testdata/documents/CCD_1.xml.gz", "ccda/testdata/documents/Discharge_Summary.xml.gz",
		"hl7v2/testdata/messages/ADT-A01-01.hl7.gz", "hl7v2/testdata/messages/LAB-ORU-1.hl7.gz",
		"hl7v2/testdata/messages/ADT-A40-01.hl7.gz", "hl7v2/testdata/messages/ORM-O01-01.hl7.gz"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, filepath.Base(f)), b)
	}
	writeFile(t, filepath.Join(dir, "fragment.XML"), []byte(`<section xmlns="urn:hl7-org:v3"/>`))
	e := newEnv(t, t.TempDir())
	sum, report, err := e.run(t, ingest.Options{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Files != 7 || sum.Rejected != 3 || sum.Created < 60 {
		t.Errorf("summary %+v; want 7 files, 3 rejected, at least 60 created", sum)
	}
	reasons := map[string]string{}
	for _, r := range report {
		reasons[filepath.Base(r.File)] = fmt.Sprint(r.Outcome)
	}
	for file, want := range map[string]string{
		"ADT-A40-01.hl7.gz": "ADT^A40 is a patient merge",
		"ORM-O01-01.hl7.gz": "message type ORM is not supported",
		"fragment.XML":      "not a ClinicalDocument",
	} {
		if !strings.Contains(reasons[file], want) {
			t.Errorf("%s: report %q, want %q in it", file, reasons[file], want)
		}
	}
	versions := e.count(t, "versions")
	again, _, err := e.run(t, ingest.Options{Restart: true}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.Created != 0 || again.Updated != 0 || e.count(t, "versions") != versions {
		t.Errorf("second import %+v, %d versions (was %d); want nothing new", again, e.count(t, "versions"), versions)
	}
}

// TestImportHL7UpdateKeepsWhatItDoesNotSay imports an admission, then an
// ADT^A08 of the same visit without DG1, PV2 and PD1 segments: in HL7 v2's
// snapshot mode they say nothing, so the visit keeps its diagnoses and
// reason and the patient their primary care provider, and since the rest
// is the same, no new version is written.
func TestImportHL7UpdateKeepsWhatItDoesNotSay(t *testing.T) {
	gz, err := os.ReadFile("hl7v2/testdata/messages/ADT-A01-01.hl7.gz")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	a01, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var a08 []string
	segments := strings.FieldsFunc(string(a01), func(r rune) bool { return r == '\r' || r == '\n' })
	for _, seg := range segments {
		switch {
		case strings.HasPrefix(seg, "MSH|"):
			f := strings.Split(seg, "|")
			f[8], f[9] = "ADT^A08^ADT_A01", "MSG00002"
			seg = strings.Join(f, "|")
		case strings.HasPrefix(seg, "EVN|"):
			seg = "EVN|A08" + strings.TrimPrefix(seg, "EVN|A01")
		case strings.HasPrefix(seg, "DG1|"), strings.HasPrefix(seg, "PV2|"), strings.HasPrefix(seg, "PD1|"):
			continue
		}
		a08 = append(a08, seg)
	}
	e := newEnv(t, t.TempDir())
	first := writeFile(t, filepath.Join(t.TempDir(), "a01.hl7"), a01)
	second := writeFile(t, filepath.Join(t.TempDir(), "a08.hl7"), []byte(strings.Join(a08, "\r")+"\r"))
	for _, f := range []string{first, second} {
		if sum, report, err := e.run(t, ingest.Options{}, f); err != nil || sum.Rejected != 0 {
			t.Fatalf("%s: %+v, %v, %v", filepath.Base(f), sum, report, err)
		}
	}
	for _, c := range []struct{ typ, element string }{
		{"Encounter", "diagnosis"}, {"Encounter", "reasonCode"}, {"Patient", "generalPractitioner"},
	} {
		q, err := e.st.ParseQueryString(c.typ, "_count=10")
		if err != nil {
			t.Fatal(err)
		}
		found, err := e.st.SearchWithIncludes(e.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(found.Resources) != 1 {
			t.Fatalf("%d %s resources, want 1", len(found.Resources), c.typ)
		}
		r := found.Resources[0]
		if r.VersionID != 1 {
			t.Errorf("%s is at version %d, want 1 (an A08 that changes nothing writes no version)", c.typ, r.VersionID)
		}
		if !strings.Contains(string(r.Body), `"`+c.element+`"`) {
			t.Errorf("%s lost %s on the A08 without its segment", c.typ, c.element)
		}
	}
}
