package roi_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/blob"
	"github.com/custodian-him/custodian/roi"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// clock is the fixed "now" of the tests.
var clock = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// env is a store with one patient's chart and an roi Service over it.
type env struct {
	t       testing.TB
	st      *store.Store
	blobs   *blob.Dir
	svc     *roi.Service
	patient string
	// ids of the fixture records by name.
	ids map[string]string
	now time.Time
}

func system() context.Context {
	return custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
}

// specialist is a release-of-information specialist.
func specialist() context.Context {
	return custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "rita", Kind: "user", Roles: []string{access.RoleROISpecialist}})
}

func newEnv(t testing.TB) *env {
	t.Helper()
	db, st := sqldbtest.OpenStore(t)
	e := &env{t: t, st: st, ids: map[string]string{}, now: clock}
	e.st.Guard, e.st.AuditLog = access.Guard{}, db
	e.st.Now = func() time.Time { return e.now }
	var err error
	if e.blobs, err = blob.Open(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	e.svc = &roi.Service{Store: e.st, Blobs: e.blobs, Organization: "Riverside General Hospital", Now: func() time.Time { return e.now }}
	e.patient = e.create("patient", `{"resourceType":"Patient","name":[{"use":"official","family":"Okafor","given":["Amara"]}],"birthDate":"1971-04-02","gender":"female"}`)
	return e
}

func (e *env) create(name, body string) string {
	e.t.Helper()
	body = strings.ReplaceAll(body, "PATIENT", e.patient)
	out, err := e.st.Create(system(), resourceType(body), []byte(body), store.WriteOptions{})
	if err != nil {
		e.t.Fatalf("create %s: %v", name, err)
	}
	e.ids[name] = out.Resource.ID
	return out.Resource.ID
}

func resourceType(body string) string {
	var v struct{ ResourceType string }
	json.Unmarshal([]byte(body), &v)
	return v.ResourceType
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// note is a text/plain DocumentReference; security is a meta.security
// label code of v3 ActCode, or "".
func note(date, title, text, security string) string {
	meta := ""
	if security != "" {
		meta = `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"` + security + `"}]},`
	}
	return `{"resourceType":"DocumentReference",` + meta + `"status":"current","docStatus":"final","type":{"text":"` + title + `"},` +
		`"subject":{"reference":"Patient/PATIENT"},"date":"` + date + `T10:00:00Z","author":[{"display":"Dr. Lena Marsh"}],` +
		`"content":[{"attachment":{"contentType":"text/plain","data":"` + b64(text) + `"}}]}`
}

// chart adds the fixture chart: ordinary notes and results, a 42 CFR Part
// 2 note (labelled) and an opioid use disorder diagnosis (coded, not
// labelled), a psychotherapy note, and a scanned image.
func (e *env) chart() {
	e.create("discharge", note("2025-06-01", "Discharge summary", "Admitted for community acquired pneumonia. MARKER-DISCHARGE. Treated with ceftriaxone.", ""))
	e.create("clinic", note("2025-09-15", "Clinic note", "Follow-up visit, lungs clear. MARKER-CLINIC.", ""))
	e.create("old", note("2019-02-01", "Clinic note", "Old visit. MARKER-OLD.", ""))
	e.create("part2", note("2025-07-20", "Substance use treatment note", "Methadone maintenance 80 mg. MARKER-PART2.", "ETHUD"))
	e.create("psychotherapy", note("2025-08-02", "Psychotherapy note", "Session content. MARKER-PSYTHPN.", "PSYTHPN"))
	e.create("oud", `{"resourceType":"Condition","subject":{"reference":"Patient/PATIENT"},"recordedDate":"2025-07-20",`+
		`"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20","display":"Opioid dependence MARKER-OUD"}]}}`)
	e.create("pneumonia", `{"resourceType":"Condition","subject":{"reference":"Patient/PATIENT"},"recordedDate":"2025-06-01",`+
		`"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J18.9","display":"Pneumonia MARKER-PNEUMONIA"}]}}`)
	e.create("wbc", `{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/PATIENT"},"effectiveDateTime":"2025-06-01T08:00:00Z",`+
		`"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],`+
		`"code":{"coding":[{"system":"http://loinc.org","code":"6690-2","display":"Leukocytes MARKER-WBC"}]},`+
		`"valueQuantity":{"value":14.2,"unit":"10*3/uL"},"referenceRange":[{"low":{"value":4.0,"unit":"10*3/uL"},"high":{"value":11.0,"unit":"10*3/uL"}}]}`)
	// A scanned form: a PNG in the blob store, as a Binary.
	var buf bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		for y := range 30 {
			img.Set(x, y, color.RGBA{uint8(x * 6), uint8(y * 8), 120, 255})
		}
	}
	png.Encode(&buf, img)
	info, err := e.blobs.Put(context.Background(), bytes.NewReader(buf.Bytes()), 1<<20)
	if err != nil {
		e.t.Fatal(err)
	}
	bin := e.create("scanbin", fmt.Sprintf(`{"resourceType":"Binary","contentType":"image/png","meta":{"extension":[{"url":%q,"extension":[{"url":"sha256","valueString":%q},{"url":"size","valueDecimal":%d}]}]}}`,
		roi.BinaryContentExtension, info.SHA256, info.Size))
	e.create("scan", `{"resourceType":"DocumentReference","status":"current","type":{"text":"Scanned consent form"},"subject":{"reference":"Patient/PATIENT"},`+
		`"date":"2025-06-01T09:00:00Z","content":[{"attachment":{"contentType":"image/png","url":"Binary/`+bin+`"}}]}`)
}

// authorize stores an authorization for the attorney.
func (e *env) authorize(mod func(a *roi.Authorization)) *roi.Authorization {
	e.t.Helper()
	a := &roi.Authorization{Patient: e.patient, Recipient: "Baker & Lowe LLP", Purposes: []string{"HLEGAL"},
		From: day("2025-01-01"), To: day("2025-12-31"), Types: []string{"DocumentReference", "Condition", "Observation"},
		Signed: day("2026-02-01"), Expires: day("2026-08-01")}
	if mod != nil {
		mod(a)
	}
	out, err := e.svc.Authorize(specialist(), a)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// attorneyRequest submits the attorney's request under authorization a.
func (e *env) attorneyRequest(a string, mod func(r *roi.Request)) *roi.Request {
	e.t.Helper()
	r := &roi.Request{Patient: e.patient, RequesterKind: roi.Attorney, RequesterName: "Baker & Lowe LLP", RequesterAddress: "12 Court St, Springfield",
		Purpose: "HLEGAL", Authorization: a, From: day("2025-01-01"), To: day("2025-12-31"),
		Types: []string{"DocumentReference", "Condition", "Observation"}, Received: day("2026-03-02")}
	if mod != nil {
		mod(r)
	}
	out, err := e.svc.Submit(specialist(), r)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// streamRE finds a stream's length and start; the length, not a search
// for "endstream", bounds it (compressed bytes may end in anything).
var streamRE = regexp.MustCompile(`/Length (\d+)>>\s*stream\r?\n`)

// pdfText returns the text shown on the PDF's pages, in order: every
// content stream inflated, and the strings of its text operators with
// PDF escapes undone.
func pdfText(t testing.TB, pdf []byte) string {
	t.Helper()
	var out strings.Builder
	for _, m := range streamRE.FindAllSubmatchIndex(pdf, -1) {
		n, _ := strconv.Atoi(string(pdf[m[2]:m[3]]))
		if m[1]+n > len(pdf) {
			t.Fatalf("a stream's length runs past the end of the PDF")
		}
		zr, err := zlib.NewReader(bytes.NewReader(pdf[m[1] : m[1]+n]))
		if err != nil {
			continue // not a Flate stream (images are, but carry no text operators)
		}
		raw, err := io.ReadAll(zr)
		if err != nil || !bytes.Contains(raw, []byte("Tj")) {
			continue
		}
		out.WriteString(unescapePDF(string(raw)))
		out.WriteString("\n\f\n")
	}
	return out.String()
}

func unescapePDF(s string) string {
	r := strings.NewReplacer(`\(`, "(", `\)`, ")", `\\`, `\`)
	return r.Replace(s)
}

func code(err error) string { return custodian.ErrorCode(err) }

// bundleText is the Bundle's JSON followed by every base64 "data" element
// decoded, so content inside attachments is searched too.
func bundleText(t testing.TB, bundle []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(bundle, &v); err != nil {
		t.Fatalf("the Bundle is not JSON: %v", err)
	}
	var out strings.Builder
	out.Write(bundle)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "data" {
					d, err := base64.StdEncoding.DecodeString(s)
					if err != nil {
						t.Fatalf("data is not base64: %v", err)
					}
					out.WriteString("\n")
					out.Write(d)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return out.String()
}
