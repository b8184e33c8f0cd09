package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/mpi/identity"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
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
  queue [--truth ground-truth.ndjson]
        score every Patient against the index and queue the new
        duplicate candidates; with the generator's ground truth, score
        the whole queue (precision, recall, F1; look-alikes in it)
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
	truth := fs.String("truth", "", "queue: the generator's ground-truth.ndjson, to score the queue against")
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
		start := time.Now()
		ix, err := fhirapi.BuildMatchIndex(ctx, a.store)
		if err != nil {
			return err
		}
		loaded := time.Since(start)
		svc.Index = ix
		if err := eachPatientID(ctx, a.store, func(id string) { svc.Enqueue(id) }); err != nil {
			return err
		}
		s, err := svc.Sync(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "%d patients scored; %d new duplicate candidates (index loaded in %s, %s in all)\n", s.Patients, s.Candidates,
			loaded.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		if *truth != "" {
			return c.scoreQueue(ctx, svc, *truth)
		}
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

// scoreQueue compares the duplicate-candidate queue with the generator's
// ground truth: pairs of the same person found, pairs of different people
// queued (by look-alike kind), and the pairs "link" would have merged.
func (c *PatientCommand) scoreQueue(ctx context.Context, svc *identity.Service, truthPath string) error {
	f, err := os.Open(truthPath)
	if err != nil {
		return err
	}
	dups := map[[2]string]bool{}
	traps := map[[2]string]string{}
	err = synth.ReadFacts(bufio.NewReader(f), func(x *synth.Fact) error {
		k := benchKey(strings.TrimPrefix(x.Patient, "Patient/"), strings.TrimPrefix(x.Other, "Patient/"))
		switch x.Kind {
		case synth.FactDuplicate:
			dups[k] = true
		case synth.FactNotDuplicate:
			traps[k] = x.Detail
		}
		return nil
	})
	f.Close()
	if err != nil {
		return err
	}
	cands, err := svc.Candidates(ctx)
	if err != nil {
		return err
	}
	var tp, fp, tpLink, fpLink int
	kinds := map[string][2]int{} // look-alike kind → review, link
	seen := map[[2]string]bool{}
	for _, x := range cands {
		k := benchKey(x.Patient, x.Other)
		if seen[k] {
			continue
		}
		seen[k] = true
		link := x.Class == "link"
		if dups[k] {
			tp++
			if link {
				tpLink++
			}
			continue
		}
		fp++
		kind := traps[k]
		if kind == "" {
			kind = "stranger"
		}
		n := kinds[kind]
		if link {
			fpLink++
			n[1]++
		} else {
			n[0]++
		}
		kinds[kind] = n
	}
	prf := func(tp, fp int) string {
		p := float64(tp) / float64(max(tp+fp, 1))
		r := float64(tp) / float64(max(len(dups), 1))
		f := 0.0
		if p+r > 0 {
			f = 2 * p * r / (p + r)
		}
		return fmt.Sprintf("precision %.4f recall %.4f F1 %.4f", p, r, f)
	}
	fmt.Fprintf(c.Stdout, "queue              %d pairs, %d of %d duplicate pairs: %s\n", tp+fp, tp, len(dups), prf(tp, fp))
	fmt.Fprintf(c.Stdout, "urgent (link)      %d pairs, %d of different people: %s\n", tpLink+fpLink, fpLink, prf(tpLink, fpLink))
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(c.Stdout, "look-alike %-14s review %d, link %d\n", k, kinds[k][0], kinds[k][1])
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
