package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/ingest/hl7v2"
	"github.com/custodian-him/custodian/ingest/mllp"
)

// FeedCommand manages the HL7 v2 feeds: today, replaying dead letters.
type FeedCommand struct {
	Stdout, Stderr io.Writer
}

const feedUsage = `Usage:
  custodian feed replay [--hl7-tables FILE] [--data DIR | --db URL]

"replay" hands the HL7 v2 messages the feed refused (its dead letters) to
the feed again, oldest first, for example after a mapping table was fixed:
each one now stored is removed from the dead letters (its history keeps it);
each one still refused stays, and its reason is printed.
`

// Run runs one feed subcommand.
func (c *FeedCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.Stderr, feedUsage)
		return flag.ErrHelp
	}
	if args[0] != "replay" {
		fmt.Fprint(c.Stderr, feedUsage)
		return fmt.Errorf("unknown feed command %q", args[0])
	}
	fs := flag.NewFlagSet("feed replay", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() { fmt.Fprint(c.Stderr, feedUsage) }
	sf := addStoreFlags(fs)
	tablesFile := fs.String("hl7-tables", "", "HL7 v2 mapping tables to use (only the entries that change)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	tables, err := hl7Tables(*tablesFile)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, *sf.data, *sf.url, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer a.Close()
	actor := cliActor()
	h := &mllp.StoreHandler{Store: a.store, Mapper: hl7v2.NewMapper(tables), Actor: actor, Identity: a.identity}
	r, err := mllp.Replay(custodian.NewContextWithActor(ctx, actor), a.store, h, actor)
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(c.Stdout, "replayed %d dead letters; %d still refused\n", r.Replayed, r.Failed)
	for _, reason := range r.Reasons {
		fmt.Fprintln(c.Stdout, "  "+reason)
	}
	return nil
}

// hl7Tables reads a site's HL7 v2 mapping tables, or gives the defaults.
func hl7Tables(file string) (*hl7v2.Tables, error) {
	if file == "" {
		return hl7v2.DefaultTables(), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return hl7v2.LoadTables(b)
}
