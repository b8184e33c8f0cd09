package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/codeset"
	"github.com/custodian-him/custodian/coding"
	"github.com/custodian-him/custodian/drg"
)

// suggest implements "custodian code suggest": codes suggested from a
// note's text, best first, with the evidence for each.
func (c *CodeCommand) suggest(file, setting, format, dateText string, limit int) error {
	if format != "tsv" && format != "json" {
		return custodian.Errorf(custodian.EINVALID, "--format must be tsv or json")
	}
	st, err := coding.ParseSetting(setting)
	if err != nil {
		return err
	}
	on, err := codeset.ParseDate(dateText)
	if err != nil {
		return err
	}
	var r io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return custodian.Wrap(custodian.EINVALID, err, "the note file cannot be opened")
		}
		defer f.Close()
		r = f
	}
	// Read one byte past the limit so an over-long note is reported as such.
	text, err := io.ReadAll(io.LimitReader(r, coding.MaxText+1))
	if err != nil {
		return custodian.Wrap(custodian.EINVALID, err, "the note cannot be read")
	}
	set, err := codeset.Load()
	if err != nil {
		return err
	}
	s, err := coding.NewSuggester(set)
	if err != nil {
		return err
	}
	out, err := s.Suggest(string(text), coding.Options{Setting: st, Date: on, Limit: limit})
	if err != nil {
		return err
	}
	if format == "json" {
		if out == nil {
			out = []coding.Suggestion{}
		}
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Setting     coding.Setting      `json:"setting"`
			Suggestions []coding.Suggestion `json:"suggestions"`
		}{st, out})
	}
	for _, sg := range out {
		ev := ""
		if len(sg.Evidence) > 0 {
			e := sg.Evidence[0]
			ev = fmt.Sprintf("%d-%d %s", e.Start, e.End, strings.Join(strings.Fields(e.Text), " "))
		}
		fmt.Fprintf(c.Stdout, "%s\t%s\t%.3f\t%s\n", sg.Code, sg.Title, sg.Score, ev)
	}
	return nil
}

// CodingCommand reports on the coding work queue: the DNFB list and coder
// productivity.
type CodingCommand struct {
	Stdout, Stderr io.Writer
}

const codingUsage = `Usage:
  custodian coding queue [--data DIR|--db URL] [--format tsv|json]
      the discharged, not final coded inpatient encounters, oldest first
      (TSV: encounter, patient, discharged, age in days, status), then the
      age buckets on standard error
  custodian coding productivity [--data DIR|--db URL] [--from DATE] [--to DATE] [--format tsv|json]
      per coder, from the coding Claims' history: finalised, encounters,
      rework, drafts, active hours, encounters per hour, edit rate
`

// Run implements "custodian coding".
func (c *CodingCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "queue" && args[0] != "productivity") {
		fmt.Fprint(c.Stderr, codingUsage)
		if len(args) == 0 {
			return flag.ErrHelp
		}
		return custodian.Errorf(custodian.EINVALID, "coding: expected queue or productivity, not %q", args[0])
	}
	fs := flag.NewFlagSet("coding "+args[0], flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() { fmt.Fprint(c.Stderr, codingUsage); fs.PrintDefaults() }
	sf := addStoreFlags(fs)
	format := fs.String("format", "tsv", "tsv or json")
	fromS := fs.String("from", "", "productivity: first day (YYYY-MM-DD)")
	toS := fs.String("to", "", "productivity: last day (YYYY-MM-DD)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *format != "tsv" && *format != "json" {
		return custodian.Errorf(custodian.EINVALID, "coding: --format must be tsv or json")
	}
	var from, to time.Time
	var err error
	if *fromS != "" {
		if from, err = time.Parse(time.DateOnly, *fromS); err != nil {
			return custodian.Errorf(custodian.EINVALID, "coding: --from %q is not a date (YYYY-MM-DD)", *fromS)
		}
	}
	if *toS != "" {
		if to, err = time.Parse(time.DateOnly, *toS); err != nil {
			return custodian.Errorf(custodian.EINVALID, "coding: --to %q is not a date (YYYY-MM-DD)", *toS)
		}
		to = to.AddDate(0, 0, 1)
	}
	a, err := openApp(ctx, *sf.data, *sf.url, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer a.Close()
	ctx = withCLI(ctx)
	set, err := codeset.Load()
	if err != nil {
		return err
	}
	q, err := coding.NewQueue(a.store, set, drg.New())
	if err != nil {
		return err
	}
	enc := json.NewEncoder(c.Stdout)
	enc.SetIndent("", "  ")
	if args[0] == "queue" {
		list, err := q.DNFB(ctx)
		if err != nil {
			return err
		}
		buckets := coding.AgeBuckets(list)
		if *format == "json" {
			if list == nil {
				list = []coding.DNFBItem{}
			}
			return enc.Encode(struct {
				Encounters []coding.DNFBItem  `json:"encounters"`
				Buckets    []coding.AgeBucket `json:"buckets"`
			}{list, buckets})
		}
		for _, it := range list {
			fmt.Fprintf(c.Stdout, "%s\t%s\t%s\t%d\t%s\n", it.Encounter, it.Patient, it.Discharged.Format(time.DateOnly), it.AgeDays, it.Status)
		}
		var bs []string
		for _, b := range buckets {
			bs = append(bs, fmt.Sprintf("%s days: %d", b.Label, b.Count))
		}
		fmt.Fprintf(c.Stderr, "%d not final coded; %s\n", len(list), strings.Join(bs, ", "))
		return nil
	}
	rep, err := q.Productivity(ctx, from, to)
	if err != nil {
		return err
	}
	if *format == "json" {
		return enc.Encode(rep)
	}
	fmt.Fprintln(c.Stdout, "coder\tfinalized\tencounters\trefinalized\tdrafts\tactive_hours\tper_hour\tedit_rate")
	for _, s := range rep.Coders {
		fmt.Fprintf(c.Stdout, "%s\t%d\t%d\t%d\t%d\t%d\t%.2f\t%.3f\n", s.Coder, s.Finalized, s.Encounters, s.Refinalized, s.Drafts, s.ActiveHours, s.PerHour, s.EditRate)
	}
	return nil
}
