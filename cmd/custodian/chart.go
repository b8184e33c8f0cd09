package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/chart"
)

// ChartCommand runs chart completeness review.
type ChartCommand struct {
	Stdout, Stderr io.Writer
}

const chartUsage = `Usage: custodian chart review [--data DIR|--db URL] --from DATE --to DATE [--as-of DATE] [--format text|json]

Runs the chart rules over the encounters discharged from --from to --to
(inclusive), writes or updates their deficiency Tasks, and prints a summary:
deficiencies by kind, Tasks created, updated, closed and reopened, and the
records delinquent (incomplete past the completion limit).
`

// Run implements "custodian chart".
func (c *ChartCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.Stderr, chartUsage)
		return flag.ErrHelp
	}
	if args[0] != "review" {
		fmt.Fprint(c.Stderr, chartUsage)
		return custodian.Errorf(custodian.EINVALID, "chart: expected the subcommand review")
	}
	fs := flag.NewFlagSet("chart review", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() { fmt.Fprint(c.Stderr, chartUsage); fs.PrintDefaults() }
	sf := addStoreFlags(fs)
	fromS := fs.String("from", "", "first discharge date (YYYY-MM-DD)")
	toS := fs.String("to", "", "last discharge date (YYYY-MM-DD)")
	asOf := fs.String("as-of", "", "evaluate as of this date (YYYY-MM-DD; default now)")
	format := fs.String("format", "text", "text or json")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	from, err := time.Parse(time.DateOnly, *fromS)
	if err != nil {
		return custodian.Errorf(custodian.EINVALID, "chart review: --from %q is not a date (YYYY-MM-DD)", *fromS)
	}
	to, err := time.Parse(time.DateOnly, *toS)
	if err != nil {
		return custodian.Errorf(custodian.EINVALID, "chart review: --to %q is not a date (YYYY-MM-DD)", *toS)
	}
	if to.Before(from) {
		return custodian.Errorf(custodian.EINVALID, "chart review: --to is before --from")
	}
	if *format != "text" && *format != "json" {
		return custodian.Errorf(custodian.EINVALID, "chart review: --format must be text or json")
	}
	now := time.Now()
	if *asOf != "" {
		if now, err = time.Parse(time.DateOnly, *asOf); err != nil {
			return custodian.Errorf(custodian.EINVALID, "chart review: --as-of %q is not a date (YYYY-MM-DD)", *asOf)
		}
	}
	a, err := openApp(ctx, *sf.data, *sf.url, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer a.Close()
	ctx = withCLI(ctx)
	rv := chart.NewReviewer(a.store)
	rv.Codes = a.codes
	rv.Now = func() time.Time { return now }
	start := time.Now()
	if err := rv.Load(ctx); err != nil {
		return err
	}
	loaded := time.Since(start)
	sum, err := rv.ReviewDays(ctx, from.Format(time.DateOnly), to.Format(time.DateOnly))
	if err != nil {
		return err
	}
	took := time.Since(start)
	if *format == "json" {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"from": *fromS, "to": *toS, "rules": rv.Rules().Name + " " + rv.Rules().Version,
			"summary": sum, "loadSeconds": loaded.Seconds(), "seconds": took.Seconds()})
	}
	fmt.Fprintf(c.Stdout, "Chart review of discharges %s to %s (rules %s version %s)\n\n", *fromS, *toS, rv.Rules().Name, rv.Rules().Version)
	fmt.Fprintf(c.Stdout, "  encounters reviewed   %d\n  open deficiencies     %d\n  late (already ended)  %d\n  delinquent records    %d\n\n",
		sum.Encounters, sum.Open, sum.Late, sum.Delinquent)
	kinds := make([]string, 0, len(sum.ByKind))
	for k := range sum.ByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	if len(kinds) > 0 {
		fmt.Fprintf(c.Stdout, "  %-30s %s\n", "deficiency", "count")
		for _, k := range kinds {
			fmt.Fprintf(c.Stdout, "  %-30s %5d\n", k, sum.ByKind[k])
		}
		fmt.Fprintln(c.Stdout)
	}
	fmt.Fprintf(c.Stdout, "Tasks: %d created, %d updated, %d closed, %d reopened (in %s, of which loading %s)\n",
		sum.Created, sum.Updated, sum.Closed, sum.Reopened, took.Round(time.Millisecond), loaded.Round(time.Millisecond))
	return nil
}
