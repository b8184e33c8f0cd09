package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

// TestDispatch: every command the usage names is reachable through Run.
func TestDispatch(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	if err := Run(ctx, []string{"help"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out.String(), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "custodian" || f[1] == "COMMAND" {
			continue
		}
		var o bytes.Buffer
		err := Run(ctx, []string{f[1], "-h"}, &o, &o)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("custodian %s -h: %v", f[1], err)
		}
		if strings.Contains(err2s(err), "unknown command") {
			t.Errorf("custodian %s is in the usage but not dispatched", f[1])
		}
	}
	out.Reset()
	if err := Run(ctx, []string{"code", "search", "pneumonia", "--limit", "1"}, &out, &out); err != nil || !strings.HasPrefix(out.String(), "J18.9\t") {
		t.Errorf("code search pneumonia: %q %v", out.String(), err)
	}
}

func err2s(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
