package registry

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/custodian-him/custodian"
)

// A case is a FHIR Task: for the patient, instantiating the registry's
// URL, with status requested (a candidate awaiting review), completed
// (accepted) or rejected; businessStatus says candidate, accepted or
// rejected; Task.output holds the registrar's fields (type.text is the
// field id) and the follow-up contacts (type.text "follow-up").
const (
	taskCodeSystem = CanonicalBase + "CodeSystem/task"
	followUpOutput = "follow-up"
	decidedByInput = "decided-by"
)

var taskStatus = map[string]string{Candidate: "requested", Accepted: "completed", Rejected: "rejected"}

func text(s string) map[string]any { return map[string]any{"text": s} }

// task renders the case as its Task.
func (c *Case) task(d *Definition, now string) map[string]any {
	t := map[string]any{
		"resourceType":    "Task",
		"id":              TaskID(d.ID, c.Patient),
		"status":          taskStatus[c.Status],
		"intent":          "order",
		"businessStatus":  text(c.Status),
		"code":            map[string]any{"coding": []any{map[string]any{"system": taskCodeSystem, "code": "registry-case"}}, "text": "Registry case review"},
		"description":     d.Title,
		"instantiatesUri": d.URL(),
		"for":             map[string]any{"reference": "Patient/" + c.Patient},
		"authoredOn":      cmpOr(c.Found, now),
		"lastModified":    now,
	}
	if c.Status == Rejected && c.Reason != "" {
		t["statusReason"] = text(c.Reason)
	}
	if c.Reason != "" && c.Status != Rejected {
		t["note"] = []any{map[string]any{"text": c.Reason}}
	}
	if c.DecidedBy != "" {
		t["input"] = []any{map[string]any{"type": text(decidedByInput), "valueString": c.DecidedBy}}
	}
	var out []any
	keys := make([]string, 0, len(c.Fields))
	for k := range c.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if v := c.Fields[k]; v != "" {
			out = append(out, map[string]any{"type": text(k), "valueString": v})
		}
	}
	for _, f := range c.FollowUps {
		out = append(out, map[string]any{"type": text(followUpOutput), "valueDate": f})
	}
	if len(out) > 0 {
		t["output"] = out
	}
	return t
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

type taskJSON struct {
	Status          string `json:"status"`
	InstantiatesURI string `json:"instantiatesUri"`
	BusinessStatus  struct {
		Text string `json:"text"`
	} `json:"businessStatus"`
	For struct {
		Reference string `json:"reference"`
	} `json:"for"`
	AuthoredOn   string `json:"authoredOn"`
	LastModified string `json:"lastModified"`
	StatusReason struct {
		Text string `json:"text"`
	} `json:"statusReason"`
	Note []struct {
		Text string `json:"text"`
	} `json:"note"`
	Input  []taskParam `json:"input"`
	Output []taskParam `json:"output"`
}

type taskParam struct {
	Type struct {
		Text string `json:"text"`
	} `json:"type"`
	ValueString string `json:"valueString"`
	ValueDate   string `json:"valueDate"`
}

// parseTask reads a registry case from its Task (nil, nil for a Task
// that is not a registry's).
func parseTask(body []byte) (*Case, error) {
	var t taskJSON
	if err := json.Unmarshal(body, &t); err != nil {
		return nil, custodian.Wrap(custodian.EINTERNAL, err, "a registry Task cannot be read")
	}
	reg, ok := strings.CutPrefix(t.InstantiatesURI, CanonicalBase)
	pid, ok2 := strings.CutPrefix(t.For.Reference, "Patient/")
	if !ok || !ok2 || strings.Contains(reg, "/") {
		return nil, nil
	}
	c := &Case{Registry: reg, Patient: pid, Status: t.BusinessStatus.Text, Found: t.AuthoredOn}
	if _, known := taskStatus[c.Status]; !known {
		return nil, nil
	}
	if c.Status != Candidate {
		c.Decided = t.LastModified
	}
	c.Reason = t.StatusReason.Text
	if c.Reason == "" && len(t.Note) > 0 {
		c.Reason = t.Note[0].Text
	}
	for _, in := range t.Input {
		if in.Type.Text == decidedByInput {
			c.DecidedBy = in.ValueString
		}
	}
	for _, o := range t.Output {
		switch o.Type.Text {
		case followUpOutput:
			c.FollowUps = append(c.FollowUps, o.ValueDate)
		default:
			if c.Fields == nil {
				c.Fields = map[string]string{}
			}
			c.Fields[o.Type.Text] = o.ValueString
		}
	}
	return c, nil
}
