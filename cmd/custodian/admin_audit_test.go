package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestIdentityManagementIsAudited: creating and disabling users and clients
// from the command line is in the audit trail, with who did it.
func TestIdentityManagementIsAudited(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	run := func(stdin string, args ...string) string {
		var out bytes.Buffer
		c := &UserCommand{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &out}
		var err error
		if args[0] == "user" {
			err = c.Run(ctx, append(args[1:], "--data", dir))
		} else {
			err = Run(ctx, append(args, "--data", dir), &out, &out)
		}
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	run("a-long-enough-password\n", "user", "add", "coder1", "--role", "coder", "--password-stdin")
	run("", "user", "disable", "coder1")
	run("", "user", "enable", "coder1")
	run("", "user", "roles", "coder1", "--role", "record-analyst")
	run("", "client", "add", "lab", "--scopes", "system/Observation.write")
	report := run("", "audit", "report", "--limit", "20")
	for _, want := range []string{"user-create", "user-disable", "user-enable", "user-set-roles", "client-create", "cli:"} {
		if !strings.Contains(report, want) {
			t.Errorf("audit report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, "a-long-enough-password") {
		t.Fatal("the password is in the audit report")
	}
}
