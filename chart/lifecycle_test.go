package chart_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/chart"
	"github.com/custodian-him/custodian/store"
)

func res(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%v in %s", err, s)
	}
	return m
}

// note makes a DocumentReference: signed when signer is not "".
func note(id, loinc, written, signed, author, signer, text string) string {
	auth := ""
	status := "preliminary"
	date := written
	if signer != "" {
		auth = fmt.Sprintf(`,"authenticator":{"reference":"Practitioner/%s"}`, signer)
		status, date = "final", signed
	}
	return fmt.Sprintf(`{"resourceType":"DocumentReference","id":%q,"status":"current","docStatus":%q,
	"type":{"coding":[{"system":"http://loinc.org","code":%q}]},"subject":{"reference":"Patient/p1"},"date":%q,
	"author":[{"reference":"Practitioner/%s"}]%s,
	"content":[{"attachment":{"contentType":"text/plain","data":%q,"creation":%q}}],
	"context":{"encounter":[{"reference":"Encounter/e1"}]}}`, id, status, loinc, date, author, auth,
		base64.StdEncoding.EncodeToString([]byte(text)), written)
}

// TestLifecycle follows one stay's Tasks as documents are filed, signed
// and amended, with the watcher registered on the store.
func TestLifecycle(t *testing.T) {
	st := openStore(t)
	rv := chart.NewReviewer(st)
	now := time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC)
	rv.Now = func() time.Time { return now }
	if err := rv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.Watchers = append(st.Watchers, rv.Watcher())
	write := func(bodies ...string) {
		t.Helper()
		var ms []map[string]any
		for _, b := range bodies {
			ms = append(ms, res(t, b))
		}
		out, err := st.PutBatch(sysCtx(), ms)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
		if _, err := rv.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	status := func(key string) string {
		t.Helper()
		r, err := st.Read(sysCtx(), "Task", chart.TaskID(key))
		if custodian404(err) {
			return "none"
		}
		if err != nil {
			t.Fatal(err)
		}
		_, s, _ := chart.TaskDeficiency(r.Body)
		return s
	}
	write(
		`{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1950-04-02"}`,
		`{"resourceType":"PractitionerRole","id":"r1","practitioner":{"reference":"Practitioner/att"},"code":[{"coding":[{"code":"attending"}]}]}`,
		`{"resourceType":"PractitionerRole","id":"r2","practitioner":{"reference":"Practitioner/res"},"code":[{"coding":[{"code":"resident"}]}]}`,
		`{"resourceType":"Encounter","id":"e1","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},
		 "subject":{"reference":"Patient/p1"},"period":{"start":"2025-03-01T08:00:00-05:00","end":"2025-03-02T11:00:00-05:00"},
		 "participant":[{"type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"ATND"}]}],"individual":{"reference":"Practitioner/att"}}],
		 "hospitalization":{"admitSource":{"coding":[{"code":"emd"}]},"dischargeDisposition":{"coding":[{"code":"home"}]}}}`,
		note("hp", "34117-2", "2025-03-01T09:00:00-05:00", "2025-03-01T10:00:00-05:00", "att", "att", "HISTORY AND PHYSICAL"),
	)
	ds := "discharge-summary|Encounter/e1"
	if got := status(ds); got != chart.StatusRequested {
		t.Fatalf("no discharge summary yet: Task %s, want requested", got)
	}
	// A resident files the summary and signs it alone: the summary rule is
	// met, the co-signature is missing.
	const text = "DISCHARGE SUMMARY\nPRINCIPAL DIAGNOSIS: Pneumonia.\n"
	write(note("ds", "18842-5", "2025-03-03T09:00:00-05:00", "2025-03-03T10:00:00-05:00", "res", "res", text))
	cosign := "cosignature|DocumentReference/ds"
	if got := status(ds); got != chart.StatusCompleted {
		t.Errorf("summary filed: Task %s, want completed", got)
	}
	if got := status(cosign); got != chart.StatusRequested {
		t.Errorf("resident signed alone: co-signature Task %s, want requested", got)
	}
	// The attending co-signs: closed.
	write(note("ds", "18842-5", "2025-03-03T09:00:00-05:00", "2025-03-04T10:00:00-05:00", "res", "att", text))
	if got := status(cosign); got != chart.StatusCompleted {
		t.Errorf("co-signed: Task %s, want completed", got)
	}
	// An amendment leaves it unsigned: the authentication Task opens; the
	// summary requirement still holds (it is written).
	unsigned := "authentication|DocumentReference/ds"
	write(note("ds", "18842-5", "2025-03-03T09:00:00-05:00", "", "res", "", text+"Addendum.\n"))
	if got := status(unsigned); got != chart.StatusRequested {
		t.Errorf("amended unsigned: Task %s, want requested", got)
	}
	// The summary is withdrawn (entered in error): the summary Task reopens.
	withdrawn := res(t, note("ds", "18842-5", "2025-03-03T09:00:00-05:00", "", "res", "", text))
	withdrawn["status"] = "entered-in-error"
	b, _ := json.Marshal(withdrawn)
	write(string(b))
	if got := status(ds); got != chart.StatusRequested {
		t.Errorf("summary withdrawn: Task %s, want requested again", got)
	}
	if got := status(unsigned); got != chart.StatusCompleted && got != chart.StatusCancelled {
		t.Errorf("withdrawn note's signature Task %s, want closed", got)
	}
	// The whole lifecycle is in the Task's history.
	h, err := st.History(sysCtx(), store.HistoryFilter{Type: "Task", ID: chart.TaskID(ds), Count: 100})
	if err != nil {
		t.Fatal(err)
	}
	var seq []string
	for i := len(h.Versions) - 1; i >= 0; i-- {
		_, s, _ := chart.TaskDeficiency(h.Versions[i].Body)
		seq = append(seq, s)
	}
	if fmt.Sprint(seq) != "[requested completed requested]" {
		t.Errorf("summary Task history %v, want [requested completed requested]", seq)
	}
	// Each version was written by Custodian itself.
	for _, v := range h.Versions {
		if v.Author != "custodian" {
			t.Errorf("Task version %d written by %q, want the system actor", v.VersionID, v.Author)
		}
	}
}

func custodian404(err error) bool {
	return custodianCode(err) == custodian.ENOTFOUND
}

// TestAmendmentReopensTask files a discharge summary, has it co-signed,
// then amends it (a new DocumentReference that replaces it, the original
// marked superseded): the amendment, signed by the resident alone, breaks
// the co-signature the original had, so the original's co-signature Task
// reopens — the same Task, not a new one — and closes again when the
// attending co-signs the amendment. An unsigned second amendment reopens
// the authentication Task the same way.
func TestAmendmentReopensTask(t *testing.T) {
	st := openStore(t)
	rv := chart.NewReviewer(st)
	now := time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC)
	rv.Now = func() time.Time { return now }
	if err := rv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.Watchers = append(st.Watchers, rv.Watcher())
	write := func(ms ...map[string]any) {
		t.Helper()
		out, err := st.PutBatch(sysCtx(), ms)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
		if _, err := rv.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	status := func(key string) (string, string) {
		t.Helper()
		r, err := st.Read(sysCtx(), "Task", chart.TaskID(key))
		if custodian404(err) {
			return "none", ""
		}
		if err != nil {
			t.Fatal(err)
		}
		d, s, _ := chart.TaskDeficiency(r.Body)
		return s, d.Kind
	}
	// amend makes note id replace note old, and marks old (as stored)
	// superseded.
	amend := func(id, old, written, signed, signer, text string) {
		t.Helper()
		a := res(t, note(id, "18842-5", written, signed, "res", signer, text))
		a["relatesTo"] = []any{map[string]any{"code": "replaces", "target": map[string]any{"reference": "DocumentReference/" + old}}}
		r, err := st.Read(sysCtx(), "DocumentReference", old)
		if err != nil {
			t.Fatal(err)
		}
		prev := res(t, string(r.Body))
		prev["status"] = "superseded"
		write(prev, a)
	}
	const text = "DISCHARGE SUMMARY\nPRINCIPAL DIAGNOSIS: Pneumonia.\n"
	write(
		res(t, `{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1950-04-02"}`),
		res(t, `{"resourceType":"PractitionerRole","id":"r1","practitioner":{"reference":"Practitioner/att"},"code":[{"coding":[{"code":"attending"}]}]}`),
		res(t, `{"resourceType":"PractitionerRole","id":"r2","practitioner":{"reference":"Practitioner/res"},"code":[{"coding":[{"code":"resident"}]}]}`),
		res(t, `{"resourceType":"Encounter","id":"e1","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},
		 "subject":{"reference":"Patient/p1"},"period":{"start":"2025-03-01T08:00:00-05:00","end":"2025-03-02T11:00:00-05:00"},
		 "participant":[{"type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"ATND"}]}],"individual":{"reference":"Practitioner/att"}}],
		 "hospitalization":{"admitSource":{"coding":[{"code":"emd"}]},"dischargeDisposition":{"coding":[{"code":"home"}]}}}`),
		res(t, note("hp", "34117-2", "2025-03-01T09:00:00-05:00", "2025-03-01T10:00:00-05:00", "att", "att", "HISTORY AND PHYSICAL")),
		res(t, note("ds", "18842-5", "2025-03-03T09:00:00-05:00", "2025-03-03T10:00:00-05:00", "res", "res", text)),
	)
	cosign := "cosignature|DocumentReference/ds"
	if s, _ := status(cosign); s != chart.StatusRequested {
		t.Fatalf("resident signed alone: co-signature Task %s, want requested", s)
	}
	write(res(t, note("ds", "18842-5", "2025-03-03T09:00:00-05:00", "2025-03-04T10:00:00-05:00", "res", "att", text)))
	if s, _ := status(cosign); s != chart.StatusCompleted {
		t.Fatalf("co-signed: Task %s, want completed", s)
	}
	// The amendment, signed by the resident alone, reopens that Task.
	amend("ds2", "ds", "2025-03-06T09:00:00-05:00", "2025-03-06T09:30:00-05:00", "res", text+"ADDENDUM: medication list corrected.\n")
	if s, _ := status(cosign); s != chart.StatusRequested {
		t.Errorf("amendment signed by the resident alone: co-signature Task %s, want requested again", s)
	}
	if s, _ := status("cosignature|DocumentReference/ds2"); s != "none" {
		t.Errorf("the amendment got a Task of its own (%s); want the original's reopened", s)
	}
	if s, _ := status("discharge-summary|Encounter/e1"); s != "none" && s != chart.StatusCompleted {
		t.Errorf("discharge summary Task %s: the amended summary is still on file", s)
	}
	cosigned := res(t, note("ds2", "18842-5", "2025-03-06T09:00:00-05:00", "2025-03-07T09:30:00-05:00", "res", "att", text+"ADDENDUM: medication list corrected.\n"))
	cosigned["relatesTo"] = []any{map[string]any{"code": "replaces", "target": map[string]any{"reference": "DocumentReference/ds"}}}
	write(cosigned)
	if s, _ := status(cosign); s != chart.StatusCompleted {
		t.Errorf("amendment co-signed: Task %s, want completed", s)
	}
	// A second amendment, not signed: the authentication Task of the
	// original opens as an unsigned amendment.
	amend("ds3", "ds2", "2025-03-08T09:00:00-05:00", "", "", text+"ADDENDUM 2.\n")
	if s, kind := status("authentication|DocumentReference/ds"); s != chart.StatusRequested || kind != chart.KindUnsignedAmendment {
		t.Errorf("unsigned amendment: authentication Task %s (%s), want requested (%s)", s, kind, chart.KindUnsignedAmendment)
	}
	h, err := st.History(sysCtx(), store.HistoryFilter{Type: "Task", ID: chart.TaskID(cosign), Count: 100})
	if err != nil {
		t.Fatal(err)
	}
	var seq []string
	for i := len(h.Versions) - 1; i >= 0; i-- {
		_, s, _ := chart.TaskDeficiency(h.Versions[i].Body)
		seq = append(seq, s)
	}
	if fmt.Sprint(seq) != "[requested completed requested completed]" {
		t.Errorf("co-signature Task history %v, want [requested completed requested completed]", seq)
	}
}
