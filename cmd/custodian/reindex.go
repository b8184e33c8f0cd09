package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
)

// ReindexCommand rebuilds the search index of every stored resource.
type ReindexCommand struct {
	Stdout, Stderr io.Writer
}

// Run rebuilds the index in batches, online (a server may be running on the
// same database), remembering where it got to in DATA/reindex.cursor so an
// interrupted run resumes.
func (c *ReindexCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("reindex", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	sf := addStoreFlags(fs)
	data, dbURL := sf.data, sf.url
	batch := fs.Int("batch", 500, "resources per write")
	restart := fs.Bool("restart", false, "start from the beginning even if an earlier run was interrupted")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := openApp(ctx, *data, *dbURL, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer a.Close()
	ctx = custodian.NewContextWithActor(ctx, cliActor())
	cursorFile := filepath.Join(*data, "reindex.cursor")
	var after int64
	if b, err := os.ReadFile(cursorFile); err == nil && !*restart {
		after, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		fmt.Fprintf(c.Stdout, "resuming after row %d\n", after)
	}
	start, last := time.Now(), time.Now()
	total := 0
	for {
		next, n, err := a.store.Reindex(ctx, after, *batch)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				fmt.Fprintf(c.Stdout, "interrupted after %d resources; run again to resume\n", total)
			}
			return err
		}
		if n == 0 {
			break
		}
		total += n
		after = next
		if err := os.WriteFile(cursorFile, []byte(strconv.FormatInt(after, 10)), 0o600); err != nil {
			return err
		}
		if time.Since(last) > 2*time.Second {
			last = time.Now()
			fmt.Fprintf(c.Stdout, "reindexed %d resources (%.0f/s)\n", total, float64(total)/time.Since(start).Seconds())
		}
	}
	os.Remove(cursorFile)
	fmt.Fprintf(c.Stdout, "reindexed %d resources in %s\n", total, time.Since(start).Round(time.Millisecond))
	return nil
}

// withCLI returns ctx acting as the command-line user.
func withCLI(ctx context.Context) context.Context {
	return custodian.NewContextWithActor(ctx, cliActor())
}
