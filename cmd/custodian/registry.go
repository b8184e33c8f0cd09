package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/registry"
)

const registryUsage = `Usage:
  custodian registry list                               registries and their case counts
  custodian registry definition ID                      print a shipped definition (JSON) to copy and change
  custodian registry find [--registry ID]               case finding over the whole record
  custodian registry cases --registry ID [--status candidate|accepted|rejected] [--overdue]
  custodian registry decide --registry ID --patient ID (--accept [--field NAME=VALUE]... | --reject --reason TEXT)
  custodian registry followup --registry ID --patient ID --date YYYY-MM-DD
  custodian registry export --registry ID [--format csv|fhir] [--status S]

Every subcommand but definition takes --data DIR or --db URL, and
--definitions DIR: a directory of registry definitions (*.json) used
instead of the shipped cancer, diabetes and stroke registries.

`

// RegistryCommand runs "custodian registry".
type RegistryCommand struct {
	Stdout, Stderr io.Writer
	// Now is the clock (time.Now if nil), for overdue lists.
	Now func() time.Time
}

type fieldFlags map[string]string

func (f fieldFlags) String() string { return fmt.Sprint(map[string]string(f)) }

func (f fieldFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("--field must be NAME=VALUE, not %q", v)
	}
	f[k] = val
	return nil
}

// Run dispatches the subcommand.
func (c *RegistryCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.Stderr, registryUsage)
		if len(args) == 0 {
			return errors.New("registry: a subcommand is required")
		}
		return nil
	}
	sub := args[0]
	if sub == "definition" {
		if len(args) != 2 {
			return errors.New("registry definition: give one registry id (cancer, diabetes, stroke)")
		}
		b, err := registry.BuiltinJSON(args[1])
		if err != nil {
			return err
		}
		_, err = c.Stdout.Write(b)
		return err
	}
	switch sub {
	case "list", "find", "cases", "decide", "followup", "export":
	default:
		fmt.Fprint(c.Stderr, registryUsage)
		return fmt.Errorf("registry: unknown subcommand %q", sub)
	}
	fs := flag.NewFlagSet("registry "+sub, flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	sf := addStoreFlags(fs)
	defsDir := fs.String("definitions", "", "directory of registry definitions (*.json) instead of the shipped ones")
	reg := fs.String("registry", "", "registry id")
	status := fs.String("status", "", "candidate, accepted or rejected (all if empty)")
	overdue := fs.Bool("overdue", false, "only accepted cases whose follow-up is past due")
	patient := fs.String("patient", "", "patient id")
	accept := fs.Bool("accept", false, "accept the case")
	reject := fs.Bool("reject", false, "reject the case")
	reason := fs.String("reason", "", "why (required to reject)")
	date := fs.String("date", "", "follow-up contact date, YYYY-MM-DD")
	format := fs.String("format", "csv", "export format: csv or fhir")
	fields := fieldFlags{}
	fs.Var(fields, "field", "NAME=VALUE of a registrar field (repeatable)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("registry %s: unexpected argument %q", sub, fs.Arg(0))
	}
	if sub != "list" && sub != "find" && *reg == "" {
		return fmt.Errorf("registry %s: --registry is required", sub)
	}
	switch *status {
	case "", registry.Candidate, registry.Accepted, registry.Rejected:
	default:
		return fmt.Errorf("registry %s: --status must be candidate, accepted or rejected", sub)
	}
	defs, err := loadRegistryDefinitions(*defsDir)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, *sf.data, *sf.url, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer a.Close()
	ctx = withCLI(ctx)
	rec := measure.NewRecord()
	for _, d := range defs {
		for _, l := range d.Criteria.Labs {
			rec.KeepObservations(l.Code)
		}
	}
	svc := &registry.Service{Record: rec, Store: a.store, Definitions: defs, Now: c.Now}
	a.store.Watchers = append(a.store.Watchers, rec.Watcher(), svc.Watcher())
	if err := rec.Load(ctx, measure.BackendSource{Backend: a.db}); err != nil {
		return err
	}
	if err := svc.Load(ctx); err != nil {
		return err
	}
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	switch sub {
	case "list":
		tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCANDIDATES\tACCEPTED\tREJECTED\tOVERDUE\tTITLE")
		for _, d := range defs {
			n := svc.Counts(d.ID)
			over, err := svc.Overdue(d.ID, now)
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\n", d.ID, n[registry.Candidate], n[registry.Accepted], n[registry.Rejected], len(over), d.Title)
		}
		return tw.Flush()
	case "find":
		start := time.Now()
		found, err := svc.FindAll(ctx, *reg)
		if err != nil {
			return err
		}
		per := map[string]int{}
		for _, f := range found {
			per[f.Registry]++
		}
		for _, d := range defs {
			if *reg == "" || d.ID == *reg {
				fmt.Fprintf(c.Stdout, "%s: %d new candidates\n", d.ID, per[d.ID])
			}
		}
		fmt.Fprintf(c.Stderr, "searched %d patients in %s\n", rec.Counts()["Patient"], time.Since(start).Round(time.Millisecond))
		return nil
	case "cases":
		var list []*registry.Abstract
		if *overdue {
			list, err = svc.Overdue(*reg, now)
		} else {
			list, err = svc.Abstracts(*reg, *status, now)
		}
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PATIENT\tSTATUS\tFOUND\tDECIDED\tLAST CONTACT\tNEXT FOLLOW-UP\tOVERDUE\tEVIDENCE")
		for _, x := range list {
			ev := ""
			if len(x.Evidence) > 0 {
				ev = fmt.Sprintf("%s %s %s", x.Evidence[0].Ref, x.Evidence[0].Code, x.Evidence[0].Date)
				if len(x.Evidence) > 1 {
					ev += fmt.Sprintf(" (+%d)", len(x.Evidence)-1)
				}
			}
			od := ""
			if x.Overdue {
				od = "yes"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.Patient, x.Status, x.Found, x.Decided, x.LastContact, x.NextDue, od, ev)
		}
		return tw.Flush()
	case "decide":
		if *patient == "" || *accept == *reject {
			return errors.New("registry decide: --patient and exactly one of --accept and --reject are required")
		}
		cs, err := svc.Decide(ctx, *reg, *patient, *accept, *reason, fields)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "Patient/%s is %s in registry %s\n", cs.Patient, cs.Status, *reg)
		return nil
	case "followup":
		if *patient == "" || *date == "" {
			return errors.New("registry followup: --patient and --date are required")
		}
		if _, err := svc.RecordFollowUp(ctx, *reg, *patient, *date); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "follow-up of Patient/%s recorded on %s\n", *patient, *date)
		return nil
	case "export":
		switch *format {
		case "csv":
			return svc.WriteCSV(c.Stdout, *reg, *status, now)
		case "fhir":
			b, err := svc.Bundle(*reg, now)
			if err != nil {
				return err
			}
			return writeJSONTo(c.Stdout, b)
		}
		return fmt.Errorf("registry export: --format must be csv or fhir, not %q", *format)
	}
	return nil
}

// loadRegistryDefinitions reads every *.json in dir, or the shipped
// registries when dir is "".
func loadRegistryDefinitions(dir string) ([]*registry.Definition, error) {
	if dir == "" {
		return registry.Builtins()
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("registry: no *.json definitions in %s", dir)
	}
	sort.Strings(files)
	var out []*registry.Definition
	seen := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		d, err := registry.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if seen[d.ID] {
			return nil, fmt.Errorf("%s: a second registry %q", f, d.ID)
		}
		seen[d.ID] = true
		out = append(out, d)
	}
	return out, nil
}
