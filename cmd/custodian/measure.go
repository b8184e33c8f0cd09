package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/custodian-him/custodian/measure"
)

const measureUsage = `Usage:
  custodian measure list
  custodian measure show --measure ID                 the FHIR Measure resource
  custodian measure run --measure ID --period FROM/TO [--format json|tsv]
                        [--report summary|subject-list|individual] [--subject PATIENT-ID]
                        [--data DIR | --db URL]

Evaluates a quality or outcome measure over the record: json writes a FHIR
MeasureReport; tsv writes the populations, the score and every stratum
(month, age band, sex, service, attending), and with --report subject-list
the cases behind each population. FROM and TO are dates (YYYY-MM-DD), both
included.

`

// MeasureCommand runs "custodian measure".
type MeasureCommand struct {
	Stdout, Stderr io.Writer
}

// Run dispatches the subcommand.
func (c *MeasureCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.Stderr, measureUsage)
		if len(args) == 0 {
			return errors.New("measure: a subcommand is required (list, show, run)")
		}
		return nil
	}
	switch args[0] {
	case "list":
		tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSCORING\tBASIS\tTITLE")
		for _, d := range measure.Builtins() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.ID, d.Scoring, d.Basis, d.Title)
		}
		return tw.Flush()
	case "show":
		fs := flag.NewFlagSet("measure show", flag.ContinueOnError)
		fs.SetOutput(c.Stderr)
		id := fs.String("measure", "", "measure id (see custodian measure list)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		d := measure.Find(measure.Builtins(), *id)
		if d == nil {
			return fmt.Errorf("measure: no measure %q (see custodian measure list)", *id)
		}
		return writeJSONTo(c.Stdout, d.MeasureResource())
	case "run":
		return c.run(ctx, args[1:])
	}
	fmt.Fprint(c.Stderr, measureUsage)
	return fmt.Errorf("measure: unknown subcommand %q", args[0])
}

func (c *MeasureCommand) run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("measure run", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	sf := addStoreFlags(fs)
	id := fs.String("measure", "", "measure id (see custodian measure list)")
	periodFlag := fs.String("period", "", "FROM/TO, dates YYYY-MM-DD, both included")
	format := fs.String("format", "json", "json (a MeasureReport) or tsv")
	report := fs.String("report", "summary", "summary, subject-list or individual")
	subject := fs.String("subject", "", "the patient id of an individual report")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("measure run: unexpected argument %q", fs.Arg(0))
	}
	d := measure.Find(measure.Builtins(), *id)
	if d == nil {
		return fmt.Errorf("measure run: no measure %q (see custodian measure list)", *id)
	}
	period, err := measure.ParsePeriod(*periodFlag)
	if err != nil {
		return fmt.Errorf("measure run: --period: %w", err)
	}
	if err := measure.CheckReportType(*report); err != nil {
		return fmt.Errorf("measure run: --report: %w", err)
	}
	if (*report == measure.ReportIndividual) != (*subject != "") {
		return errors.New("measure run: an individual report needs --subject, and --subject needs --report individual")
	}
	if *format != "json" && *format != "tsv" {
		return fmt.Errorf("measure run: --format must be json or tsv, not %q", *format)
	}
	a, err := openApp(ctx, *sf.data, *sf.url, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer a.Close()
	ctx = withCLI(ctx)
	start := time.Now()
	rec := measure.NewRecord()
	if err := rec.Load(ctx, measure.BackendSource{Backend: a.db}); err != nil {
		return err
	}
	loaded := time.Since(start)
	start = time.Now()
	res, err := measure.Evaluate(ctx, rec, d, period, measure.Options{Subject: *subject, Lists: *report == measure.ReportSubjectList})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "record read in %s (%d patients), measure evaluated in %s\n",
		loaded.Round(time.Millisecond), rec.Counts()["Patient"], time.Since(start).Round(time.Millisecond))
	if *format == "tsv" {
		return writeResultTSV(c.Stdout, res)
	}
	mr, err := res.MeasureReport(*report, time.Now())
	if err != nil {
		return err
	}
	return writeJSONTo(c.Stdout, mr)
}

func writeJSONTo(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeResultTSV writes a result as tab-separated sections: the overall
// populations and score, the strata, and the cases (if listed).
func writeResultTSV(w io.Writer, r *measure.Result) error {
	head := []string{"stratifier", "stratum"}
	for _, p := range r.Populations {
		head = append(head, p.Code)
	}
	head = append(head, "score")
	if r.Definition.Scoring == measure.ContinuousVariable {
		head = append(head, "observations", "sum")
	}
	var b strings.Builder
	b.WriteString(strings.Join(head, "\t") + "\n")
	row := func(strat, value string, pops []measure.PopulationResult, score float64, has bool, obs measure.Observed) {
		cells := []string{strat, value}
		for _, p := range pops {
			cells = append(cells, strconv.Itoa(p.Count))
		}
		s := ""
		if has {
			s = strconv.FormatFloat(score, 'f', 4, 64)
		}
		cells = append(cells, s)
		if r.Definition.Scoring == measure.ContinuousVariable {
			cells = append(cells, strconv.Itoa(obs.Count), strconv.FormatFloat(obs.Sum, 'f', -1, 64))
		}
		b.WriteString(strings.Join(cells, "\t") + "\n")
	}
	row("all", "", r.Populations, r.Score, r.HasScore, r.Observed)
	for _, s := range r.Strata {
		for _, st := range s.Strata {
			row(s.Code, st.Value, st.Populations, st.Score, st.HasScore, st.Observed)
		}
	}
	if r.Cases(measure.InitialPopulation) != nil {
		b.WriteString("\npopulation\tpatient\tencounter\n")
		for _, p := range r.Populations {
			for _, c := range p.Cases {
				fmt.Fprintf(&b, "%s\tPatient/%s\t%s\n", p.Code, c.Patient, prefixed("Encounter/", c.Encounter))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func prefixed(prefix, id string) string {
	if id == "" {
		return ""
	}
	return prefix + id
}
