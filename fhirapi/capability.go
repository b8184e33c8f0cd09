package fhirapi

import (
	"net/http"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir/search"
)

// RegistryParams lists, for Handler.SearchParams, the parameters of a type
// that can be searched at the moment of asking: _content (and _text for a
// type with a narrative), the R4 ones whose values are indexed, and the
// posted SearchParameters once custodian reindex has
// activated them. A registry kept current by a search.Follower changes its
// answer as SearchParameters are activated, changed (pending again until
// the next reindex) or retired, so the CapabilityStatement follows.
func RegistryParams(reg *search.Registry) func(typ string) []SearchParam {
	return func(typ string) []SearchParam {
		// Full text: every string value of the resource, and the words of
		// its narrative (store.Words, matched as prefixes).
		out := []SearchParam{{Name: "_content", Type: "string", Definition: "http://hl7.org/fhir/SearchParameter/Resource-content"}}
		if reg.HasNarrative(typ) {
			out = append(out, SearchParam{Name: "_text", Type: "string", Definition: "http://hl7.org/fhir/SearchParameter/DomainResource-text"})
		}
		for _, p := range reg.Params(typ) {
			if _, ok := reg.Param(typ, p.Code); ok {
				out = append(out, SearchParam{Name: p.Code, Type: string(p.Kind), Definition: p.URL})
			}
		}
		return out
	}
}

// capabilities serves the CapabilityStatement. It lists only what works.
func (h *Handler) capabilities(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, h.capabilityStatement(r))
	return nil
}

func (h *Handler) capabilityStatement(r *http.Request) map[string]any {
	interactions := []any{}
	for _, c := range []string{"read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create", "search-type"} {
		interactions = append(interactions, map[string]any{"code": c})
	}
	var resources []any
	for _, t := range h.Types {
		params := []any{
			map[string]any{"name": "_id", "type": "token", "definition": "http://hl7.org/fhir/SearchParameter/Resource-id"},
			map[string]any{"name": "_lastUpdated", "type": "date", "definition": "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated"},
		}
		includes := []any{"*"}
		if h.SearchParams != nil {
			for _, p := range h.SearchParams(t) {
				sp := map[string]any{"name": p.Name, "type": p.Type}
				if p.Definition != "" {
					sp["definition"] = p.Definition
				}
				params = append(params, sp)
				if p.Type == "reference" {
					includes = append(includes, t+":"+p.Name)
				}
			}
		}
		resources = append(resources, map[string]any{
			"type":              t,
			"interaction":       interactions,
			"versioning":        "versioned-update",
			"readHistory":       true,
			"updateCreate":      true,
			"conditionalCreate": true,
			"conditionalRead":   "full-support",
			"conditionalUpdate": true,
			"conditionalDelete": "single",
			"referencePolicy":   []any{"literal", "local"},
			"searchParam":       params,
			"searchInclude":     includes,
			"searchRevInclude":  []any{"*"},
		})
		var ops []any
		if t == "Patient" {
			ops = append(ops, map[string]any{"name": "break-glass",
				"definition": "https://custodian-him.org/fhir/OperationDefinition/Patient-break-glass"})
		}
		ops = append(ops, h.operationsOf(t)...)
		if len(ops) > 0 {
			resources[len(resources)-1].(map[string]any)["operation"] = ops
		}
	}
	rest := map[string]any{
		"mode":        "server",
		"resource":    resources,
		"compartment": []any{"http://hl7.org/fhir/CompartmentDefinition/patient"},
		"security": map[string]any{
			"service": []any{map[string]any{"coding": []any{map[string]any{
				"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR"}}}},
			"description": "OAuth2 client credentials at /oauth/token (SMART scopes), or a signed-in session; see /.well-known/smart-configuration",
		},
		"interaction": []any{
			map[string]any{"code": "transaction"}, map[string]any{"code": "batch"},
			map[string]any{"code": "search-system"}, map[string]any{"code": "history-system"},
		},
	}
	if ops := h.operationsOf(""); len(ops) > 0 {
		rest["operation"] = ops
	}
	return map[string]any{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"date":         "2026-11-25",
		"publisher":    "Custodian",
		"kind":         "instance",
		"software":     map[string]any{"name": "Custodian", "version": custodian.Version},
		"implementation": map[string]any{
			"description": "Custodian health information management: the legal patient record",
			"url":         h.base(r),
		},
		"fhirVersion": "4.0.1",
		"format":      []any{"application/fhir+json", "json"},
		"patchFormat": []any{"application/json-patch+json"},
		"rest":        []any{rest},
	}
}

// operationsOf lists the extra operations defined on typ ("" for the
// system level), each name once.
func (h *Handler) operationsOf(typ string) []any {
	var out []any
	seen := map[string]bool{}
	for _, op := range h.Operations {
		if op.Type != typ || op.Name == "" || seen[op.Name] {
			continue
		}
		seen[op.Name] = true
		e := map[string]any{"name": op.Name}
		if op.Definition != "" {
			e["definition"] = op.Definition
		}
		out = append(out, e)
	}
	return out
}
