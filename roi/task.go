package roi

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian/store"
)

func param(code string) map[string]any {
	return map[string]any{"coding": []any{map[string]any{"system": InputSystem, "code": code}}}
}

// task returns r as a FHIR Task.
func (r *Request) task() map[string]any {
	var in []any
	add := func(code, kind string, v any) {
		in = append(in, map[string]any{"type": param(code), kind: v})
	}
	add("requester-kind", "valueCode", string(r.RequesterKind))
	if r.RequesterAddress != "" {
		add("requester-address", "valueString", r.RequesterAddress)
	}
	add("basis", "valueCode", string(r.Basis))
	if r.Authorization != "" {
		add("authorization", "valueReference", map[string]any{"reference": "Consent/" + r.Authorization})
	}
	if r.LegalAuthority != "" {
		add("legal-authority", "valueString", r.LegalAuthority)
	}
	if r.IdentityVerified != "" {
		add("identity-verified", "valueString", r.IdentityVerified)
	}
	if !r.From.IsZero() {
		add("date-from", "valueDate", day(r.From))
	}
	if !r.To.IsZero() {
		add("date-to", "valueDate", day(r.To))
	}
	for _, t := range r.Types {
		add("record-type", "valueCode", t)
	}
	for _, c := range r.Categories {
		add("category", "valueCode", c)
	}
	if r.ExtensionReason != "" {
		add("extension", "valueString", r.ExtensionReason)
	}
	reason := map[string]any{"coding": []any{map[string]any{"system": PurposeSystem, "code": r.Purpose, "display": Purposes[r.Purpose]}}}
	if r.PurposeText != "" {
		reason["text"] = r.PurposeText
	}
	t := map[string]any{
		"resourceType":   "Task",
		"identifier":     []any{map[string]any{"system": NumberSystem, "value": r.Number}},
		"status":         taskStatus[r.Status],
		"businessStatus": r.businessStatus(),
		"intent":         "order",
		"priority":       "routine",
		"code":           map[string]any{"coding": []any{map[string]any{"system": TaskSystem, "code": TaskCode, "display": "Release of information"}}},
		"description":    "Release of information to " + r.RequesterName,
		"for":            map[string]any{"reference": "Patient/" + r.Patient},
		"authoredOn":     instant(r.Received),
		"requester":      map[string]any{"display": r.RequesterName},
		"reasonCode":     reason,
		"restriction": map[string]any{"period": map[string]any{"end": instant(r.Due)},
			"recipient": []any{map[string]any{"display": r.RequesterName}}},
		"input": in,
	}
	if r.ID != "" {
		t["id"] = r.ID
	}
	if r.StatusReason != "" {
		t["statusReason"] = map[string]any{"text": r.StatusReason}
	}
	if rel := r.Release; rel != nil {
		var out []any
		put := func(code, kind string, v any) {
			out = append(out, map[string]any{"type": param(code), kind: v})
		}
		put("released", "valueDateTime", instant(rel.Time))
		put("packet", "valueReference", map[string]any{"reference": "DocumentReference/" + rel.DocumentReference})
		put("packet-sha256", "valueString", rel.SHA256)
		put("bundle-sha256", "valueString", rel.BundleSHA256)
		put("pages", "valueInteger", json.Number(strconv.Itoa(rel.Pages)))
		put("included", "valueInteger", json.Number(strconv.Itoa(rel.Included)))
		reasons := make([]string, 0, len(rel.Excluded))
		for k := range rel.Excluded {
			reasons = append(reasons, k)
		}
		sort.Strings(reasons)
		for _, k := range reasons {
			put("excluded", "valueString", fmt.Sprintf("%d\t%s", rel.Excluded[k], k))
		}
		if rel.Consent != "" {
			put("consent-version", "valueReference", map[string]any{"reference": rel.Consent})
		}
		put("delivery-method", "valueCode", rel.Delivery.Method)
		put("delivery-date", "valueDateTime", instant(rel.Delivery.Date))
		put("delivery-recipient", "valueString", rel.Delivery.Recipient)
		t["output"] = out
	}
	return t
}

// businessStatus is the queue status, with ExtendedCode beside it once the
// request is extended (see ExtendedSystem).
func (r *Request) businessStatus() map[string]any {
	codings := []any{map[string]any{"system": StatusSystem, "code": string(r.Status)}}
	text := string(r.Status)
	if r.ExtensionReason != "" {
		codings = append(codings, map[string]any{"system": ExtendedSystem, "code": ExtendedCode})
		text += ", extended"
	}
	return map[string]any{"coding": codings, "text": text}
}

// requestOf reads a Task written by task.
func requestOf(res *store.Resource) (*Request, error) {
	t, err := store.Decode(res.Body)
	if err != nil {
		return nil, err
	}
	r := &Request{ID: res.ID, Version: res.VersionID}
	for _, id := range list(t, "identifier") {
		if str(id, "system") == NumberSystem {
			r.Number = str(id, "value")
		}
	}
	r.Status = Status(codeOf(obj(t, "businessStatus"), StatusSystem))
	r.Patient = trimRef(str(obj(t, "for"), "reference"), "Patient")
	r.Received = parseDay(str(t, "authoredOn"))
	r.RequesterName = str(obj(t, "requester"), "display")
	r.Purpose = codeOf(obj(t, "reasonCode"), PurposeSystem)
	r.PurposeText = str(obj(t, "reasonCode"), "text")
	r.Due = parseDay(str(obj(obj(t, "restriction"), "period"), "end"))
	r.StatusReason = str(obj(t, "statusReason"), "text")
	for _, in := range list(t, "input") {
		switch codeOf(obj(in, "type"), InputSystem) {
		case "requester-kind":
			r.RequesterKind = RequesterKind(str(in, "valueCode"))
		case "requester-address":
			r.RequesterAddress = str(in, "valueString")
		case "basis":
			r.Basis = Basis(str(in, "valueCode"))
		case "authorization":
			r.Authorization = trimRef(str(obj(in, "valueReference"), "reference"), "Consent")
		case "legal-authority":
			r.LegalAuthority = str(in, "valueString")
		case "identity-verified":
			r.IdentityVerified = str(in, "valueString")
		case "date-from":
			r.From = parseDay(str(in, "valueDate"))
		case "date-to":
			r.To = parseDay(str(in, "valueDate"))
		case "record-type":
			r.Types = append(r.Types, str(in, "valueCode"))
		case "category":
			r.Categories = append(r.Categories, str(in, "valueCode"))
		case "extension":
			r.ExtensionReason = str(in, "valueString")
		}
	}
	outs := list(t, "output")
	if len(outs) == 0 {
		return r, nil
	}
	rel := &Release{Excluded: map[string]int{}}
	for _, o := range outs {
		switch codeOf(obj(o, "type"), InputSystem) {
		case "released":
			rel.Time = parseDay(str(o, "valueDateTime"))
		case "packet":
			rel.DocumentReference = trimRef(str(obj(o, "valueReference"), "reference"), "DocumentReference")
		case "packet-sha256":
			rel.SHA256 = str(o, "valueString")
		case "bundle-sha256":
			rel.BundleSHA256 = str(o, "valueString")
		case "pages":
			rel.Pages = intOf(o["valueInteger"])
		case "included":
			rel.Included = intOf(o["valueInteger"])
		case "excluded":
			n, reason, _ := strings.Cut(str(o, "valueString"), "\t")
			rel.Excluded[reason], _ = strconv.Atoi(n)
		case "consent-version":
			rel.Consent = str(obj(o, "valueReference"), "reference")
		case "delivery-method":
			rel.Delivery.Method = str(o, "valueCode")
		case "delivery-date":
			rel.Delivery.Date = parseDay(str(o, "valueDateTime"))
		case "delivery-recipient":
			rel.Delivery.Recipient = str(o, "valueString")
		}
	}
	r.Release = rel
	return r, nil
}

func intOf(v any) int {
	switch v := v.(type) {
	case json.Number:
		n, _ := v.Int64()
		return int(n)
	case float64:
		return int(v)
	}
	return 0
}
