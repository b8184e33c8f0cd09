package access

import (
	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// Pseudo resource types for what access itself manages; FHIR has no
// resource of these names, so they cannot clash.
const (
	TypeUser   = "User"
	TypeClient = "Client"
)

// Groups of resource types the role table speaks of.
var (
	// auditTypes are the audit trail; only auditors and privacy officers read it, no one writes it through the API.
	auditTypes = set("AuditEvent")
	// identityTypes are Custodian's own users and clients.
	identityTypes = set(TypeUser, TypeClient)
	// directoryTypes describe the organisation rather than patients.
	directoryTypes = set("Organization", "Location", "Practitioner", "PractitionerRole", "HealthcareService", "Endpoint")
	// himTypes carry HIM work (see ARCHITECTURE.md: merges are Patient.link,
	// work items Task, authorizations Consent, coded encounters Claim,
	// measure results MeasureReport, registries Group and List).
	himTypes = set("Task", "Consent", "Claim", "MeasureReport", "Measure", "Library", "Group", "List")
)

// rule grants perm on the types it matches: listed types, or, when
// clinical is set, every type outside the audit trail and identities.
type rule struct {
	types    map[string]bool
	clinical bool
	except   map[string]bool
	perm     Perm
}

const readSearch = PermRead | PermSearch

// roleRules is the default policy for users, by role. Roles add up: a user
// with two roles may do what either may. Nothing here allows writing the
// audit trail, and only the administrator manages users and clients.
//
// The registrar is the HIM department's disease (tumour, diabetes,
// stroke …) registrar: it abstracts cases from the clinical record, so it
// reads like the record analyst, and its decisions, follow-ups and
// exports are Tasks, Lists and Groups. It does not register patients:
// demographics arrive from the registration feeds and are corrected by the
// HIM director (merges, the master patient index).
//
//	role             reads                              writes (create+update; delete where noted)
//	him-director     clinical                           Patient (merge via link), HIM work types (+delete Task, List, Group)
//	coder            clinical                           Claim, Task
//	record-analyst   clinical                           Task, List
//	roi-specialist   clinical                           Consent, Task
//	registrar        clinical                           Task, List, Group (registry decisions, follow-up, exports)
//	privacy-officer  clinical, AuditEvent               Consent, Task
//	clinician        clinical                           clinical types except HIM work types (no delete)
//	auditor          AuditEvent only                    —
//	administrator    directory types, users, clients    directory types; users and clients (all)
var roleRules = map[string][]rule{
	RoleHIMDirector: {
		{clinical: true, perm: readSearch},
		{types: set("Patient"), perm: PermCreate | PermUpdate},
		{types: himTypes, perm: PermCreate | PermUpdate},
		{types: set("Task", "List", "Group"), perm: PermDelete},
	},
	RoleCoder: {
		{clinical: true, perm: readSearch},
		{types: set("Claim", "Task"), perm: PermCreate | PermUpdate},
	},
	RoleRecordAnalyst: {
		{clinical: true, perm: readSearch},
		{types: set("Task", "List"), perm: PermCreate | PermUpdate},
	},
	RoleROISpecialist: {
		{clinical: true, perm: readSearch},
		{types: set("Consent", "Task"), perm: PermCreate | PermUpdate},
	},
	RoleRegistrar: {
		{clinical: true, perm: readSearch},
		{types: set("Task", "List", "Group"), perm: PermCreate | PermUpdate},
	},
	RolePrivacyOfficer: {
		{clinical: true, perm: readSearch},
		{types: auditTypes, perm: readSearch},
		{types: set("Consent", "Task"), perm: PermCreate | PermUpdate},
	},
	RoleClinician: {
		{clinical: true, perm: readSearch},
		{clinical: true, except: himTypes, perm: PermCreate | PermUpdate},
	},
	RoleAuditor: {
		{types: auditTypes, perm: readSearch},
	},
	RoleAdministrator: {
		{types: directoryTypes, perm: readSearch | PermCreate | PermUpdate},
		{types: identityTypes, perm: PermAll},
	},
}

func (r rule) allows(typ string, p Perm) bool {
	if r.perm&p != p {
		return false
	}
	if r.clinical {
		return typ != "" && !auditTypes[typ] && !identityTypes[typ] && !r.except[typ]
	}
	return r.types[typ]
}

// RolesAllow reports whether any of roles allows interaction on
// resourceType under the default role table.
func RolesAllow(roles []string, resourceType, interaction string) bool {
	p := permOf(interaction)
	if p == 0 {
		return false
	}
	for _, role := range roles {
		for _, r := range roleRules[role] {
			if r.allows(resourceType, p) {
				return true
			}
		}
	}
	return false
}

// Allowed returns nil if actor may perform interaction (read, vread,
// history, search, create, update, patch, delete) on resources of
// resourceType (a FHIR type, or TypeUser / TypeClient), and otherwise an
// error: EUNAUTHORIZED when there is no actor, EFORBIDDEN when it is not
// allowed. The message names neither the resource nor any patient.
//
// The system actor (the process itself) may do anything. A client is held
// to its scopes and, when it has roles other than integration-client, to
// those roles too; a user is held to the role table (see roleRules).
// Patient-level restrictions (security labels, break-the-glass) are checked
// elsewhere, on top of this.
func Allowed(actor *custodian.Actor, resourceType, interaction string) error {
	if actor == nil {
		return custodian.Errorf(custodian.EUNAUTHORIZED, "Authentication is required.")
	}
	if NormalizeInteraction(interaction) == "" {
		return forbidden()
	}
	switch actor.Kind {
	case KindSystem:
		return nil
	case KindClient:
		if identityTypes[resourceType] || !AllowsScope(actor.Scopes, resourceType, interaction) {
			return forbidden()
		}
		if roles := userRoles(actor.Roles); len(roles) > 0 && !RolesAllow(roles, resourceType, interaction) {
			return forbidden()
		}
		return nil
	case KindUser:
		// A user who came with a token from an external issuer may also
		// carry SMART scopes (user/*.read …): then both must allow.
		if len(actor.Scopes) > 0 && (identityTypes[resourceType] || !AllowsScope(actor.Scopes, resourceType, interaction)) {
			return forbidden()
		}
		if RolesAllow(actor.Roles, resourceType, interaction) {
			return nil
		}
	}
	return forbidden()
}

// userRoles drops integration-client, which is a label for clients and
// grants nothing beyond their scopes.
func userRoles(roles []string) []string {
	var out []string
	for _, r := range roles {
		if r != RoleIntegrationClient {
			out = append(out, r)
		}
	}
	return out
}

func forbidden() error {
	return custodian.Errorf(custodian.EFORBIDDEN, "Your role or scopes do not allow this.")
}

func set(types ...string) map[string]bool {
	m := make(map[string]bool, len(types))
	for _, t := range types {
		m[t] = true
	}
	return m
}

// Guard applies this package's policy for the store (store.Guard and
// store.WriteGuard): the role table and scopes through Allowed, who sees
// records that carry sensitive labels without breaking the glass
// (SeesSensitive), and which roles take the steps of the HIM workflows
// whose items are FHIR resources (AllowWrite, see Workflow). The zero
// Guard has the default workflows.
type Guard struct {
	// Workflows replace DefaultWorkflows when not nil. This is the one
	// place a site changes who takes a workflow's steps: the store holds
	// every write to it, and the services (registry, roi, mpi/identity)
	// and the workbench pages (web/release, web/duplicates, web/outcomes,
	// web/feeds) ask the store's Guard (store.WorkflowGuard) rather than
	// keep lists of their own.
	Workflows []Workflow
	// Rules are domain services' rules that writes by users and clients
	// must pass besides who takes them (store.WriteRule), for example
	// coding.Queue.FinalCodingRule: a final coding Claim written through
	// the FHIR API passes the claim edits the coding service runs.
	Rules []store.WriteRule
}

// Allow implements store.Guard with Allowed.
func (Guard) Allow(actor *custodian.Actor, resourceType, interaction string) error {
	return Allowed(actor, resourceType, interaction)
}

// SeesSensitive reports whether actor may see resources with sensitive
// security labels (psychiatry, substance use, HIV, VIP, restricted …)
// without breaking the glass: the system itself (measures, chart review
// and other work Custodian does on its own account); a clinician who states
// treatment (TREAT) or emergency treatment (ETREAT) as the purpose of use;
// and the privacy officer, whose work is overseeing them. Everyone else —
// API clients included — breaks the glass, with a reason that is audited,
// or does without.
func (Guard) SeesSensitive(actor *custodian.Actor) bool {
	if actor == nil {
		return false
	}
	switch actor.Kind {
	case KindSystem:
		return true
	case KindUser:
		for _, r := range actor.Roles {
			switch {
			case r == RolePrivacyOfficer:
				return true
			case r == RoleClinician && (actor.PurposeOfUse == "TREAT" || actor.PurposeOfUse == "ETREAT"):
				return true
			}
		}
	}
	return false
}
