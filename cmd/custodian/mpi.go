package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/mpi"
)

const mpiUsage = `Usage:
  custodian mpi dedupe --in FILE --out PAIRS.csv [flags]
  custodian mpi link --left A --right B --out PAIRS.csv [flags]
  custodian mpi bench --in Patient.ndjson --truth ground-truth.ndjson
  custodian mpi match-bench --url http://HOST:PORT --client-id ID --client-secret S --in Patient.ndjson --truth ground-truth.ndjson

Finds records of the same person (the master patient index's matching).
dedupe compares the records of one file with each other, link those of
one file with those of another. Input is CSV with a header (usual column
names such as given_name, first_name, surname, dob, sex, address_1,
suburb, city, postcode, zip, state, phone, email, soc_sec_id, ssn are
recognised; --map names the others) or FHIR Patient NDJSON (.ndjson), each
optionally gzipped (.gz). The model is fitted to the data without labels.

For link, --map applies to both files and --left-map / --right-map to
one (over --map).

Output is CSV, best first: id_a,id_b,probability,weight,class, where class
is "link" (automatic), "review" (a person decides) or "non-match" (only
below the review threshold, with --threshold).

bench deduplicates generated registrations (custodian generate) and
scores the result against the generator's ground truth: time, peak
memory, precision, recall and F1. match-bench times Patient/$match over
HTTP against a server holding the generated Patients: each request is a
duplicate's second registration, answered right when the first comes
first.

Flags:
`

// MPICommand runs "custodian mpi".
type MPICommand struct {
	Stdout, Stderr io.Writer
}

// Run dispatches to dedupe, link or bench.
func (c *MPICommand) Run(ctx context.Context, args []string) error {
	// A batch run holds every record until it ends: collect garbage less
	// often, within a soft limit (3.5 GiB) under the 4 GiB a million records
	// are allowed.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(3584 << 20))
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.Stderr, mpiUsage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "dedupe", "link":
		return c.match(ctx, args[0], args[1:])
	case "bench":
		return c.bench(ctx, args[1:])
	case "match-bench":
		return c.matchBench(ctx, args[1:])
	}
	fmt.Fprint(c.Stderr, mpiUsage)
	return fmt.Errorf("mpi: unknown subcommand %q", args[0])
}

// inputFlags are the flags that say how to read records.
type inputFlags struct {
	idColumn string
	mapping  string
}

func (f *inputFlags) options() (mpi.CSVOptions, error) {
	opt := mpi.CSVOptions{IDColumn: f.idColumn}
	if f.mapping == "" {
		return opt, nil
	}
	opt.Map = map[string]string{}
	for _, kv := range strings.Split(f.mapping, ",") {
		field, col, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(field) == "" || strings.TrimSpace(col) == "" {
			return opt, custodian.Errorf(custodian.EINVALID, "mpi: --map wants field=column pairs separated by commas, not %q", kv)
		}
		opt.Map[strings.TrimSpace(field)] = strings.TrimSpace(col)
	}
	return opt, nil
}

// readRecords reads a CSV or Patient NDJSON file, gzipped or not.
func readRecords(ctx context.Context, path string, opt mpi.CSVOptions) ([]mpi.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReaderSize(f, 1<<20)
	name := strings.ToLower(path)
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("mpi: %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
		name = strings.TrimSuffix(name, ".gz")
	}
	var recs []mpi.Record
	if strings.HasSuffix(name, ".ndjson") || strings.HasSuffix(name, ".jsonl") {
		recs, err = mpi.ReadPatients(ctx, r)
	} else {
		recs, err = mpi.ReadCSV(r, opt)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return recs, nil
}

func (c *MPICommand) match(ctx context.Context, verb string, args []string) error {
	fs := flag.NewFlagSet("mpi "+verb, flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() {
		fmt.Fprint(c.Stderr, mpiUsage)
		fs.PrintDefaults()
	}
	var in, left, right string
	var leftInf, rightInf inputFlags
	if verb == "dedupe" {
		fs.StringVar(&in, "in", "", "the records (CSV or Patient NDJSON, optionally .gz)")
	} else {
		fs.StringVar(&left, "left", "", "the first file's records")
		fs.StringVar(&right, "right", "", "the second file's records")
		fs.StringVar(&leftInf.mapping, "left-map", "", "field=column pairs for the left file only")
		fs.StringVar(&rightInf.mapping, "right-map", "", "field=column pairs for the right file only")
	}
	var inf inputFlags
	fs.StringVar(&inf.idColumn, "id-column", "", "the CSV column that holds record ids (default: a column named like rec_id or id, else the row number)")
	fs.StringVar(&inf.mapping, "map", "", "field=column pairs, comma separated (fields: "+strings.Join(mpiFields, ", ")+")")
	threshold := fs.Float64("threshold", mpi.DefaultReviewThreshold, "lowest match probability written (0 < P <= 1)")
	out := fs.String("out", "", `the pairs CSV ("-" for standard output)`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return custodian.Errorf(custodian.EINVALID, "mpi %s: unexpected argument %q", verb, fs.Arg(0))
	}
	if *out == "" || (verb == "dedupe" && in == "") || (verb == "link" && (left == "" || right == "")) {
		fs.Usage()
		if verb == "dedupe" {
			return custodian.Errorf(custodian.EINVALID, "mpi dedupe: --in FILE and --out FILE are required")
		}
		return custodian.Errorf(custodian.EINVALID, "mpi link: --left FILE, --right FILE and --out FILE are required")
	}
	if !(*threshold > 0 && *threshold <= 1) {
		return custodian.Errorf(custodian.EINVALID, "mpi %s: --threshold must be a probability above 0 and at most 1", verb)
	}
	opt, err := inf.options()
	if err != nil {
		return err
	}
	leftOpt, rightOpt := opt, opt
	for _, side := range []struct {
		f   *inputFlags
		opt *mpi.CSVOptions
	}{{&leftInf, &leftOpt}, {&rightInf, &rightOpt}} {
		extra, err := side.f.options()
		if err != nil {
			return err
		}
		if len(extra.Map) > 0 {
			m := map[string]string{}
			for k, v := range opt.Map {
				m[k] = v
			}
			for k, v := range extra.Map {
				m[k] = v
			}
			side.opt.Map = m
		}
	}
	start := time.Now()
	var res *mpi.Result
	if verb == "dedupe" {
		recs, err := readRecords(ctx, in, opt)
		if err != nil {
			return err
		}
		res, err = mpi.Dedupe(ctx, recs, mpi.Options{Threshold: *threshold})
		if err != nil {
			return err
		}
	} else {
		l, err := readRecords(ctx, left, leftOpt)
		if err != nil {
			return err
		}
		r, err := readRecords(ctx, right, rightOpt)
		if err != nil {
			return err
		}
		res, err = mpi.Link(ctx, l, r, mpi.Options{Threshold: *threshold})
		if err != nil {
			return err
		}
	}
	if err := writePairs(*out, c.Stdout, res.Pairs); err != nil {
		return err
	}
	counts := map[mpi.Class]int{}
	for _, p := range res.Pairs {
		counts[p.Class]++
	}
	fmt.Fprintf(c.Stderr, "%d records, %d candidate pairs, %d pairs written (%d link, %d review) in %s\n",
		res.Records, res.Candidates, len(res.Pairs), counts[mpi.AutoLink], counts[mpi.Review], time.Since(start).Round(time.Millisecond))
	return nil
}

var mpiFields = []string{mpi.FieldID, mpi.FieldGiven, mpi.FieldMiddle, mpi.FieldFamily, mpi.FieldSuffix, mpi.FieldSex,
	mpi.FieldBirthDate, mpi.FieldStreetNumber, mpi.FieldAddress1, mpi.FieldAddress2, mpi.FieldCity, mpi.FieldPostcode,
	mpi.FieldState, mpi.FieldPhone, mpi.FieldEmail, mpi.FieldSSN}

// writePairs writes the pairs as CSV to path ("-": stdout).
func writePairs(path string, stdout io.Writer, pairs []mpi.Pair) (err error) {
	var w io.Writer = stdout
	if path != "-" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := csv.NewWriter(bw)
	if err := cw.Write([]string{"id_a", "id_b", "probability", "weight", "class"}); err != nil {
		return err
	}
	for _, p := range pairs {
		rec := []string{p.A, p.B, strconv.FormatFloat(p.Probability, 'f', 6, 64), strconv.FormatFloat(p.Weight, 'f', 2, 64), p.Class.String()}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return errors.Join(bw.Flush())
}
