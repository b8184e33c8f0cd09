package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
)

// UserCommand manages the people who sign in to Custodian.
type UserCommand struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

const userUsage = `Usage:
  custodian user add NAME --role ROLE[,ROLE] --password-stdin [--data DIR]
  custodian user list [--data DIR]
  custodian user disable NAME [--data DIR]
  custodian user enable NAME [--data DIR]
  custodian user roles NAME --role ROLE[,ROLE] [--data DIR]
  custodian user passwd NAME --password-stdin [--data DIR]

Roles: him-director, coder, record-analyst, roi-specialist, registrar,
privacy-officer, clinician, auditor, administrator.
A password is read from the first line of standard input; it must be at
least 12 characters and not the user name. "passwd" also unlocks the
account, clears the must-change flag and ends the user's sessions (use it to
replace the first-start administrator's one-time password). "roles" replaces
the user's roles and ends their sessions; "enable" undoes "disable".
`

// Run runs one user subcommand, acting as the command-line user: whoever can run the
// binary against the data directory administers it.
func (c *UserCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.Stderr, userUsage)
		return flag.ErrHelp
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() { fmt.Fprint(c.Stderr, userUsage) }
	sf := addStoreFlags(fs)
	data, dbURL := sf.data, sf.url
	roles := fs.String("role", "", "comma-separated roles (add, roles)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	needName := map[string]bool{"add": true, "disable": true, "enable": true, "roles": true, "passwd": true}
	switch {
	case sub == "list" && len(pos) != 0, needName[sub] && len(pos) != 1:
		fs.Usage()
		return fmt.Errorf("user %s: wrong number of arguments", sub)
	case sub != "list" && !needName[sub]:
		fs.Usage()
		return fmt.Errorf("unknown user command %q", sub)
	}
	svc, closeDB, err := openAccess(ctx, *data, *dbURL)
	if err != nil {
		return err
	}
	defer closeDB()
	ctx = custodian.NewContextWithActor(ctx, cliActor())
	switch sub {
	case "add":
		rs, err := access.ParseRoles(*roles)
		if err != nil {
			return err
		}
		pw, err := c.password(*pwStdin)
		if err != nil {
			return err
		}
		u, err := svc.CreateUser(ctx, pos[0], rs, pw)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(c.Stdout, "user %s added (%s)\n", u.Name, strings.Join(u.Roles, ", "))
	case "passwd":
		pw, err := c.password(*pwStdin)
		if err != nil {
			return err
		}
		if err := svc.SetPassword(ctx, pos[0], pw); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(c.Stdout, "password of %s changed; its sessions have ended\n", strings.ToLower(pos[0]))
	case "disable":
		if err := svc.DisableUser(ctx, pos[0]); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(c.Stdout, "user %s disabled\n", strings.ToLower(pos[0]))
	case "enable":
		if err := svc.EnableUser(ctx, pos[0]); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(c.Stdout, "user %s enabled\n", strings.ToLower(pos[0]))
	case "roles":
		rs, err := access.ParseRoles(*roles)
		if err != nil {
			return err
		}
		if err := svc.SetRoles(ctx, pos[0], rs); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(c.Stdout, "user %s now has roles %s; its sessions have ended\n", strings.ToLower(pos[0]), strings.Join(rs, ", "))
	case "list":
		users, err := svc.FindUsers(ctx)
		if err != nil {
			return cliError(err)
		}
		tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLES\tSTATE\tCREATED")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, strings.Join(u.Roles, ","), userState(u), u.Created.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	}
	return nil
}

func userState(u *access.User) string {
	var s []string
	if u.Disabled {
		s = append(s, "disabled")
	}
	if time.Now().Before(u.LockedUntil) {
		s = append(s, "locked")
	}
	if u.MustChange {
		s = append(s, "must-change-password")
	}
	if len(s) == 0 {
		return "active"
	}
	return strings.Join(s, ",")
}

// password reads the first line of standard input.
func (c *UserCommand) password(fromStdin bool) (string, error) {
	if !fromStdin {
		return "", errors.New("give the password on standard input with --password-stdin (never as an argument, where ps and shell history would show it)")
	}
	line, err := bufio.NewReader(c.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// parseInterleaved parses flags that may come before or after positional
// arguments ("user add NAME --role coder") and returns the positionals.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// openAccess opens the database and the access service over it, with the
// audit trail connected, so what the command does is recorded.
func openAccess(ctx context.Context, dataDir, dbURL string) (*access.Service, func() error, error) {
	a, err := openApp(ctx, dataDir, dbURL, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	return a.access, a.Close, nil
}

// cliError shows an application error's safe message.
func cliError(err error) error {
	if code := custodian.ErrorCode(err); code != custodian.EINTERNAL {
		return errors.New(custodian.ErrorMessage(err))
	}
	return err
}
