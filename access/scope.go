package access

import (
	"slices"
	"strings"

	"github.com/custodian-him/custodian"
)

// Interactions a scope or role may allow. FHIR's finer interactions map
// onto these (see NormalizeInteraction).
const (
	Create = "create"
	Read   = "read"
	Update = "update"
	Delete = "delete"
	Search = "search"
)

// NormalizeInteraction maps a FHIR interaction name onto the five that
// scopes and roles speak of: vread and history are reads, patch is an
// update, search-type and search-system are searches. It returns "" for a
// name it does not know.
func NormalizeInteraction(interaction string) string {
	switch interaction {
	case Read, "vread", "history", "history-instance", "history-type", "history-system":
		return Read
	case Search, "search-type", "search-system":
		return Search
	case Create:
		return Create
	case Update, "patch":
		return Update
	case Delete:
		return Delete
	}
	return ""
}

// Perm is a set of interactions.
type Perm uint8

// The interactions of a Perm, in SMART v2's "cruds" order.
const (
	PermCreate Perm = 1 << iota
	PermRead
	PermUpdate
	PermDelete
	PermSearch

	PermAll = PermCreate | PermRead | PermUpdate | PermDelete | PermSearch
)

func permOf(interaction string) Perm {
	switch NormalizeInteraction(interaction) {
	case Create:
		return PermCreate
	case Read:
		return PermRead
	case Update:
		return PermUpdate
	case Delete:
		return PermDelete
	case Search:
		return PermSearch
	}
	return 0
}

// Scope is a parsed SMART on FHIR resource scope such as
// "system/Patient.read" (v1) or "user/Observation.rs" (v2).
type Scope struct {
	Context      string // patient, user or system
	ResourceType string // a type, or "*" for all
	Perm         Perm
	// Query is a SMART v2 constraint ("category=laboratory"), without "?".
	// A constrained scope grants nothing through AllowsScope, which cannot
	// see the resource; it is kept so it can be shown and checked later.
	Query string
}

// ParseScope parses one SMART v1 or v2 resource scope:
//
//	system/*.read            v1: read covers read, vread, history and search
//	user/Patient.write       v1: write covers create, update, patch and delete
//	patient/Observation.*    v1: everything
//	system/Patient.rs        v2: letters from "cruds", in that order
//	patient/Observation.rs?category=laboratory   v2 with a constraint
//
// It returns an EINVALID error for anything else, including non-resource
// scopes such as "openid" or "launch".
func ParseScope(s string) (Scope, error) {
	bad := func() (Scope, error) {
		return Scope{}, custodian.Errorf(custodian.EINVALID, "%q is not a SMART resource scope (e.g. system/Patient.read, user/*.rs)", truncate(s, 80))
	}
	var sc Scope
	rest, query, hasQuery := strings.Cut(s, "?")
	if hasQuery {
		if query == "" {
			return bad()
		}
		sc.Query = query
	}
	ctx, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return bad()
	}
	switch ctx {
	case "patient", "user", "system":
		sc.Context = ctx
	default:
		return bad()
	}
	typ, perm, ok := strings.Cut(rest, ".")
	if !ok || !validType(typ) {
		return bad()
	}
	sc.ResourceType = typ
	switch perm {
	case "read":
		sc.Perm = PermRead | PermSearch
	case "write":
		sc.Perm = PermCreate | PermUpdate | PermDelete
	case "*":
		sc.Perm = PermAll
	default:
		p, ok := parseCRUDS(perm)
		if !ok {
			return bad()
		}
		sc.Perm = p
	}
	if hasQuery && (perm == "read" || perm == "write" || perm == "*") {
		return bad() // constraints are a v2 feature
	}
	return sc, nil
}

// parseCRUDS parses SMART v2 permissions: a non-empty subsequence of
// "cruds" (order matters, no repeats).
func parseCRUDS(s string) (Perm, bool) {
	const order = "cruds"
	var p Perm
	i := 0
	for _, c := range []byte(s) {
		j := strings.IndexByte(order[i:], c)
		if j < 0 {
			return 0, false
		}
		i += j
		p |= 1 << i
		i++
	}
	return p, s != ""
}

// validType accepts "*" or a FHIR resource type name (an upper-case letter,
// then letters and digits).
func validType(t string) bool {
	if t == "*" {
		return true
	}
	if t == "" || len(t) > 64 || t[0] < 'A' || t[0] > 'Z' {
		return false
	}
	for _, c := range []byte(t) {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// String returns the scope in v2 form ("system/Patient.rs").
func (sc Scope) String() string {
	var b strings.Builder
	b.WriteString(sc.Context + "/" + sc.ResourceType + ".")
	for i, c := range "cruds" {
		if sc.Perm&(1<<i) != 0 {
			b.WriteRune(c)
		}
	}
	if sc.Query != "" {
		b.WriteString("?" + sc.Query)
	}
	return b.String()
}

// Allows reports whether the scope grants interaction on resourceType,
// ignoring its context and any constraint.
func (sc Scope) Allows(resourceType, interaction string) bool {
	p := permOf(interaction)
	return p != 0 && sc.Perm&p == p && (sc.ResourceType == "*" || sc.ResourceType == resourceType)
}

// Covers reports whether everything other grants is granted by sc, so a
// client holding sc may be given other.
func (sc Scope) Covers(other Scope) bool {
	return sc.Context == other.Context &&
		(sc.ResourceType == "*" || sc.ResourceType == other.ResourceType) &&
		other.Perm&^sc.Perm == 0 &&
		(sc.Query == "" || sc.Query == other.Query)
}

// AllowsScope reports whether any of scopes grants interaction (read,
// vread, history, search, create, update, patch or delete) on resourceType.
//
// Only system/ and user/ scopes count, and only unconstrained ones:
// patient/ scopes need a launch context naming the patient, which
// client_credentials does not have, and a v2 constraint (?category=…) needs
// the resource itself. Scopes that do not parse grant nothing.
func AllowsScope(scopes []string, resourceType, interaction string) bool {
	for _, s := range scopes {
		sc, err := ParseScope(s)
		if err != nil || sc.Context == "patient" || sc.Query != "" {
			continue
		}
		if sc.Allows(resourceType, interaction) {
			return true
		}
	}
	return false
}

// ParseScopes splits a space-separated scope list and parses each entry,
// returning EINVALID for the first that is not a resource scope.
// Duplicates are dropped; the original spelling is kept.
func ParseScopes(list string) ([]string, error) {
	var out []string
	for _, s := range strings.Fields(list) {
		if _, err := ParseScope(s); err != nil {
			return nil, err
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// grantScopes returns the scopes a client holding granted may be given when
// it asks for requested (empty: all of granted). ok is false if any
// requested scope is not covered by a granted one.
func grantScopes(granted, requested []string) (out []string, ok bool) {
	if len(requested) == 0 {
		return granted, true
	}
	for _, r := range requested {
		rs, err := ParseScope(r)
		if err != nil {
			return nil, false
		}
		covered := false
		for _, g := range granted {
			if gs, err := ParseScope(g); err == nil && gs.Covers(rs) {
				covered = true
				break
			}
		}
		if !covered {
			return nil, false
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
