package chart

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// How a deficiency is kept in the store: as a FHIR Task.
//
//   - id "chart-" + a hash of the deficiency's key; identifier
//     (KeySystem, key) — so each deficiency has one Task for life, and the
//     store's versions of it are its lifecycle.
//   - status requested while open; completed when the record meets the
//     rule (a late breach is written completed from the start); cancelled
//     when what it concerned is gone (the encounter deleted, the rule
//     disabled). A completed Task is reopened (requested again) when an
//     amendment breaks the rule again.
//   - code: the rule (RuleSystem, rule id, its title); businessStatus: the
//     kind of deficiency (KindSystem); description: the evidence; note:
//     what clears it.
//   - focus: the encounter, note, procedure, diagnosis or result
//     concerned; for: the patient; encounter: the encounter; owner: the
//     responsible clinician's Practitioner (none: the analyst assigns).
//   - authoredOn: when Custodian raised it; restriction.period.end: when
//     the rule had to be met (the due date); executionPeriod: the span the
//     record was deficient (start: since, end: cleared).
const (
	KeySystem  = "https://custodian.example/fhir/chart-deficiency"
	RuleSystem = "https://custodian.example/fhir/CodeSystem/chart-rule"
	KindSystem = "https://custodian.example/fhir/CodeSystem/chart-deficiency-kind"
)

// Task statuses used.
const (
	StatusRequested = "requested"
	StatusCompleted = "completed"
	StatusCancelled = "cancelled"
)

// TaskID is the id of the Task of the deficiency with key.
func TaskID(key string) string {
	h := sha256.Sum256([]byte(key))
	return "chart-" + hex.EncodeToString(h[:12])
}

// taskRec is what the reviewer remembers of a Task it wrote.
type taskRec struct {
	ID, Status string
	Authored   time.Time
	D          *Deficiency
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// toTask renders a deficiency as its Task.
func toTask(d *Deficiency, status string, authored time.Time) map[string]any {
	t := map[string]any{
		"resourceType": "Task",
		"id":           TaskID(d.Key),
		"identifier":   []any{map[string]any{"system": KeySystem, "value": d.Key}},
		"status":       status,
		"intent":       "order",
		"priority":     "routine",
		"code": map[string]any{
			"coding": []any{map[string]any{"system": RuleSystem, "code": d.Rule, "display": d.Title}},
			"text":   d.Title,
		},
		"businessStatus": map[string]any{
			"coding": []any{map[string]any{"system": KindSystem, "code": d.Kind}},
			"text":   d.Kind,
		},
		"description": d.Evidence,
		"focus":       map[string]any{"reference": d.Focus},
		"for":         map[string]any{"reference": d.Patient},
		"encounter":   map[string]any{"reference": d.Encounter},
		"authoredOn":  fmtTime(authored),
		"requester":   map[string]any{"display": "Custodian chart review"},
		"note":        []any{map[string]any{"text": "To clear: " + d.Clear}},
	}
	if d.Owner != "" {
		t["owner"] = map[string]any{"reference": d.Owner}
	}
	ep := map[string]any{}
	if !d.Since.IsZero() {
		ep["start"] = fmtTime(d.Since)
	}
	if !d.Cleared.IsZero() {
		ep["end"] = fmtTime(d.Cleared)
	}
	if len(ep) > 0 {
		t["executionPeriod"] = ep
	}
	if !d.Due.IsZero() {
		t["restriction"] = map[string]any{"period": map[string]any{"end": fmtTime(d.Due)}}
	}
	if d.Date != "" {
		t["input"] = []any{map[string]any{"type": map[string]any{"text": "day"}, "valueDate": d.Date}}
	}
	if !d.Discharge.IsZero() || d.Service != "" || d.Class != "" {
		ctx := map[string]any{}
		if d.Service != "" {
			ctx["service"] = d.Service
		}
		if d.Class != "" {
			ctx["class"] = d.Class
		}
		if !d.Discharge.IsZero() {
			ctx["discharge"] = fmtTime(d.Discharge)
		}
		b, _ := json.Marshal(ctx)
		t["output"] = []any{map[string]any{"type": map[string]any{"text": "encounter"}, "valueString": string(b)}}
	}
	return t
}

type taskJSON struct {
	ID         string `json:"id"`
	Identifier []struct {
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"identifier"`
	Status         string    `json:"status"`
	Code           concept   `json:"code"`
	BusinessStatus concept   `json:"businessStatus"`
	Description    string    `json:"description"`
	Focus          reference `json:"focus"`
	For            reference `json:"for"`
	Encounter      reference `json:"encounter"`
	AuthoredOn     string    `json:"authoredOn"`
	Owner          reference `json:"owner"`
	Note           []struct {
		Text string `json:"text"`
	} `json:"note"`
	ExecutionPeriod period `json:"executionPeriod"`
	Restriction     struct {
		Period period `json:"period"`
	} `json:"restriction"`
	Input []struct {
		ValueDate string `json:"valueDate"`
	} `json:"input"`
	Output []struct {
		ValueString string `json:"valueString"`
	} `json:"output"`
}

// fromTask reads back a Task this package wrote; ok is false for any
// other Task.
func fromTask(body []byte) (*taskRec, bool) {
	var j taskJSON
	if json.Unmarshal(body, &j) != nil {
		return nil, false
	}
	key := ""
	for _, id := range j.Identifier {
		if id.System == KeySystem {
			key = id.Value
		}
	}
	if key == "" {
		return nil, false
	}
	d := &Deficiency{Key: key, Rule: j.Code.code(RuleSystem), Kind: j.BusinessStatus.code(KindSystem), Title: j.Code.Text,
		Encounter: j.Encounter.Reference, Patient: j.For.Reference, Focus: j.Focus.Reference, Owner: j.Owner.Reference,
		Open: j.Status == StatusRequested, Evidence: j.Description}
	if len(j.Note) > 0 && len(j.Note[0].Text) > len("To clear: ") {
		d.Clear = j.Note[0].Text[len("To clear: "):]
	}
	d.Since, _ = parseTime(j.ExecutionPeriod.Start, nil)
	d.Cleared, _ = parseTime(j.ExecutionPeriod.End, nil)
	d.Due, _ = parseTime(j.Restriction.Period.End, nil)
	if len(j.Input) > 0 {
		d.Date = j.Input[0].ValueDate
	}
	if len(j.Output) > 0 {
		var ctx struct{ Service, Class, Discharge string }
		if json.Unmarshal([]byte(j.Output[0].ValueString), &ctx) == nil {
			d.Service, d.Class = ctx.Service, ctx.Class
			d.Discharge, _ = parseTime(ctx.Discharge, nil)
		}
	}
	authored, _ := parseTime(j.AuthoredOn, nil)
	return &taskRec{ID: j.ID, Status: j.Status, Authored: authored, D: d}, true
}

// same says whether a Task already says what d and status would.
func same(r *taskRec, d *Deficiency, status string) bool {
	o := r.D
	return r.Status == status && o.Kind == d.Kind && o.Owner == d.Owner && o.Evidence == d.Evidence &&
		o.Focus == d.Focus && fmtTime(o.Since) == fmtTime(d.Since) && fmtTime(o.Due) == fmtTime(d.Due) &&
		fmtTime(o.Cleared) == fmtTime(d.Cleared) && o.Service == d.Service && o.Class == d.Class &&
		fmtTime(o.Discharge) == fmtTime(d.Discharge) && o.Title == d.Title && o.Clear == d.Clear
}

// TaskDeficiency reads a chart Task's body back as its deficiency and
// status; ok is false for a Task this package did not write.
func TaskDeficiency(body []byte) (d *Deficiency, status string, ok bool) {
	r, ok := fromTask(body)
	if !ok {
		return nil, "", false
	}
	return r.D, r.Status, true
}
