package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/custodian-him/custodian/synth"
)

const generateUsage = `Usage: custodian generate --patients N [--seed S] --out DIR [flags]

Writes a synthetic hospital as Bulk Data NDJSON: one file per resource type
(Patient.ndjson, Encounter.ndjson, …) and ground-truth.ndjson, the facts the
generator injected (duplicate registrations, look-alike non-duplicates and
households, overlays, chart deficiencies, readmissions, deaths, transfers
and discharges against advice, sensitive records, identifiers planted in
notes, the expected coding of every inpatient stay). The same flags always
give byte-identical files. --patients-only writes just Patient.ndjson and
the identity facts, for master patient index tests at scale.

`

// GenerateCommand runs "custodian generate".
type GenerateCommand struct {
	Stdout, Stderr io.Writer
}

// Run parses the flags and generates.
func (c *GenerateCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() {
		fmt.Fprint(c.Stderr, generateUsage)
		fs.PrintDefaults()
	}
	patients := fs.Int("patients", 100, "number of distinct people")
	seed := fs.Uint64("seed", 1, "random seed")
	out := fs.String("out", "", "output directory (created; must hold no NDJSON yet)")
	gz := fs.Bool("gzip", false, "gzip every file (.ndjson.gz)")
	start := fs.String("start", "2022-10-01", "first day of the period encounters fall in")
	end := fs.String("end", "2025-09-30", "last day of the period (the data's as-of date)")
	dupRate := fs.Float64("duplicate-rate", 0.02, "share of people registered twice")
	trapRate := fs.Float64("trap-rate", 0.012, "share of people who are a twin, junior/senior or namesake of another")
	householdRate := fs.Float64("household-rate", 0.03, "share of people who live with another patient (spouse, parent or child: same address and home phone)")
	overlayRate := fs.Float64("overlay-rate", 0.002, "share of people one of whose visits is filed under another person's record")
	patientsOnly := fs.Bool("patients-only", false, "write only Patient resources and the identity ground truth (master patient index tests at scale)")
	workers := fs.Int("workers", 0, "generating goroutines (0: one per CPU); the output does not depend on it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("generate: unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		fs.Usage()
		return errors.New("generate: --out DIR is required")
	}
	cfg := synth.Config{Patients: *patients, Seed: *seed, DuplicateRate: *dupRate, TrapRate: *trapRate,
		HouseholdRate: *householdRate, OverlayRate: *overlayRate, PatientsOnly: *patientsOnly, Workers: *workers}
	var err error
	if cfg.Start, err = time.Parse(time.DateOnly, *start); err != nil {
		return fmt.Errorf("generate: --start: %w", err)
	}
	if cfg.End, err = time.Parse(time.DateOnly, *end); err != nil {
		return fmt.Errorf("generate: --end: %w", err)
	}
	w, err := synth.NewDirWriter(*out, *gz)
	if err != nil {
		return err
	}
	sum, err := synth.Generate(ctx, cfg, w)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	printGenerateSummary(c.Stdout, *out, sum)
	return nil
}

func printGenerateSummary(out io.Writer, dir string, sum *synth.Summary) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(out, "Generated %d people into %s\n\n", sum.Patients, dir)
	fmt.Fprintln(tw, "resource type\tcount\t")
	for _, k := range generateSortedKeys(sum.Resources) {
		fmt.Fprintf(tw, "%s\t%d\t\n", k, sum.Resources[k])
	}
	fmt.Fprintf(tw, "total\t%d\t\n", sum.Total)
	tw.Flush()
	fmt.Fprintln(out)
	fmt.Fprintln(tw, "ground truth\tcount\t")
	for _, k := range generateSortedKeys(sum.Facts) {
		fmt.Fprintf(tw, "%s\t%d\t\n", k, sum.Facts[k])
	}
	tw.Flush()
	per := 0.0
	if sum.Patients > 0 {
		per = float64(sum.Total) / float64(sum.Patients)
	}
	fmt.Fprintf(out, "\n%d resources (%.1f per person, %.1f MB of JSON) in %s: %.0f resources/s\n",
		sum.Total, per, float64(sum.Bytes)/1e6, sum.Elapsed.Round(time.Millisecond), sum.Rate())
}

func generateSortedKeys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
