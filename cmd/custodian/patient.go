package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/mpi/identity"
	"github.com/custodian-him/custodian/store"
)

// PatientCommand runs the master patient index's work on the record.
type PatientCommand struct {
	Stdout, Stderr io.Writer
}

const patientUsage = `Usage: custodian patient SUBCOMMAND [--data DIR|--db URL] [flags]

  merge --source ID --target ID [--preview]
        merge Patient/source into Patient/target (the survivor): its data
        moves, it is marked inactive and replaced-by the survivor; prints
        the merge Task and every resource changed
  unmerge --task ID
        undo the merge recorded by Task/ID (refused if a moved resource
        changed since)
  not-duplicate --task ID [--note TEXT]
        close a duplicate-candidate Task: the two are different people
  queue
        score every Patient against the index and queue the new
        duplicate candidates
  report [--format text|json]
        duplicate rate, queue age, merges and unmerges per month
`

// Run implements "custodian patient".
func (c *PatientCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.Stderr, patientUsage)
		return flag.ErrHelp
	}
	sub := args[0]
	fs := flag.NewFlagSet("patient "+sub, flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() { fmt.Fprint(c.Stderr, patientUsage); fs.PrintDefaults() }
	sf := addStoreFlags(fs)
	source := fs.String("source", "", "merge: the patient id retired")
	target := fs.String("target", "", "merge: the surviving patient id")
	preview := fs.Bool("preview", false, "merge: list what would change, write nothing")
	task := fs.String("task", "", "unmerge, not-duplicate: the Task id")
	note := fs.String("note", "", "not-duplicate: why")
	format := fs.String("format", "text", "report: text or json")
	switch sub {
	case "merge", "unmerge", "not-duplicate", "queue", "report":
	default:
		fmt.Fprint(c.Stderr, patientUsage)
		return custodian.Errorf(custodian.EINVALID, "patient: unknown subcommand %q", sub)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return custodian.Errorf(custodian.EINVALID, "patient %s: unexpected argument %q", sub, fs.Arg(0))
	}
	switch {
	case sub == "merge" && (*source == "" || *target == ""):
		return custodian.Errorf(custodian.EINVALID, "patient merge: --source and --target are required")
	case (sub == "unmerge" || sub == "not-duplicate") && *task == "":
		return custodian.Errorf(custodian.EINVALID, "patient %s: --task is required", sub)
	case *format != "text" && *format != "json":
		return custodian.Errorf(custodian.EINVALID, "patient report: --format must be text or json")
	}
	a, err := openApp(ctx, *sf.data, *sf.url, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer a.Close()
	ctx = withCLI(ctx)
	svc := &identity.Service{Store: a.store}
	switch sub {
	case "merge":
		m, err := svc.Merge(ctx, *target, *source, *preview)
		if err != nil {
			return err
		}
		if *preview {
			fmt.Fprintf(c.Stdout, "Merging Patient/%s into Patient/%s would change %d resources:\n", *source, *target, len(m.Changed))
		} else {
			fmt.Fprintf(c.Stdout, "Patient/%s merged into Patient/%s (Task/%s); %d resources changed:\n", *source, *target, m.Task, len(m.Changed))
		}
		for _, r := range m.Changed {
			fmt.Fprintln(c.Stdout, "  "+r)
		}
	case "unmerge":
		m, err := svc.Unmerge(ctx, *task)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "Patient/%s and Patient/%s are separate again; %d resources restored\n", m.Retired, m.Survivor, len(m.Changed))
	case "not-duplicate":
		if err := svc.NotDuplicate(ctx, *task, *note); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "Task/%s closed: different people\n", *task)
	case "queue":
		ix, err := fhirapi.BuildMatchIndex(ctx, a.store)
		if err != nil {
			return err
		}
		svc.Index = ix
		if err := eachPatientID(ctx, a.store, func(id string) { svc.Enqueue(id) }); err != nil {
			return err
		}
		s, err := svc.Sync(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "%d patients scored; %d new duplicate candidates\n", s.Patients, s.Candidates)
	case "report":
		rep, err := svc.Report(ctx)
		if err != nil {
			return err
		}
		if *format == "json" {
			enc := json.NewEncoder(c.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		}
		fmt.Fprintf(c.Stdout, "Master patient index\n\n  patients                 %d\n  open duplicate pairs     %d (%.2f%% of patients)\n  open possible overlays   %d\n  queue age (days)         median %.1f, oldest %.1f\n  declared not duplicates  %d\n\n",
			rep.Patients, rep.OpenCandidates, 100*rep.DuplicateRate, rep.OpenOverlays, rep.MedianDays, rep.OldestDays, rep.NotDuplicate)
		months := map[string]bool{}
		for m := range rep.Merges {
			months[m] = true
		}
		for m := range rep.Unmerges {
			months[m] = true
		}
		list := make([]string, 0, len(months))
		for m := range months {
			list = append(list, m)
		}
		sort.Strings(list)
		fmt.Fprintf(c.Stdout, "  %-8s %7s %9s\n", "month", "merges", "unmerges")
		for _, m := range list {
			fmt.Fprintf(c.Stdout, "  %-8s %7d %9d\n", m, rep.Merges[m], rep.Unmerges[m])
		}
	}
	return nil
}

// eachPatientID calls fn with the id of every current Patient.
func eachPatientID(ctx context.Context, st *store.Store, fn func(string)) error {
	q, err := st.ParseQueryString("Patient", "")
	if err != nil {
		return err
	}
	var after int64
	for {
		rs, next, err := st.ExportPage(ctx, q, store.ExportFilter{After: after, Limit: 1000, MaxBytes: 8 << 20})
		if err != nil {
			return err
		}
		for _, r := range rs {
			fn(r.ID)
		}
		if next == 0 {
			return nil
		}
		after = next
	}
}
