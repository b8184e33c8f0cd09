package store

import (
	"strconv"
	"time"
)

// Method says how a version came to be.
type Method string

// The methods of a version, as in Bundle.entry.request.method.
const (
	MethodCreate Method = "POST"
	MethodUpdate Method = "PUT"
	MethodDelete Method = "DELETE"
	MethodPatch  Method = "PATCH"
)

// Resource is one version of a FHIR resource as stored.
type Resource struct {
	Type        string
	ID          string
	VersionID   int64
	LastUpdated time.Time
	Deleted     bool
	Method      Method
	// Author is the actor id that wrote this version.
	Author string
	// Compartment is the id of the patient whose record this resource is
	// part of ("" for none), from the R4 patient CompartmentDefinition.
	Compartment string
	// Sensitive is set when the version carries a sensitive security
	// label (see SensitiveLabels); it is known when writing only.
	Sensitive bool
	// Body is the resource JSON exactly as it is served, with id and
	// meta.versionId and meta.lastUpdated set. It is nil for a delete.
	Body []byte
}

// ETag is the weak entity tag of r's version, as FHIR uses it.
func (r *Resource) ETag() string { return `W/"` + strconv.FormatInt(r.VersionID, 10) + `"` }

// Ref is the relative reference "Type/id".
func (r *Resource) Ref() string { return r.Type + "/" + r.ID }

// FormatInstant writes t the way Custodian stamps meta.lastUpdated: UTC with
// milliseconds.
func FormatInstant(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }
