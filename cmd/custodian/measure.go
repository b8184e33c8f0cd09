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
	"github.com/custodian-him/custodian/measure/factdb"
	"github.com/custodian-him/custodian/registry"
	"github.com/custodian-him/custodian/store"
)

const measureUsage = `Usage:
  custodian measure list
  custodian measure show --measure ID                 the FHIR Measure resource
  custodian measure run --measure ID --period FROM/TO [--format json|tsv]
                        [--report summary|subject-list|individual] [--subject PATIENT-ID]
                        [--data DIR | --db URL]
  custodian measure startup [--changes N] [--period FROM/TO] [--data DIR | --db URL]
                                                     measure what a start costs

Evaluates a quality or outcome measure over the record: json writes a FHIR
MeasureReport; tsv writes the populations, the score and every stratum
(month, age band, sex, service, attending), and with --report subject-list
the cases behind each population. FROM and TO are dates (YYYY-MM-DD), both
included. run reads the measures' saved facts (kept by serve) and the
changes since, or the whole record when there are none.

startup times, in CPU-seconds and wall time with the load average, the
ways a start fills the measures' record: reading the whole record, a first
start (the whole record, saving its facts), a start from the saved facts,
and, with --changes N, a start after N Conditions were changed while
stopped (it writes them: use a copy of the data). Every built-in measure
over the period must agree between the whole read and the saved facts.

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
			return errors.New("measure: a subcommand is required (list, show, run, startup)")
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
	case "startup":
		return c.startup(ctx, args[1:])
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
	// The record as serve keeps it: the saved facts and the changes since
	// (read only, beside a server that may be saving them).
	rec := measure.NewRecord()
	keepRegistryLabs(rec)
	p := &measure.Projection{Record: rec, Facts: factdb.New(a.db), Source: measure.BackendSource{Backend: a.db}, ReadOnly: true}
	if _, err := p.Load(ctx); err != nil {
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

// keepRegistryLabs keeps the laboratory results the built-in registries'
// criteria read, as serve does, so the facts' format is serve's.
func keepRegistryLabs(rec *measure.Record) {
	defs, err := registry.Builtins()
	if err != nil {
		return
	}
	for _, d := range defs {
		for _, l := range d.Criteria.Labs {
			rec.KeepObservations(l.Code)
		}
	}
}

// startup measures the ways a start fills the measures' record.
func (c *MeasureCommand) startup(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("measure startup", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	sf := addStoreFlags(fs)
	changes := fs.Int("changes", 0, "Conditions to change while stopped before the last start (written to the store)")
	periodFlag := fs.String("period", "2024-10-01/2025-09-30", "the period every built-in measure is compared over, FROM/TO")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("measure startup: unexpected argument %q", fs.Arg(0))
	}
	period, err := measure.ParsePeriod(*periodFlag)
	if err != nil {
		return fmt.Errorf("measure startup: --period: %w", err)
	}
	a, err := openApp(ctx, *sf.data, *sf.url, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer a.Close()
	ctx = withCLI(ctx)
	facts := factdb.New(a.db)
	step := func(what string, fn func() (*measure.Record, string, error)) (*measure.Record, error) {
		load0, cpu0, t0 := loadAverage(), processCPU(), time.Now()
		rec, note, err := fn()
		if err != nil {
			return nil, fmt.Errorf("measure startup: %s: %w", what, err)
		}
		fmt.Fprintf(c.Stdout, "%-44s %7.1f CPU-s %8s wall  load %s -> %s  %s\n", what, (processCPU() - cpu0).Seconds(),
			time.Since(t0).Round(10*time.Millisecond), load0, loadAverage(), note)
		return rec, nil
	}
	newRecord := func() *measure.Record {
		rec := measure.NewRecord()
		keepRegistryLabs(rec)
		return rec
	}
	start := func(readOnly bool) (*measure.Record, string, error) {
		rec := newRecord()
		p := &measure.Projection{Record: rec, Facts: facts, Source: measure.BackendSource{Backend: a.db}, ReadOnly: readOnly}
		st, err := p.Load(ctx)
		return rec, fmt.Sprintf("saved facts used %v, facts or resources %d, replayed %d, position %d", st.Saved, st.Facts, st.Replayed, st.Position), err
	}
	whole, err := step("whole record (the start before saved facts)", func() (*measure.Record, string, error) {
		rec := newRecord()
		err := rec.Load(ctx, measure.BackendSource{Backend: a.db})
		return rec, fmt.Sprint(rec.Counts()), err
	})
	if err != nil {
		return err
	}
	if err := facts.Clear(ctx); err != nil {
		return err
	}
	if _, err := step("first start (whole record, facts saved)", func() (*measure.Record, string, error) { return start(false) }); err != nil {
		return err
	}
	saved, err := step("start from the saved facts", func() (*measure.Record, string, error) { return start(false) })
	if err != nil {
		return err
	}
	if err := sameMeasures(ctx, whole, saved, period); err != nil {
		return fmt.Errorf("measure startup: the start from saved facts: %w", err)
	}
	if *changes > 0 {
		n, err := changeConditions(ctx, a, *changes)
		if err != nil {
			return err
		}
		after, err := step(fmt.Sprintf("start after %d changes while stopped", n), func() (*measure.Record, string, error) { return start(false) })
		if err != nil {
			return err
		}
		fresh := newRecord()
		if err := fresh.Load(ctx, measure.BackendSource{Backend: a.db}); err != nil {
			return err
		}
		if err := sameMeasures(ctx, fresh, after, period); err != nil {
			return fmt.Errorf("measure startup: the start after changes: %w", err)
		}
	}
	fmt.Fprintf(c.Stdout, "every built-in measure over %s agrees between the whole read and the saved facts\n", period)
	return nil
}

// sameMeasures compares every built-in measure's populations (and their
// cases) over period between two records.
func sameMeasures(ctx context.Context, want, got *measure.Record, period measure.Period) error {
	for _, d := range measure.Builtins() {
		w, err := measure.Evaluate(ctx, want, d, period, measure.Options{Lists: true})
		if err != nil {
			return err
		}
		g, err := measure.Evaluate(ctx, got, d, period, measure.Options{Lists: true})
		if err != nil {
			return err
		}
		if len(w.Populations) != len(g.Populations) {
			return fmt.Errorf("%s: %d populations, want %d", d.ID, len(g.Populations), len(w.Populations))
		}
		for i, p := range w.Populations {
			q := g.Populations[i]
			if p.Code != q.Code || p.Count != q.Count || fmt.Sprint(p.Cases) != fmt.Sprint(q.Cases) {
				return fmt.Errorf("%s %s: %d cases, want %d", d.ID, p.Code, q.Count, p.Count)
			}
		}
	}
	return nil
}

// changeConditions writes n Conditions again with another onset date, as
// the command line's actor, as a feed might while the server is stopped,
// and returns how many versions it added.
func changeConditions(ctx context.Context, a *app, n int) (int, error) {
	q, err := a.store.ParseQueryString("Condition", "_count="+strconv.Itoa(min(n, 1000)))
	if err != nil {
		return 0, err
	}
	done := 0
	seed := int(time.Now().UnixNano() / 1e6)
	for done < n {
		page, err := a.store.Search(ctx, q)
		if err != nil {
			return done, err
		}
		var batch []map[string]any
		for _, r := range page.Resources {
			m, err := store.Decode(r.Body)
			if err != nil {
				return done, err
			}
			// A new onset date on every run (an unchanged body would add
			// no version).
			for {
				seed++
				onset := fmt.Sprintf("2025-%02d-%02d", 1+seed%12, 1+(seed/12)%28)
				if m["onsetDateTime"] != onset {
					m["onsetDateTime"] = onset
					break
				}
			}
			batch = append(batch, m)
			if done+len(batch) == n {
				break
			}
		}
		results, err := a.store.PutBatch(ctx, batch)
		if err != nil {
			return done, err
		}
		for _, r := range results {
			if r.Err != nil {
				return done, r.Err
			}
		}
		done += len(batch)
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	return done, nil
}
