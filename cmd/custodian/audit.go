package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
)

// AuditCommand checks and reports on the audit trail.
type AuditCommand struct {
	Stdout, Stderr io.Writer
}

const auditUsage = `Usage:
  custodian audit verify [--data DIR]                 check the whole hash chain
  custodian audit report --patient ID [--data DIR]    who accessed a patient's record, when and why
  custodian audit report --actor NAME [--data DIR]    what one user or client did
  custodian audit report --break-glass [--data DIR]   break-the-glass accesses, for the privacy officer
  custodian audit report --failed [--data DIR]        refused and failed requests and sign-ins
  (report also takes --outcome CODE, --action NAME, --since YYYY-MM-DD and --limit N, combined with the above)
`

// Run dispatches the audit subcommands.
func (c *AuditCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.Stderr, auditUsage)
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet("audit "+args[0], flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	sf := addStoreFlags(fs)
	data, dbURL := sf.data, sf.url
	patient := fs.String("patient", "", "patient id (report)")
	actor := fs.String("actor", "", "user or client id (report)")
	glass := fs.Bool("break-glass", false, "only break-the-glass entries (report)")
	failed := fs.Bool("failed", false, "only entries whose outcome is not success (report)")
	outcome := fs.String("outcome", "", "only entries with this outcome, e.g. forbidden (report)")
	action := fs.String("action", "", "only entries of this action, e.g. read, signin (report)")
	since := fs.String("since", "", "only entries from this date (YYYY-MM-DD)")
	limit := fs.Int("limit", 200, "at most this many entries (report)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	a, err := openApp(ctx, *data, *dbURL, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer a.Close()
	ctx = custodian.NewContextWithActor(ctx, cliActor())
	switch args[0] {
	case "verify":
		// A running server seals small blocks (so the trail verifies
		// faster); this process only reads.
		a.db.StopSealing()
		start := time.Now()
		res, err := audit.Verify(ctx, a.db)
		if err != nil {
			return err
		}
		el := time.Since(start)
		if !res.OK {
			fmt.Fprintf(c.Stdout, "AUDIT TRAIL BROKEN at entry %d: %s (%d entries read)\n", res.BrokenAt, res.Problem, res.Entries)
			return errors.New("the audit trail failed verification")
		}
		fmt.Fprintf(c.Stdout, "audit trail intact: %d entries verified in %s (%.0f entries/s)\n", res.Entries, el.Round(time.Millisecond), float64(res.Entries)/el.Seconds())
		return nil
	case "report":
		f := audit.Filter{Patient: *patient, Actor: *actor, BreakGlass: *glass, Failed: *failed, Outcome: *outcome, Action: *action, Limit: *limit}
		if *since != "" {
			t, err := time.Parse("2006-01-02", *since)
			if err != nil {
				return fmt.Errorf("--since: %v", err)
			}
			f.Since = t
		}
		entries, err := a.store.FindAudit(ctx, f)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "WHEN (UTC)\tWHO\tROLES\tACTION\tOUTCOME\tPURPOSE\tWHAT")
		for _, e := range entries {
			what := strings.Join(e.Resources, " ")
			if e.BreakGlass {
				what = "BREAK-GLASS (" + e.Reason + ") " + what
			}
			if len(what) > 80 {
				what = what[:77] + "..."
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format("2006-01-02 15:04:05"), e.Actor,
				strings.Join(e.Roles, ","), e.Action, e.Outcome, e.Purpose, what)
		}
		return tw.Flush()
	default:
		fmt.Fprint(c.Stderr, auditUsage)
		return fmt.Errorf("unknown audit command %q", args[0])
	}
}

// cliActor is the actor of command-line work: the operating-system user.
func cliActor() *custodian.Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return &custodian.Actor{ID: "cli:" + name, Kind: "system"}
}
