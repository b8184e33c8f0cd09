package audit

import (
	"strconv"
	"strings"
)

// FHIR code systems used to render entries as AuditEvent resources.
const (
	systemEventType   = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	systemInteraction = "http://hl7.org/fhir/restful-interaction"
	systemDICOM       = "http://dicom.nema.org/resources/ontology/DCM"
	systemPurpose     = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
	systemCustodian   = "https://custodian-him.org/fhir/CodeSystem/audit"
	// ExtensionBreakGlass flags an AuditEvent of break-the-glass access.
	ExtensionBreakGlass = "https://custodian-him.org/fhir/StructureDefinition/break-glass"
)

// Actions of refused steps and operations, besides the reads and writes
// of the Action constants in audit.go: what a service or workbench page
// refused before any resource was read or written.
const (
	// ActionDecide is a step of an HIM workflow (access.DefaultWorkflows:
	// deciding a registry case, working a release request, a merge …)
	// asked of the store's Guard; Query names the workflow and Resources
	// the item ("Type/id", or "Type" for a new one).
	ActionDecide = "decide"
	// ActionOperation is an operation that is neither a read nor a write of
	// the resources it names (the accounting of disclosures, a replay of
	// a feed's dead letters); Query names it ("$accounting" …).
	ActionOperation = "operation"
)

var interactionCode = map[string]string{
	ActionRead: "read", ActionVRead: "vread", ActionSearch: "search-type", ActionHistory: "history-instance",
	ActionCreate: "create", ActionUpdate: "update", ActionPatch: "patch", ActionDelete: "delete",
	ActionTransaction: "transaction", ActionOperation: "operation",
}

var crud = map[string]string{
	ActionRead: "R", ActionVRead: "R", ActionSearch: "E", ActionHistory: "R", ActionCreate: "C",
	ActionUpdate: "U", ActionPatch: "U", ActionDelete: "D", ActionTransaction: "E", ActionExport: "R",
	ActionSignIn: "E", ActionBreakGlass: "E", ActionDecide: "E", ActionOperation: "E",
}

// AuditEvent renders e as a FHIR R4 AuditEvent resource.
func (e *Entry) AuditEvent() map[string]any {
	ev := map[string]any{
		"resourceType": "AuditEvent",
		"id":           strconv.FormatInt(e.Seq, 10),
		"recorded":     e.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		"action":       crud[e.Action],
		"outcome":      outcomeCode(e.Outcome),
		"source": map[string]any{
			"observer": map[string]any{"display": "Custodian"},
			"type":     []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4", "display": "Application Server"}},
		},
	}
	switch e.Action {
	case ActionSignIn:
		ev["type"] = map[string]any{"system": systemDICOM, "code": "110114", "display": "User Authentication"}
		ev["subtype"] = []any{map[string]any{"system": systemDICOM, "code": "110122", "display": "Login"}}
	case ActionExport:
		ev["type"] = map[string]any{"system": systemDICOM, "code": "110106", "display": "Export"}
	case ActionBreakGlass:
		ev["type"] = map[string]any{"system": systemDICOM, "code": "110113", "display": "Security Alert"}
		ev["subtype"] = []any{map[string]any{"system": systemCustodian, "code": "break-glass", "display": "Break-the-glass access"}}
	case ActionDecide:
		ev["type"] = map[string]any{"system": systemCustodian, "code": ActionDecide, "display": "HIM workflow step"}
		if e.Query != "" {
			ev["subtype"] = []any{map[string]any{"system": systemCustodian, "code": e.Query}}
		}
	default:
		ev["type"] = map[string]any{"system": systemEventType, "code": "rest", "display": "RESTful Operation"}
		if c := interactionCode[e.Action]; c != "" {
			ev["subtype"] = []any{map[string]any{"system": systemInteraction, "code": c}}
		}
	}
	if e.Outcome != "success" {
		ev["outcomeDesc"] = e.Outcome
	}
	agent := map[string]any{"requestor": true}
	who := map[string]any{"display": e.Actor}
	if e.Actor == "" {
		who["display"] = "unknown"
	}
	if e.ActorKind != "" {
		who["identifier"] = map[string]any{"system": "https://custodian-him.org/fhir/sid/" + e.ActorKind, "value": orUnknown(e.Actor)}
	}
	agent["who"] = who
	if len(e.Roles) > 0 {
		var roles []any
		for _, r := range e.Roles {
			roles = append(roles, map[string]any{"text": r})
		}
		agent["role"] = roles
	}
	if e.Address != "" {
		agent["network"] = map[string]any{"address": e.Address, "type": "2"}
	}
	if e.Purpose != "" {
		agent["purposeOfUse"] = []any{map[string]any{"coding": []any{map[string]any{"system": systemPurpose, "code": e.Purpose}}}}
	}
	ev["agent"] = []any{agent}
	var entities []any
	for _, p := range e.Patients {
		entities = append(entities, map[string]any{
			"what": map[string]any{"reference": "Patient/" + p},
			"role": map[string]any{"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"},
		})
	}
	for _, r := range e.Resources {
		entities = append(entities, map[string]any{"what": map[string]any{"reference": r}})
	}
	if e.Query != "" {
		entities = append(entities, map[string]any{"description": "query", "detail": []any{map[string]any{"type": "query", "valueString": e.Query}}})
	}
	if len(entities) > 0 {
		ev["entity"] = entities
	}
	if e.BreakGlass {
		ext := map[string]any{"url": ExtensionBreakGlass, "valueBoolean": true}
		ev["extension"] = []any{ext}
		if e.Reason != "" {
			ev["purposeOfEvent"] = []any{map[string]any{"text": e.Reason}}
		}
	}
	return ev
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// outcomeCode maps an outcome to AuditEvent.outcome: 0 success, 4 minor
// failure (the request was refused), 8 serious failure (something broke).
func outcomeCode(o string) string {
	switch {
	case o == "success":
		return "0"
	case o == "internal" || strings.HasPrefix(o, "timeout"):
		return "8"
	default:
		return "4"
	}
}
