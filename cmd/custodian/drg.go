package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/drg"
)

// DRGCommand groups claims into MS-DRGs and reads site weights tables.
type DRGCommand struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

const drgUsage = `usage:
  custodian drg group [--version V] [--format tsv|json] [--weights TABLE5] [FILE|-]
      group TSV claims (columns id, age, sex, discharge_status, pdx, sdx,
      procedures; optional grouper_version or discharge_date) from FILE or
      standard input; writes id, final_mdc, final_drg, final_grc,
      final_severity, initial_drg, hac_status (+ weight, gmlos, amlos with
      --weights), or one JSON object per claim with the explanation
  custodian drg weights --file TABLE5 [--drg N]
      check a CMS Table 5 (relative weights, GMLOS, AMLOS) and show it
`

// Run runs "drg group" or "drg weights".
func (c *DRGCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.Stderr, drgUsage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "group":
		return c.group(ctx, args[1:])
	case "weights":
		return c.weights(args[1:])
	case "-h", "--help", "help":
		fmt.Fprint(c.Stdout, drgUsage)
		return nil
	}
	fmt.Fprint(c.Stderr, drgUsage)
	return fmt.Errorf("unknown drg command %q", args[0])
}

func readWeightsFile(path string) (*drg.Weights, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, custodian.Wrap(custodian.EINVALID, err, "the weights file cannot be opened")
	}
	defer f.Close()
	return drg.ReadWeights(f)
}

func (c *DRGCommand) weights(args []string) error {
	fs := flag.NewFlagSet("drg weights", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	file := fs.String("file", "", "a CMS Table 5 as TSV or CSV text")
	one := fs.Int("drg", 0, "show only this DRG")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" {
		fmt.Fprintln(c.Stdout, "no weights table loaded: Custodian ships none (CMS publishes Table 5 with each IPPS final rule); give one with --file")
		return nil
	}
	w, err := readWeightsFile(*file)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(c.Stdout)
	defer out.Flush()
	fmt.Fprintf(out, "%d DRGs read from %s\n", w.Len(), *file)
	fmt.Fprintln(out, "drg\tweight\tgmlos\tamlos\ttitle")
	for _, x := range w.All() {
		if *one != 0 && x.DRG != *one {
			continue
		}
		fmt.Fprintf(out, "%03d\t%.4f\t%.1f\t%.1f\t%s\n", x.DRG, x.Weight, x.GMLOS, x.AMLOS, x.Title)
	}
	return nil
}

// drgColumns are the input columns, by position in the line.
type drgColumns struct {
	id, age, sex, dstat, pdx, sdx, procs, version, date int
}

var drgDefaultColumns = drgColumns{0, 1, 2, 3, 4, 5, 6, -1, -1}

func drgHeaderColumns(fields []string) (drgColumns, bool) {
	c := drgColumns{-1, -1, -1, -1, -1, -1, -1, -1, -1}
	for i, f := range fields {
		switch strings.ToLower(strings.TrimSpace(f)) {
		case "id":
			c.id = i
		case "age":
			c.age = i
		case "sex":
			c.sex = i
		case "discharge_status":
			c.dstat = i
		case "pdx":
			c.pdx = i
		case "sdx":
			c.sdx = i
		case "procedures":
			c.procs = i
		case "grouper_version", "version":
			c.version = i
		case "discharge_date":
			c.date = i
		}
	}
	ok := c.id >= 0 && c.age >= 0 && c.sex >= 0 && c.dstat >= 0 && c.pdx >= 0
	return c, ok
}

func (c *DRGCommand) group(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("drg group", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	version := fs.String("version", "", "MS-DRG version for every claim (v41.0, v42.0, v43.0, v43.1); default: the claim's discharge_date or grouper_version column, else "+drg.CurrentVersion)
	format := fs.String("format", "tsv", "output format: tsv or json (one object per claim, with the explanation)")
	weightsFile := fs.String("weights", "", "a CMS Table 5 (TSV or CSV) whose relative weight, GMLOS and AMLOS are added to each claim")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *format != "tsv" && *format != "json" {
		return custodian.Errorf(custodian.EINVALID, "--format must be tsv or json, not %q", *format)
	}
	if *version != "" {
		if _, err := drg.LookupVersion(*version); err != nil {
			return err
		}
	}
	var weights *drg.Weights
	if *weightsFile != "" {
		var err error
		if weights, err = readWeightsFile(*weightsFile); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(c.Stderr, "drg: no weights table loaded (--weights TABLE5): relative weights and lengths of stay are not shown")
	}
	in := c.Stdin
	if fs.NArg() > 1 {
		return custodian.Errorf(custodian.EINVALID, "drg group reads one file")
	}
	if name := fs.Arg(0); name != "" && name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	g := drg.New()
	out := bufio.NewWriterSize(c.Stdout, 256<<10)
	defer out.Flush()
	grouped, failed, err := groupDRGClaims(ctx, g, in, out, c.Stderr, drgGroupOptions{version: *version, json: *format == "json", weights: weights})
	if err != nil {
		return err
	}
	if failed > 0 {
		return custodian.Errorf(custodian.EINVALID, "%d of %d claims could not be grouped (see the messages above)", failed, grouped+failed)
	}
	return nil
}

type drgGroupOptions struct {
	version string
	json    bool
	weights *drg.Weights
}

// groupDRGClaims groups each line of in and writes the results to out; a bad
// line is reported on errs with its line number and the others go on.
func groupDRGClaims(ctx context.Context, g *drg.Grouper, in io.Reader, out *bufio.Writer, errs io.Writer, o drgGroupOptions) (grouped, failed int, err error) {
	br := bufio.NewReaderSize(in, 1<<20)
	cols := drgDefaultColumns
	var claim drg.Claim
	var res drg.Result
	var fields [16]string
	buf := make([]byte, 0, 256)
	lineNo := 0
	header := false
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	bad := func(msg string) {
		failed++
		fmt.Fprintf(errs, "line %d: %s\n", lineNo, msg)
	}
	writeHeader := func() {
		if o.json || header {
			return
		}
		header = true
		out.WriteString("id\tfinal_mdc\tfinal_drg\tfinal_grc\tfinal_severity\tinitial_drg\thac_status")
		if o.weights != nil {
			out.WriteString("\tweight\tgmlos\tamlos")
		}
		out.WriteByte('\n')
	}
	// Lines are read in blocks converted to one string each, so the fields
	// of a claim are substrings and cost no allocation.
	var block string
	for {
		if lineNo%4096 == 0 && ctx.Err() != nil {
			return grouped, failed, ctx.Err()
		}
		if block == "" {
			chunk, rerr := drgReadBlock(br)
			if len(chunk) == 0 {
				if rerr != nil && !errors.Is(rerr, io.EOF) {
					return grouped, failed, rerr
				}
				break
			}
			block = string(chunk)
		}
		nl := strings.IndexByte(block, '\n')
		var line string
		if nl < 0 {
			line, block = block, ""
		} else {
			line, block = block[:nl], block[nl+1:]
		}
		lineNo++
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		n := drgSplitTabs(line, fields[:])
		f := fields[:n]
		if lineNo == 1 && strings.EqualFold(strings.TrimSpace(f[0]), "id") {
			c, ok := drgHeaderColumns(f)
			if !ok {
				return 0, 0, custodian.Errorf(custodian.EINVALID, "line 1: the header must name id, age, sex, discharge_status and pdx")
			}
			cols = c
			continue
		}
		writeHeader()
		get := func(i int) string {
			if i >= 0 && i < n {
				return f[i]
			}
			return ""
		}
		if n <= cols.pdx || n <= cols.dstat {
			bad(fmt.Sprintf("%d columns; a claim has id, age, sex, discharge_status, pdx, sdx, procedures", n))
			continue
		}
		id := get(cols.id)
		if err := claim.ParseFields(get(cols.age), get(cols.sex), get(cols.dstat), get(cols.pdx), get(cols.sdx), get(cols.procs)); err != nil {
			bad(fmt.Sprintf("claim %s: %s", id, custodian.ErrorMessage(err)))
			continue
		}
		opt := drg.Options{Version: o.version, Explain: o.json}
		if opt.Version == "" {
			if v := get(cols.version); v != "" {
				opt.Version = v
			} else if d := get(cols.date); d != "" {
				t, err := time.Parse(time.DateOnly, d)
				if err != nil {
					bad(fmt.Sprintf("claim %s: discharge date %q is not YYYY-MM-DD", id, d))
					continue
				}
				opt.DischargeDate = t
			}
		}
		if err := g.GroupInto(&claim, opt, &res); err != nil {
			bad(fmt.Sprintf("claim %s: %s", id, custodian.ErrorMessage(err)))
			continue
		}
		grouped++
		if o.json {
			if err := enc.Encode(drgResultJSON(id, &res, o.weights)); err != nil {
				return grouped, failed, err
			}
			continue
		}
		buf = buf[:0]
		buf = append(buf, id...)
		buf = append(buf, '\t')
		buf = strconv.AppendInt(buf, int64(res.Final.MDC), 10)
		buf = append(buf, '\t')
		buf = appendDRG(buf, res.Final.DRG)
		buf = append(buf, '\t')
		buf = append(buf, res.Final.Return.String()...)
		buf = append(buf, '\t')
		buf = append(buf, res.Final.Severity.String()...)
		buf = append(buf, '\t')
		buf = appendDRG(buf, res.Initial.DRG)
		buf = append(buf, '\t')
		buf = append(buf, res.HACStatus.String()...)
		if o.weights != nil {
			if w, ok := o.weights.Lookup(res.Final.DRG); ok {
				buf = append(buf, '\t')
				buf = strconv.AppendFloat(buf, w.Weight, 'f', 4, 64)
				buf = append(buf, '\t')
				buf = strconv.AppendFloat(buf, w.GMLOS, 'f', 1, 64)
				buf = append(buf, '\t')
				buf = strconv.AppendFloat(buf, w.AMLOS, 'f', 1, 64)
			} else {
				buf = append(buf, "\t\t\t"...)
			}
		}
		buf = append(buf, '\n')
		if _, err := out.Write(buf); err != nil {
			return grouped, failed, err
		}
	}
	writeHeader()
	return grouped, failed, nil
}

// drgReadBlock reads about 1 MiB of whole lines (the last line may lack its
// newline at the end of the input).
func drgReadBlock(br *bufio.Reader) ([]byte, error) {
	var b []byte
	for len(b) < 1<<20 {
		line, err := br.ReadSlice('\n')
		b = append(b, line...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

func drgSplitTabs(line string, out []string) int {
	n := 0
	for n < len(out)-1 {
		i := strings.IndexByte(line, '\t')
		if i < 0 {
			break
		}
		out[n] = line[:i]
		line = line[i+1:]
		n++
	}
	out[n] = line
	return n + 1
}

func appendDRG(b []byte, d int) []byte {
	if d < 100 {
		b = append(b, '0')
	}
	if d < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(d), 10)
}

// drgClaimJSON is one claim's JSON output.
type drgClaimJSON struct {
	ID            string           `json:"id"`
	Version       string           `json:"version"`
	FinalMDC      int              `json:"final_mdc"`
	FinalDRG      string           `json:"final_drg"`
	FinalGRC      string           `json:"final_grc"`
	FinalSeverity string           `json:"final_severity"`
	InitialDRG    string           `json:"initial_drg"`
	HACStatus     string           `json:"hac_status"`
	Weight        *drgWeightJSON   `json:"weight,omitempty"`
	WeightNote    string           `json:"weight_note,omitempty"`
	Explanation   *drg.Explanation `json:"explanation,omitempty"`
}

type drgWeightJSON struct {
	RelativeWeight float64 `json:"relative_weight"`
	GMLOS          float64 `json:"gmlos"`
	AMLOS          float64 `json:"amlos"`
}

func drgResultJSON(id string, r *drg.Result, w *drg.Weights) drgClaimJSON {
	j := drgClaimJSON{ID: id, Version: r.Version, FinalMDC: r.Final.MDC, FinalDRG: fmt.Sprintf("%03d", r.Final.DRG),
		FinalGRC: r.Final.Return.String(), FinalSeverity: r.Final.Severity.String(),
		InitialDRG: fmt.Sprintf("%03d", r.Initial.DRG), HACStatus: r.HACStatus.String(), Explanation: r.Explanation}
	switch x, ok := w.Lookup(r.Final.DRG); {
	case w == nil:
		j.WeightNote = "no weights table loaded"
	case !ok:
		j.WeightNote = "the weights table has no row for this DRG"
	default:
		j.Weight = &drgWeightJSON{x.Weight, x.GMLOS, x.AMLOS}
	}
	return j
}
