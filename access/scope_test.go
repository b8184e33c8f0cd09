package access_test

import (
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
)

func TestParseScope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		ok   bool
		want string // v2 form
	}{
		{"system/*.read", true, "system/*.rs"},
		{"user/Patient.write", true, "user/Patient.cud"},
		{"patient/Observation.*", true, "patient/Observation.cruds"},
		{"system/Patient.rs", true, "system/Patient.rs"},
		{"system/*.cruds", true, "system/*.cruds"},
		{"user/Observation.rs?category=laboratory", true, "user/Observation.rs?category=laboratory"},
		{"system/Patient.c", true, "system/Patient.c"},
		{"system/Patient.sr", false, ""},   // v2 letters out of order
		{"system/Patient.rr", false, ""},   // repeated
		{"system/Patient.x", false, ""},    // unknown permission
		{"system/Patient.", false, ""},     // empty permission
		{"system/patient.read", false, ""}, // not a type name
		{"admin/Patient.read", false, ""},  // unknown context
		{"openid", false, ""},
		{"launch/patient", false, ""},
		{"system/Patient.read?x=1", false, ""}, // constraints are v2 only
		{"system/Patient.rs?", false, ""},
		{"", false, ""},
		{"system/*", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sc, err := access.ParseScope(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseScope(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil {
				if custodian.ErrorCode(err) != custodian.EINVALID {
					t.Errorf("code %q, want EINVALID", custodian.ErrorCode(err))
				}
				return
			}
			if got := sc.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAllowsScope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		scopes      []string
		typ         string
		interaction string
		want        bool
	}{
		{"v1 read covers read", []string{"system/*.read"}, "Patient", "read", true},
		{"v1 read covers search", []string{"system/*.read"}, "Observation", "search", true},
		{"v1 read covers vread", []string{"system/*.read"}, "Patient", "vread", true},
		{"v1 read covers history", []string{"system/*.read"}, "Patient", "history", true},
		{"v1 read is not create", []string{"system/*.read"}, "Patient", "create", false},
		{"v1 write covers create", []string{"system/Patient.write"}, "Patient", "create", true},
		{"v1 write covers update", []string{"system/Patient.write"}, "Patient", "update", true},
		{"v1 write covers patch", []string{"system/Patient.write"}, "Patient", "patch", true},
		{"v1 write covers delete", []string{"system/Patient.write"}, "Patient", "delete", true},
		{"v1 write is not read", []string{"system/Patient.write"}, "Patient", "read", false},
		{"type must match", []string{"system/Patient.write"}, "Observation", "create", false},
		{"user context counts", []string{"user/Observation.*"}, "Observation", "delete", true},
		{"v2 rs reads", []string{"system/Patient.rs"}, "Patient", "search", true},
		{"v2 r is not s", []string{"system/Patient.r"}, "Patient", "search", false},
		{"v2 s is not r", []string{"system/Patient.s"}, "Patient", "read", false},
		{"v2 cruds", []string{"system/*.cruds"}, "Encounter", "update", true},
		{"v2 u is update", []string{"system/Patient.u"}, "Patient", "patch", true},
		{"v2 u is not create", []string{"system/Patient.u"}, "Patient", "create", false},
		{"second scope grants", []string{"system/Patient.read", "system/Observation.c"}, "Observation", "create", true},
		{"patient scope needs launch context", []string{"patient/*.read"}, "Patient", "read", false},
		{"constrained scope grants nothing here", []string{"system/Observation.rs?category=laboratory"}, "Observation", "read", false},
		{"garbage grants nothing", []string{"system/*.everything", "*"}, "Patient", "read", false},
		{"unknown interaction", []string{"system/*.cruds"}, "Patient", "operate", false},
		{"no scopes", nil, "Patient", "read", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := access.AllowsScope(tt.scopes, tt.typ, tt.interaction); got != tt.want {
				t.Errorf("AllowsScope(%q, %s, %s) = %v, want %v", tt.scopes, tt.typ, tt.interaction, got, tt.want)
			}
		})
	}
}

func TestAllowed(t *testing.T) {
	t.Parallel()
	user := func(roles ...string) *custodian.Actor {
		return &custodian.Actor{ID: "u", Kind: access.KindUser, Roles: roles}
	}
	client := func(scopes ...string) *custodian.Actor {
		return &custodian.Actor{ID: "c", Kind: access.KindClient, Roles: []string{access.RoleIntegrationClient}, Scopes: scopes}
	}
	tests := []struct {
		name        string
		actor       *custodian.Actor
		typ         string
		interaction string
		want        string // "" or an error code
	}{
		{"no actor", nil, "Patient", "read", custodian.EUNAUTHORIZED},
		{"system does anything", custodian.SystemActor(), "AuditEvent", "delete", ""},
		{"clinician reads clinical", user(access.RoleClinician), "Observation", "read", ""},
		{"clinician searches patients", user(access.RoleClinician), "Patient", "search", ""},
		{"clinician writes clinical", user(access.RoleClinician), "Observation", "create", ""},
		{"clinician does not delete", user(access.RoleClinician), "Observation", "delete", custodian.EFORBIDDEN},
		{"clinician does not code claims", user(access.RoleClinician), "Claim", "create", custodian.EFORBIDDEN},
		{"clinician does not read audit", user(access.RoleClinician), "AuditEvent", "read", custodian.EFORBIDDEN},
		{"coder reads clinical", user(access.RoleCoder), "Condition", "read", ""},
		{"coder codes claims", user(access.RoleCoder), "Claim", "update", ""},
		{"coder does not change conditions", user(access.RoleCoder), "Condition", "update", custodian.EFORBIDDEN},
		{"record analyst makes tasks", user(access.RoleRecordAnalyst), "Task", "create", ""},
		{"roi specialist records consent", user(access.RoleROISpecialist), "Consent", "create", ""},
		{"roi specialist does not change patients", user(access.RoleROISpecialist), "Patient", "update", custodian.EFORBIDDEN},
		{"registrar reads encounters", user(access.RoleRegistrar), "Encounter", "read", ""},
		{"registrar reads notes to abstract cases", user(access.RoleRegistrar), "DocumentReference", "read", ""},
		{"registrar searches conditions", user(access.RoleRegistrar), "Condition", "search", ""},
		{"registrar decides registry cases", user(access.RoleRegistrar), "Task", "update", ""},
		{"registrar keeps follow-up lists", user(access.RoleRegistrar), "List", "create", ""},
		{"registrar exports registry groups", user(access.RoleRegistrar), "Group", "create", ""},
		{"registrar does not register patients", user(access.RoleRegistrar), "Patient", "create", custodian.EFORBIDDEN},
		{"registrar does not change patients", user(access.RoleRegistrar), "Patient", "update", custodian.EFORBIDDEN},
		{"registrar does not change encounters", user(access.RoleRegistrar), "Encounter", "update", custodian.EFORBIDDEN},
		{"registrar does not delete tasks", user(access.RoleRegistrar), "Task", "delete", custodian.EFORBIDDEN},
		{"registrar does not read audit", user(access.RoleRegistrar), "AuditEvent", "read", custodian.EFORBIDDEN},
		{"him director merges patients", user(access.RoleHIMDirector), "Patient", "update", ""},
		{"him director deletes tasks", user(access.RoleHIMDirector), "Task", "delete", ""},
		{"him director does not delete observations", user(access.RoleHIMDirector), "Observation", "delete", custodian.EFORBIDDEN},
		{"privacy officer reads audit", user(access.RolePrivacyOfficer), "AuditEvent", "search", ""},
		{"auditor reads audit", user(access.RoleAuditor), "AuditEvent", "read", ""},
		{"auditor does not read clinical", user(access.RoleAuditor), "Observation", "read", custodian.EFORBIDDEN},
		{"nobody writes audit", user(access.RoleAuditor, access.RolePrivacyOfficer, access.RoleAdministrator), "AuditEvent", "create", custodian.EFORBIDDEN},
		{"administrator manages users", user(access.RoleAdministrator), access.TypeUser, "create", ""},
		{"administrator manages clients", user(access.RoleAdministrator), access.TypeClient, "update", ""},
		{"administrator does not read clinical", user(access.RoleAdministrator), "Observation", "read", custodian.EFORBIDDEN},
		{"clinician does not manage users", user(access.RoleClinician), access.TypeUser, "create", custodian.EFORBIDDEN},
		{"roles add up", user(access.RoleAuditor, access.RoleCoder), "Claim", "create", ""},
		{"unknown role grants nothing", user("superuser"), "Patient", "read", custodian.EFORBIDDEN},
		{"client within scope", client("system/*.read"), "Observation", "search", ""},
		{"client outside scope", client("system/*.read"), "Observation", "create", custodian.EFORBIDDEN},
		{"client never manages users", client("system/*.cruds"), access.TypeUser, "create", custodian.EFORBIDDEN},
		{"client with a role is held to it too", &custodian.Actor{Kind: access.KindClient, Roles: []string{access.RoleAuditor}, Scopes: []string{"system/*.read"}}, "Observation", "read", custodian.EFORBIDDEN},
		{"unknown kind", &custodian.Actor{Kind: "robot", Roles: []string{access.RoleClinician}}, "Patient", "read", custodian.EFORBIDDEN},
		{"unknown interaction", user(access.RoleClinician), "Patient", "launch", custodian.EFORBIDDEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := access.Allowed(tt.actor, tt.typ, tt.interaction)
			if got := custodian.ErrorCode(err); got != tt.want {
				t.Fatalf("Allowed = %v (code %q), want code %q", err, got, tt.want)
			}
			if err != nil {
				msg := custodian.ErrorMessage(err)
				if msg == "" || containsAny(msg, tt.typ) {
					t.Errorf("message %q is empty or names the resource type", msg)
				}
			}
		})
	}
}

func containsAny(s, sub string) bool { return len(sub) > 3 && strings.Contains(s, sub) }
