package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/deid"
	"github.com/custodian-him/custodian/fhir"
)

// DeidCommand writes de-identified exports of the store.
type DeidCommand struct {
	Stdout, Stderr io.Writer
}

const deidUsage = `usage: custodian deid export --method safe-harbor|limited --out DIR [flags]

Writes TYPE.ndjson per resource type with the HIPAA Safe Harbor identifiers
removed or generalised (or a limited data set under a data-use agreement),
and report.json / report.txt saying what was changed.`

// Run runs "deid export".
func (c *DeidCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(c.Stderr, deidUsage)
		return flag.ErrHelp
	}
	if args[0] != "export" {
		fmt.Fprintln(c.Stderr, deidUsage)
		return custodian.Errorf(custodian.EINVALID, "unknown deid command (want: export)")
	}
	fs := flag.NewFlagSet("deid export", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	sf := addStoreFlags(fs)
	method := fs.String("method", "", "safe-harbor (45 CFR 164.514(b)(2)) or limited (a limited data set, 164.514(e))")
	shift := fs.Bool("date-shift", false, "shift each patient's dates by a keyed number of days instead of keeping only the year")
	keyFile := fs.String("key-file", "", "file holding the pseudonym key (hex); without it a new key is made and written beside --out")
	out := fs.String("out", "", "output directory")
	types := fs.String("type", "", "resource types to export, comma-separated (default all)")
	since := fs.String("since", "", "only resources changed after this instant (RFC 3339) or day (YYYY-MM-DD)")
	dua := fs.String("dua", "", "data-use agreement of a limited data set: a Contract or Consent in the store (Contract/ID, Consent/ID or ID)")
	zip3File := fs.String("zip3-file", "", "list of restricted three-digit ZIP areas, one a line (default: the HHS list from the 2000 Census)")
	excludeSensitive := fs.Bool("exclude-sensitive", false, "leave out sensitive resources (psychotherapy, substance use, HIV, …): by security label, and unlabelled ones by their codes, document type or name")
	workers := fs.Int("workers", 0, "goroutines de-identifying (default: the number of CPUs)")
	if err := fs.Parse(args[1:]); err != nil {
		return custodian.Wrap(custodian.EINVALID, err, "bad flags")
	}
	cats, err := siteCategories()
	if err != nil {
		return err
	}
	x := deid.Export{Method: deid.Method(*method), DateShift: *shift, Out: *out, DUA: *dua, Workers: *workers,
		ExcludeSensitive: *excludeSensitive, Categories: cats}
	if x.Method != deid.SafeHarbor && x.Method != deid.Limited {
		return custodian.Errorf(custodian.EINVALID, "--method must be safe-harbor or limited")
	}
	if x.Out == "" {
		return custodian.Errorf(custodian.EINVALID, "--out is required")
	}
	defs := fhir.R4()
	x.Types = defs.ResourceTypes()
	if *types != "" {
		x.Types = nil
		for _, t := range strings.Split(*types, ",") {
			if t = strings.TrimSpace(t); !defs.IsResourceType(t) {
				return custodian.Errorf(custodian.EINVALID, "--type: %q is not a resource type", t)
			}
			x.Types = append(x.Types, t)
		}
	}
	if *since != "" {
		t, err := time.Parse(time.RFC3339, *since)
		if err != nil {
			if t, err = time.Parse("2006-01-02", *since); err != nil {
				return custodian.Errorf(custodian.EINVALID, "--since must be an instant (RFC 3339) or a day (YYYY-MM-DD)")
			}
		}
		x.Since = t
	}
	if *zip3File != "" {
		b, err := os.ReadFile(*zip3File)
		if err != nil {
			return custodian.Wrap(custodian.EINVALID, err, "the ZIP3 list cannot be read")
		}
		if x.ZIP3, err = deid.ParseZIP3List(b); err != nil {
			return err
		}
	}
	if x.Method == deid.Limited && x.DUA == "" {
		return custodian.Errorf(custodian.EINVALID, "a limited data set needs --dua naming its data-use agreement (a Contract or Consent)")
	}
	if *keyFile != "" {
		if x.Key, err = deid.ReadKeyFile(*keyFile); err != nil {
			return err
		}
	} else {
		if x.Key, err = deid.GenerateKey(); err != nil {
			return err
		}
		// Beside the output, never in it: the key re-identifies.
		name := filepath.Clean(*out) + ".key"
		if err := x.Key.WriteKeyFile(name); err != nil {
			return err
		}
		fmt.Fprintf(c.Stderr, "warning: no --key-file: a new pseudonym key was written to %s. Keep it secret and away from the export (it can confirm who a pseudonym is); pass it as --key-file to link later exports to this one.\n", name)
	}
	a, err := openApp(ctx, *sf.data, *sf.url, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer a.Close()
	x.Source = a.store
	rep, err := x.Run(withCLI(ctx))
	if err != nil {
		return err
	}
	fmt.Fprint(c.Stdout, rep.Summary())
	return nil
}
