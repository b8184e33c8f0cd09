package ingest_test

import (
	"fmt"
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
