package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
)

// ClientCommand manages the API clients that get tokens at /oauth/token.
type ClientCommand struct {
	Stdout, Stderr io.Writer
}

const clientUsage = `Usage:
  custodian client add NAME --scopes "system/*.read system/Patient.write" [--role integration-client] [--json] [--data DIR]
  custodian client list [--json] [--data DIR]
  custodian client disable NAME|ID [--data DIR]

Scopes are SMART on FHIR resource scopes, v1 (system/*.read, user/Patient.write)
or v2 (system/Patient.rs, system/*.cruds). "add" prints the client id and
secret once: the secret is not stored, only its hash, and cannot be shown
again. A client gets tokens with the client_credentials grant:
  curl -u ID:SECRET -d grant_type=client_credentials http://HOST/oauth/token
`

// Run runs one client subcommand, acting as the command-line user.
func (c *ClientCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.Stderr, clientUsage)
		return flag.ErrHelp
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("client "+sub, flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() { fmt.Fprint(c.Stderr, clientUsage) }
	sf := addStoreFlags(fs)
	data, dbURL := sf.data, sf.url
	scopes := fs.String("scopes", "", "space-separated SMART scopes (add)")
	roles := fs.String("role", "", "comma-separated roles (add; integration-client if none)")
	asJSON := fs.Bool("json", false, "print JSON for scripts")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	switch {
	case sub == "list" && len(pos) != 0, (sub == "add" || sub == "disable") && len(pos) != 1:
		fs.Usage()
		return fmt.Errorf("client %s: wrong number of arguments", sub)
	case sub != "list" && sub != "add" && sub != "disable":
		fs.Usage()
		return fmt.Errorf("unknown client command %q", sub)
	}
	svc, closeDB, err := openAccess(ctx, *data, *dbURL)
	if err != nil {
		return err
	}
	defer closeDB()
	ctx = custodian.NewContextWithActor(ctx, cliActor())
	switch sub {
	case "add":
		sc, err := access.ParseScopes(*scopes)
		if err != nil {
			return cliError(err)
		}
		var rs []string
		if *roles != "" {
			if rs, err = access.ParseRoles(*roles); err != nil {
				return cliError(err)
			}
		}
		cl, secret, err := svc.CreateClient(ctx, pos[0], sc, rs)
		if err != nil {
			return cliError(err)
		}
		if *asJSON {
			return json.NewEncoder(c.Stdout).Encode(map[string]any{
				"client_id": cl.ID, "client_secret": secret, "name": cl.Name, "scopes": cl.Scopes, "roles": cl.Roles,
			})
		}
		fmt.Fprintf(c.Stdout, "client %s added\nclient_id:     %s\nclient_secret: %s\n", cl.Name, cl.ID, secret)
		fmt.Fprintln(c.Stdout, "Keep the secret now: it is not stored and cannot be shown again.")
	case "disable":
		if err := svc.DisableClient(ctx, pos[0]); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(c.Stdout, "client %s disabled\n", pos[0])
	case "list":
		clients, err := svc.FindClients(ctx)
		if err != nil {
			return cliError(err)
		}
		if *asJSON {
			out := []map[string]any{}
			for _, cl := range clients {
				out = append(out, map[string]any{"client_id": cl.ID, "name": cl.Name, "scopes": cl.Scopes, "roles": cl.Roles, "disabled": cl.Disabled})
			}
			return json.NewEncoder(c.Stdout).Encode(out)
		}
		tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tCLIENT ID\tSCOPES\tROLES\tSTATE\tCREATED")
		for _, cl := range clients {
			state := "active"
			if cl.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", cl.Name, cl.ID, strings.Join(cl.Scopes, " "), strings.Join(cl.Roles, ","), state, cl.Created.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	}
	return nil
}
