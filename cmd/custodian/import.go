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
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/ingest"
)

const importUsage = `Usage: custodian import [flags] PATH...

Loads FHIR data into the store in --data: NDJSON files (one resource a line,
gzip-compressed or not), Bundle files (transaction, batch, collection,
searchset) and directories of them, such as Synthea's output or a Bulk Data
export. Resources keep their ids, so importing the same data again changes
nothing; an interrupted import resumes where it stopped when run again.

It works whether or not a server is running on the same data directory:
SQLite lets one process write at a time, and each waits for the other.

Every rejected record is written to the error report (one JSON object a
line: file, line or Bundle entry, and the OperationOutcome), and so is every
reference that names no resource once everything is loaded. The exit status
is non-zero when the import stopped early (an I/O or database failure, or an
interruption: run it again to resume), when records were rejected and none
could be loaded, or, with --strict, when any record was rejected.

`

// ImportCommand loads files into the store.
type ImportCommand struct {
	Stdout, Stderr io.Writer
	// Progress overrides the choice between a redrawn progress bar (on a
	// terminal) and periodic lines; for tests.
	Progress *bool
}

// Run parses flags and imports.
func (c *ImportCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() { fmt.Fprint(c.Stderr, importUsage); fs.PrintDefaults() }
	sf := addStoreFlags(fs)
	data, dbURL := sf.data, sf.url
	workers := fs.Int("workers", 0, "parallel decoders/validators/indexers (default: the number of CPUs)")
	batch := fs.Int("batch", 1000, "NDJSON lines written per store commit")
	report := fs.String("report", "", "error report file (default: DATA/import-state/errors-TIME.ndjson)")
	restart := fs.Bool("restart", false, "ignore the checkpoints of earlier runs and read every file from the start")
	strict := fs.Bool("strict", false, "exit non-zero if any record was rejected")
	quiet := fs.Bool("quiet", false, "no progress output, only the summary")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the import to this file")
	tracefile := fs.String("trace", "", "write an execution trace of the import to this file (go tool trace: where goroutines run, wait and block)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("import: name at least one file or directory")
	}
	logger := slog.New(slog.NewTextHandler(c.Stderr, nil))
	a, err := openApp(ctx, *data, *dbURL, logger)
	if err != nil {
		return err
	}
	defer a.Close()

	reportPath := *report
	if reportPath == "" {
		reportPath = filepath.Join(ingest.StateDir(*data), "errors-"+time.Now().UTC().Format("20060102T150405Z")+".ndjson")
	}
	if err := os.MkdirAll(filepath.Dir(reportPath), 0o700); err != nil {
		return err
	}
	rf, err := os.OpenFile(reportPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	im := &ingest.Importer{Store: a.store, Options: ingest.Options{
		Workers: *workers, BatchSize: *batch, StateDir: ingest.StateDir(*data), Restart: *restart, Report: rf,
	}}
	if !*quiet {
		tty := isTerminal(c.Stdout)
		if c.Progress != nil {
			tty = *c.Progress
		}
		if tty {
			im.ProgressEvery = 200 * time.Millisecond
			im.Progress = func(p ingest.Progress) { drawBar(c.Stdout, p) }
		} else {
			im.ProgressEvery = 5 * time.Second
			im.Progress = func(p ingest.Progress) {
				if !p.Done {
					fmt.Fprintln(c.Stdout, progressLine(p))
				}
			}
		}
	}
	if *cpuprofile != "" {
		pf, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *tracefile != "" {
		tf, err := os.Create(*tracefile)
		if err != nil {
			return err
		}
		defer tf.Close()
		if err := trace.Start(tf); err != nil {
			return err
		}
		defer trace.Stop()
	}
	ctx = custodian.NewContextWithActor(ctx, cliActor())
	sum, runErr := im.Run(ctx, fs.Args())
	if cerr := rf.Close(); cerr != nil && runErr == nil {
		runErr = cerr
	}
	if sum == nil {
		os.Remove(reportPath)
		return runErr
	}
	if sum.Rejected == 0 && sum.Dangling == 0 {
		os.Remove(reportPath)
		reportPath = ""
	}
	printSummary(c.Stdout, sum, reportPath)
	// PostgreSQL's planner estimates from statistics that autovacuum took
	// while the load was under way; fresh ones keep searches on the plans
	// the loaded store needs. (SQLite plans without statistics.)
	if *dbURL != "" && sum.Loaded > 0 {
		if _, err := a.db.SQL().ExecContext(ctx, `ANALYZE`); err != nil {
			logger.Warn("import: statistics not refreshed; run ANALYZE", "error", err)
		}
	}
	switch {
	case runErr != nil:
		return runErr
	case sum.Loaded == 0 && sum.Rejected > 0:
		return fmt.Errorf("import: nothing could be loaded (%d records rejected; see %s)", sum.Rejected, reportPath)
	case *strict && sum.Rejected > 0:
		return fmt.Errorf("import: %d records rejected (--strict; see %s)", sum.Rejected, reportPath)
	}
	return nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// drawBar redraws the one-line progress bar.
func drawBar(w io.Writer, p ingest.Progress) {
	const width = 30
	frac := 0.0
	if p.TotalBytes > 0 {
		frac = min(1, float64(p.Bytes)/float64(p.TotalBytes))
	}
	n := int(frac * width)
	bar := strings.Repeat("=", n) + strings.Repeat(" ", width-n)
	if n > 0 && n < width {
		bar = bar[:n-1] + ">" + bar[n:]
	}
	eta := "--"
	if d := p.ETA(); d > 0 {
		eta = d.Round(time.Second).String()
	}
	line := fmt.Sprintf("\r[%s] %3.0f%%  %s resources  %s/s  ETA %s", bar, frac*100, thousands(p.Loaded), thousands(int64(p.Rate())), eta)
	if p.Rejected > 0 {
		line += fmt.Sprintf("  (%s rejected)", thousands(p.Rejected))
	}
	fmt.Fprint(w, line+"\x1b[K")
	if p.Done {
		fmt.Fprintln(w)
	}
}

func progressLine(p ingest.Progress) string {
	s := fmt.Sprintf("import: %s resources loaded, %s rejected, %s/s", thousands(p.Loaded), thousands(p.Rejected), thousands(int64(p.Rate())))
	if p.TotalBytes > 0 {
		s += fmt.Sprintf(", %.0f%% of the input read", 100*float64(p.Bytes)/float64(p.TotalBytes))
	}
	if d := p.ETA(); d > 0 {
		s += ", ETA " + d.Round(time.Second).String()
	}
	return s
}

func printSummary(w io.Writer, s *ingest.Summary, reportPath string) {
	files := fmt.Sprintf("%d files", s.Files)
	if s.Skipped > 0 {
		files += fmt.Sprintf(" (%d already imported)", s.Skipped)
	}
	fmt.Fprintf(w, "Imported %s resources (%s created, %s updated, %s unchanged) from %s in %s: %s resources/s.\n",
		thousands(s.Loaded), thousands(s.Created), thousands(s.Updated), thousands(s.Unchanged), files,
		s.Elapsed.Round(time.Millisecond), thousands(int64(s.Rate())))
	if s.Rejected > 0 {
		fmt.Fprintf(w, "Rejected %s records.\n", thousands(s.Rejected))
	}
	for _, f := range s.NotFHIR {
		fmt.Fprintf(w, "Left out %s: not FHIR (its first record has no resourceType).\n", f)
	}
	if s.References > 0 || s.Dangling > 0 {
		fmt.Fprintf(w, "References: %s checked, %s dangling (%s naming no resource in the store).\n", thousands(s.References), thousands(int64(s.Dangling)), plural(s.Dangling, "target", "targets"))
		for _, r := range s.DanglingRefs {
			fmt.Fprintf(w, "  %s\n", r)
		}
		if s.Dangling > len(s.DanglingRefs) {
			fmt.Fprintf(w, "  … and %s more\n", thousands(int64(s.Dangling-len(s.DanglingRefs))))
		}
	}
	if reportPath != "" {
		fmt.Fprintf(w, "Error report: %s\n", reportPath)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// thousands formats n with thousands separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
