package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/codeset"
)

// CodeCommand searches, looks up and validates ICD-10-CM and ICD-10-PCS
// codes from the embedded code sets.
type CodeCommand struct {
	Stdout, Stderr io.Writer
}

const codeUsage = `Usage:
  custodian code search TEXT [--system icd10cm|icd10pcs] [--limit N] [--format tsv|json] [--date YYYY-MM-DD] [--billable]
  custodian code lookup CODE [--system icd10cm|icd10pcs] [--date YYYY-MM-DD]
  custodian code validate CODE [--system icd10cm|icd10pcs] [--date YYYY-MM-DD]
  custodian code suggest --file NOTE.txt [--setting inpatient|outpatient] [--limit N] [--format tsv|json] [--date YYYY-MM-DD]
      (--file - reads standard input; TSV: code, title, score, evidence)
`

// Run dispatches to search, lookup or validate. validate returns an error
// (a non-zero exit) when the code may not be reported on the date.
func (c *CodeCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.Stderr, codeUsage)
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet("code "+args[0], flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	system := fs.String("system", "icd10cm", "code system: icd10cm or icd10pcs")
	dateText := fs.String("date", "", "date of service YYYY-MM-DD (default: the latest the code sets cover)")
	limit := fs.Int("limit", 20, "search: most results to print")
	format := fs.String("format", "tsv", "search: tsv (code TAB title) or json")
	billable := fs.Bool("billable", false, "search: reportable codes only")
	file := fs.String("file", "", "suggest: the note's text file (- for standard input)")
	setting := fs.String("setting", "inpatient", "suggest: inpatient or outpatient")
	// flags may come before or after the text
	var rest []string
	for list := args[1:]; ; {
		if err := fs.Parse(list); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		list = fs.Args()[1:]
	}
	if args[0] == "suggest" {
		if len(rest) > 0 || *file == "" {
			fmt.Fprint(c.Stderr, codeUsage)
			return custodian.Errorf(custodian.EINVALID, "code suggest reads the note from --file (- for standard input)")
		}
		return c.suggest(*file, *setting, *format, *dateText, *limit)
	}
	if len(rest) == 0 {
		fmt.Fprint(c.Stderr, codeUsage)
		return custodian.Errorf(custodian.EINVALID, "code %s needs a %s", args[0], map[bool]string{true: "search text", false: "code"}[args[0] == "search"])
	}
	set, err := codeset.Load()
	if err != nil {
		return err
	}
	sysID, err := codeset.ParseSystem(*system)
	if err != nil {
		return err
	}
	cs, err := set.System(sysID)
	if err != nil {
		return err
	}
	on, err := codeset.ParseDate(*dateText)
	if err != nil {
		return err
	}
	switch args[0] {
	case "search":
		if *limit < 1 {
			return custodian.Errorf(custodian.EINVALID, "--limit must be 1 or more")
		}
		return c.search(cs, strings.Join(rest, " "), *format, codeset.SearchOptions{Date: on, Limit: *limit, Billable: *billable})
	case "lookup":
		return c.lookup(cs, rest[0], on)
	case "validate":
		return c.validate(cs, rest[0], on)
	}
	fmt.Fprint(c.Stderr, codeUsage)
	return fmt.Errorf("unknown code command %q", args[0])
}

func (c *CodeCommand) search(cs *codeset.CodeSystem, text, format string, opt codeset.SearchOptions) error {
	if format != "tsv" && format != "json" {
		return custodian.Errorf(custodian.EINVALID, "--format must be tsv or json")
	}
	res, err := cs.Search(text, opt)
	if err != nil {
		return err
	}
	if format == "json" {
		type hit struct {
			Code     string  `json:"code"`
			Title    string  `json:"title"`
			Billable bool    `json:"billable"`
			Score    float64 `json:"score"`
			Matched  string  `json:"matched"`
		}
		out := struct {
			System string `json:"system"`
			Total  int    `json:"total"`
			Hits   []hit  `json:"hits"`
		}{System: cs.URI(), Total: res.Total, Hits: []hit{}}
		for _, h := range res.Hits {
			out.Hits = append(out.Hits, hit{h.Concept.Display(), h.Concept.Label(), h.Concept.Billable(opt.Date), float64(int(h.Score*1000)) / 1000, h.Matched})
		}
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for _, h := range res.Hits {
		fmt.Fprintf(c.Stdout, "%s\t%s\n", h.Concept.Display(), h.Concept.Label())
	}
	return nil
}

func (c *CodeCommand) lookup(cs *codeset.CodeSystem, code string, on codeset.Date) error {
	con, err := cs.Lookup(code)
	if err != nil {
		return err
	}
	w := c.Stdout
	fmt.Fprintf(w, "%s %s\n", con.Display(), con.Label())
	status := cs.Validate(con.Code(), on)
	fmt.Fprintf(w, "system:    %s (%s), edition %s\n", cs.Name(), cs.URI(), cs.VersionOn(on))
	fmt.Fprintf(w, "status:    %s", status.Status)
	if status.Message != "" {
		fmt.Fprintf(w, " — %s", status.Message)
	}
	fmt.Fprintln(w)
	for _, v := range con.Validity() {
		fmt.Fprintf(w, "valid:     %s to %s  %s\n", v.From, v.To, strings.Join(v.Attributes(), ","))
	}
	if ch := con.Chapter(); ch != nil {
		fmt.Fprintf(w, "chapter:   %s %s (%s)\n", ch.ID, ch.Title, ch.Range)
	}
	if b := con.Block(); b != nil {
		fmt.Fprintf(w, "block:     %s %s\n", b.ID, b.Title)
	}
	anc := con.Ancestors()
	for i := len(anc) - 1; i >= 0; i-- {
		fmt.Fprintf(w, "parent:    %s %s\n", anc[i].Display(), anc[i].Label())
	}
	for _, ch := range con.Children() {
		fmt.Fprintf(w, "child:     %s %s\n", ch.Display(), ch.Label())
	}
	for _, n := range con.Notes() {
		if n.Kind == codeset.NoteSeventh {
			continue
		}
		from := ""
		if n.From != con.Code() {
			from = "  [from " + n.From + "]"
		}
		fmt.Fprintf(w, "%-19s %s%s\n", n.Kind.Heading()+":", n.Text, from)
	}
	for _, s := range con.SeventhCharacters() {
		fmt.Fprintf(w, "7th character:      %c %s  [from %s]\n", s.Char, s.Meaning, s.From)
	}
	return nil
}

func (c *CodeCommand) validate(cs *codeset.CodeSystem, code string, on codeset.Date) error {
	v := cs.Validate(code, on)
	switch v.Status {
	case codeset.Billable:
		fmt.Fprintf(c.Stdout, "%s valid on %s: %s\n", v.Concept.Display(), v.Date, v.Concept.Label())
		return nil
	case codeset.Malformed:
		return custodian.Errorf(custodian.EINVALID, "%s", v.Message)
	}
	return custodian.Errorf(custodian.EUNPROCESSABLE, "%s", v.Message)
}
