package bulk

import (
	"slices"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// Params are a kick-off request's parameters by name, as given in the
// query string or a Parameters resource.
type Params map[string][]string

// parseRequest reads the kick-off parameters of an export at level.
// Unknown parameters are errors under strict handling and ignored
// otherwise, as the async pattern allows.
func (x *Exporter) parseRequest(level Level, group string, p Params, strict bool) (Request, error) {
	req := Request{Level: level, Group: group}
	for name, vs := range p {
		switch name {
		case "_outputFormat":
			for _, v := range vs {
				switch v {
				case "application/fhir+ndjson", "application/ndjson", "ndjson":
				default:
					return req, custodian.Errorf(custodian.EINVALID, "_outputFormat %q is not supported; Custodian writes application/fhir+ndjson", v)
				}
			}
		case "_type":
			for _, v := range vs {
				for _, t := range strings.Split(v, ",") {
					t = strings.TrimSpace(t)
					if t == "" {
						continue
					}
					if !slices.Contains(x.Types, t) {
						return req, custodian.Errorf(custodian.EINVALID, "_type names %q, which is not a resource type Custodian serves", t)
					}
					if level != System && !inPatientCompartment(t) {
						return req, custodian.Errorf(custodian.EINVALID, "_type names %q, which is not in the Patient compartment, so a %s-level export has none", t, level)
					}
					if !slices.Contains(req.Types, t) {
						req.Types = append(req.Types, t)
					}
				}
			}
		case "_since":
			if len(vs) != 1 {
				return req, custodian.Errorf(custodian.EINVALID, "_since is given more than once")
			}
			t, err := time.Parse(time.RFC3339Nano, vs[0])
			if err != nil {
				return req, custodian.Errorf(custodian.EINVALID, "_since %q is not a FHIR instant (such as 2024-01-31T12:00:00Z)", vs[0])
			}
			req.Since = t.UTC()
		case "_typeFilter":
			for _, v := range vs {
				for _, f := range strings.Split(v, ",") {
					if f = strings.TrimSpace(f); f == "" {
						continue
					}
					typ, query, ok := strings.Cut(f, "?")
					if !ok || !slices.Contains(x.Types, typ) {
						return req, custodian.Errorf(custodian.EINVALID, "_typeFilter %q is not Type?query for a resource type Custodian serves", f)
					}
					if _, err := x.filterQuery(typ, query); err != nil {
						return req, err
					}
					if req.TypeFilters == nil {
						req.TypeFilters = map[string][]string{}
					}
					req.TypeFilters[typ] = append(req.TypeFilters[typ], query)
				}
			}
		case "patient":
			if level == System {
				return req, custodian.Errorf(custodian.EINVALID, "the patient parameter is for Patient- and Group-level exports")
			}
			for _, v := range vs {
				id := strings.TrimPrefix(v, "Patient/")
				if !store.ValidID(id) {
					return req, custodian.Errorf(custodian.EINVALID, "patient %q is not a reference to a Patient", v)
				}
				if !slices.Contains(req.Patients, id) {
					req.Patients = append(req.Patients, id)
				}
			}
		case "_elements", "includeAssociatedData", "_format":
			if strict && name != "_format" {
				return req, custodian.Errorf(custodian.ENOTIMPLEMENTED, "%s is not supported by this server's $export", name)
			}
		default:
			if strict {
				return req, custodian.Errorf(custodian.EINVALID, "$export does not take %q", name)
			}
		}
	}
	return req, nil
}

// filterQuery parses one _typeFilter query of typ: search parameters only.
func (x *Exporter) filterQuery(typ, query string) (*store.Query, error) {
	q, err := x.Source.ParseQueryString(typ, query)
	if err != nil {
		return nil, err
	}
	if len(q.Sort) > 0 || len(q.Includes) > 0 || q.Summary != "" || len(q.Elements) > 0 {
		return nil, custodian.Errorf(custodian.EINVALID, "_typeFilter %s?%s may hold search parameters only (no _sort, _include, _summary or _elements)", typ, query)
	}
	return q, nil
}

// jobTypes lists the types a job exports, in order.
func (x *Exporter) jobTypes(req Request) []string {
	if len(req.Types) > 0 {
		return req.Types
	}
	var out []string
	for _, t := range x.Types {
		if req.Level == System || inPatientCompartment(t) {
			out = append(out, t)
		}
	}
	return out
}
