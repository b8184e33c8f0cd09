package chart

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Dump describes what rv holds, encounter by encounter (its fields, its
// patient, notes, procedures with the notes and consents naming them,
// diagnoses, results and Tasks), plus entries starting with "_" for what
// belongs to no encounter: every resource kept by reference, the roles,
// the amendments, the discharge counts and the Tasks. Two reviewers that
// would evaluate alike have equal dumps. Without tasks the Tasks are left
// out (a running reviewer keeps those it wrote as it wrote them, to the
// instant, where a start reads them back as stored).
func Dump(rv *Reviewer, tasks bool) map[string]string {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	ix := rv.ix
	out := map[string]string{}
	for ref, e := range ix.encounters {
		var b strings.Builder
		fmt.Fprintf(&b, "enc %q %q %q %q %s %s %s %q %q %v %v %v\n", e.Ref, e.Patient, e.Class, e.Status, tm(e.Start), tm(e.End),
			zone(e.Zone(), e.Start), e.Attending, e.Service, e.AdmitSource, e.Disposition, e.startOK)
		if p := ix.patients[e.Patient]; p != nil {
			b.WriteString(dumpPatient(p))
		}
		for _, n := range byKey(e.notes, func(n *Note) string { return n.Ref }) {
			b.WriteString(dumpNote(ix, n))
		}
		for _, p := range byKey(e.procs(), func(p *Proc) string { return p.Ref }) {
			b.WriteString(dumpProc(p))
			for _, n := range byKey(ix.notesByProc[p.Ref], func(n *Note) string { return n.Ref }) {
				fmt.Fprintf(&b, "  named by note %s\n", n.Ref)
			}
			for _, c := range byKey(ix.consentsByProc[p.Ref], func(c *Consent) string { return c.Ref }) {
				b.WriteString("  " + dumpConsent(c))
			}
		}
		for _, d := range byKey(e.conds, func(d *Diagnosis) string { return d.Ref }) {
			b.WriteString(dumpCond(d))
		}
		for _, r := range byKey(e.results(), func(r *Result) string { return r.key }) {
			b.WriteString(dumpResult(r))
		}
		for _, k := range sorted(rv.byEnc[ref]) {
			if tasks {
				b.WriteString(dumpTask(rv.byEnc[ref][k]))
			}
		}
		out[ref] = b.String()
	}
	global := func(name string, keys []string, f func(string) string) {
		var b strings.Builder
		for _, k := range keys {
			b.WriteString(f(k))
		}
		out["_"+name] = b.String()
	}
	global("patients", sorted(ix.patients), func(k string) string { return dumpPatient(ix.patients[k]) })
	global("notes", sorted(ix.notes), func(k string) string { return dumpNote(ix, ix.notes[k]) })
	global("procs", sorted(ix.procs), func(k string) string { return dumpProc(ix.procs[k]) })
	global("consents", sorted(ix.consents), func(k string) string { return dumpConsent(ix.consents[k]) })
	global("conds", sorted(ix.conds), func(k string) string { return dumpCond(ix.conds[k]) })
	global("obs", sorted(ix.obs), func(k string) string {
		var b strings.Builder
		for _, r := range ix.obs[k] {
			b.WriteString(dumpResult(r))
		}
		return b.String()
	})
	global("roles", sorted(ix.roles), func(k string) string {
		codes := slices.Clone(ix.roles[k])
		slices.Sort(codes)
		if len(codes) == 0 {
			return ""
		}
		return fmt.Sprintf("%s %q\n", k, codes)
	})
	global("roleOf", sorted(ix.roleOf), func(k string) string {
		return fmt.Sprintf("%s %s %q\n", k, ix.roleOf[k].practitioner, ix.roleOf[k].codes)
	})
	global("replaces", sorted(ix.replaces), func(k string) string { return k + " " + ix.replaces[k] + "\n" })
	global("byPatient", sorted(ix.byPatient), func(k string) string {
		if len(ix.byPatient[k]) == 0 {
			return ""
		}
		var refs []string
		for _, e := range byKey(ix.byPatient[k], func(e *Encounter) string { return e.Ref }) {
			refs = append(refs, e.Ref)
		}
		return fmt.Sprintf("%s %q\n", k, refs)
	})
	qs := make([]int64, 0, len(ix.discharges))
	for q := range ix.discharges {
		qs = append(qs, q)
	}
	slices.Sort(qs)
	var b strings.Builder
	for _, q := range qs {
		fmt.Fprintf(&b, "%d:%d ", q, ix.discharges[q])
	}
	out["_discharges"] = b.String()
	if !tasks {
		out["_key"] = ix.key
		return out
	}
	global("tasks", sorted(rv.tasks), func(k string) string { return dumpTask(rv.tasks[k]) })
	global("taskEncounters", sorted(rv.byEnc), func(k string) string {
		if len(rv.byEnc[k]) == 0 {
			return ""
		}
		return fmt.Sprintf("%s %q\n", k, sorted(rv.byEnc[k]))
	})
	out["_key"] = ix.key
	return out
}

// byKey returns a copy of list sorted by key.
func byKey[V any](list []V, key func(V) string) []V {
	out := slices.Clone(list)
	slices.SortFunc(out, func(a, b V) int { return strings.Compare(key(a), key(b)) })
	return out
}

func sorted[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// tm writes a time with its offset ("" when zero).
func tm(t time.Time) string {
	if t.IsZero() {
		return `""`
	}
	return t.Format(time.RFC3339Nano)
}

func zone(loc *time.Location, at time.Time) string {
	if loc == nil {
		return "nil"
	}
	_, off := at.In(loc).Zone()
	return fmt.Sprint(off)
}

func dumpPatient(p *Patient) string {
	return fmt.Sprintf("patient %q %q %s %s %v %v\n", p.Ref, p.Gender, tm(p.Birth), tm(p.Deceased), p.hasBirth, p.hasDead)
}

func dumpNote(ix *Index, n *Note) string {
	return fmt.Sprintf("note %q %q %q %q %q %s %s %v %q %q %q\n", n.Ref, n.Type, n.Encounter, n.Authors, n.Authenticator,
		tm(n.Written), tm(n.Signed), n.Preliminary, n.Related, ix.replaces[n.Ref], n.Text)
}

func dumpProc(p *Proc) string {
	return fmt.Sprintf("proc %q %q %q %q %v %s %s %q\n", p.Ref, p.Encounter, p.System, p.Code, p.Surgical, tm(p.Start), tm(p.End),
		p.Performer)
}

func dumpConsent(c *Consent) string {
	return fmt.Sprintf("consent %q %s %q\n", c.Ref, tm(c.At), c.Procs)
}

func dumpCond(d *Diagnosis) string {
	return fmt.Sprintf("cond %q %q %q %q %q\n", d.Ref, d.Encounter, d.System, d.Code, d.Texts)
}

func dumpResult(r *Result) string {
	return fmt.Sprintf("result %q %q %q %q %q %v\n", r.Ref, r.key, r.Encounter, r.Code, r.Unit, r.Value)
}

func dumpTask(t *taskRec) string {
	d := t.D
	return fmt.Sprintf("task %q %q %s %q %q %q %q %q %q %q %q %q %v %s %s %s %q %q %q %q %s\n", t.ID, t.Status, tm(t.Authored),
		d.Key, d.Rule, d.Kind, d.Title, d.Encounter, d.Patient, d.Focus, d.Date, d.Owner, d.Open, tm(d.Since), tm(d.Due),
		tm(d.Cleared), d.Evidence, d.Clear, d.Service, d.Class, tm(d.Discharge))
}
