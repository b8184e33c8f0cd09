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

// hides reports whether the search may not see every sensitive resource.
func (b *sqlBuilder) hides() bool { return b.vis != nil && !b.vis.All }

// visibleSQL is the visibility condition on the resources row alias: the
// rows a chain or a _has reaches through must be visible too, or a search
// would find what points at (or is pointed at by) a hidden record, and so
// tell that it exists. It is "1 = 1" when nothing is hidden.
func (b *sqlBuilder) visibleSQL(alias string) (string, []any) {
	if !b.hides() {
		return "1 = 1", nil
	}
	if len(b.vis.Patients) == 0 {
		return alias + ".sensitive = 0", nil
	}
	args := make([]any, len(b.vis.Patients))
	for i, p := range b.vis.Patients {
		args[i] = p
	}
	return "(" + alias + ".sensitive = 0 OR " + alias + ".compartment IN (" + placeholders(len(args)) + "))", args
}
