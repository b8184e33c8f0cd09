// Command custodian is Custodian, the health information management system:
// one binary that serves the FHIR API and the HIM workbench and runs the
// administrative commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/custodian-him/custodian"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "custodian:", err)
		}
		os.Exit(1)
	}
}

const usage = `Custodian — health information management and the legal patient record.

Usage:
  custodian serve [--addr HOST:PORT] [--data DIR]   run the server (FHIR API at /fhir)
  custodian import [--data DIR] PATH...             load NDJSON, Bundles and directories of them
  custodian bench store [--resources N]             measure the record store's speed
  custodian bench search --data DIR [--resources N] FHIR search latency at ~N stored resources
  custodian bench web --data DIR [--n N]            time every workbench page per role
  custodian generate --patients N --out DIR         write a synthetic hospital as NDJSON
  custodian user add|list|disable|passwd …          manage the people who sign in
  custodian client add|list|disable …               manage API clients (OAuth2 client credentials)
  custodian reindex [--data DIR]                    rebuild the search index (online, resumable)
  custodian audit verify|report                     check the audit trail; access reports
  custodian code search|lookup|validate|suggest …   ICD-10-CM / ICD-10-PCS: find, explain, check; suggest codes from a note
  custodian coding queue|productivity …             the DNFB list (discharged, not final coded) and coder productivity
  custodian drg group|weights …                     MS-DRG grouping of claims (TSV or JSON)
  custodian mpi dedupe|link|bench|match-bench …     find duplicate patients in files (master patient index)
  custodian patient merge|unmerge|not-duplicate|queue|report …   merges, the duplicate queue, reports
  custodian measure list|show|run …                 quality and outcome measures (FHIR MeasureReport or TSV)
  custodian registry list|find|cases|decide|followup|export …   clinical registries (cancer, diabetes, stroke, …)
  custodian chart review …                          chart completeness and timeliness review
  custodian roi request|list|release|accounting …   release of information; accounting of disclosures
  custodian deid export --method safe-harbor|limited --out DIR …   de-identified NDJSON with a report of what changed
  custodian feed replay …                           hand refused HL7 v2 messages (dead letters) to the feed again
  custodian version                                 print the version

Run "custodian COMMAND -h" for a command's options.
`

// Run dispatches to the subcommand named by args[0].
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	// Commands made of subcommands print their usage when given nothing.
	grouped := map[string]bool{"user": true, "client": true, "audit": true, "bench": true, "code": true, "drg": true, "mpi": true, "chart": true, "feed": true, "roi": true, "coding": true, "deid": true, "patient": true}
	if len(args) == 2 && grouped[args[0]] && (args[1] == "-h" || args[1] == "--help" || args[1] == "help") {
		args = args[:1]
	}
	switch args[0] {
	case "serve":
		return (&ServeCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "user":
		return (&UserCommand{Stdin: os.Stdin, Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "client":
		return (&ClientCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "generate":
		return (&GenerateCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "import":
		return (&ImportCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "bench":
		return (&BenchCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "reindex":
		return (&ReindexCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "audit":
		return (&AuditCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "code":
		return (&CodeCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "coding":
		return (&CodingCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "drg":
		return (&DRGCommand{Stdin: os.Stdin, Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "mpi":
		return (&MPICommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "measure":
		return (&MeasureCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "registry":
		return (&RegistryCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "patient":
		return (&PatientCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "chart":
		return (&ChartCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "roi":
		return (&ROICommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "deid":
		return (&DeidCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "feed":
		return (&FeedCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "version":
		fmt.Fprintln(stdout, "custodian", custodian.Version)
		return nil
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}
