package sqldb

import "github.com/custodian-him/custodian/store"

// visibilitySQL adds the condition that keeps sensitive resources out of a
// search unless the actor may see them: all of them, or those of the
// patients it broke the glass for.
func visibilitySQL(v *store.Visibility, where []string, args []any) ([]string, []any) {
	if v == nil || v.All {
		return where, args
	}
	if len(v.Patients) == 0 {
		return append(where, "r.sensitive = 0"), args
	}
	where = append(where, "(r.sensitive = 0 OR r.compartment IN ("+placeholders(len(v.Patients))+"))")
	for _, p := range v.Patients {
		args = append(args, p)
	}
	return where, args
}
