package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/store"
)

// ReindexCommand rebuilds the search index of every stored resource.
type ReindexCommand struct {
	Stdout, Stderr io.Writer
}

// Run rebuilds the index in batches, online (a server may be running on the
// same database), remembering where it got to in DATA/reindex.cursor so an
// interrupted run resumes. The index is built by the R4 search parameters
// and by every stored SearchParameter (status active); when a pass over
// every resource ends, those SearchParameters become searchable.
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
	if *batch < 1 {
		return fmt.Errorf("--batch must be at least 1")
	}
	defs := fhir.R4()
	reg, err := search.NewR4(defs)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, *data, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.RegisterParams(ctx, reg.Indexed()); err != nil {
		return err
	}
	// Every stored SearchParameter indexes in this run, active or not.
	custom, problems, err := reg.LoadCustom(ctx, db, true)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintf(c.Stdout, "skipping %v\n", p)
	}
	for _, sp := range custom {
		fmt.Fprintf(c.Stdout, "indexing by SearchParameter/%s version %d\n", sp.ID, sp.Version)
	}
	st := store.New(db, defs, reg)
	ctx = custodian.NewContextWithActor(ctx, cliActor())

	cursorFile := filepath.Join(*data, "reindex.cursor")
	sig := paramSignature(custom)
	var after int64
	if b, err := os.ReadFile(cursorFile); err == nil && !*restart {
		pos, was, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
		if was != sig {
			// Resources before the cursor were not indexed by the
			// parameters added since, so they could not be activated.
			fmt.Fprintln(c.Stdout, "the search parameters changed since the interrupted run; starting from the beginning")
		} else {
			after, _ = strconv.ParseInt(pos, 10, 64)
			fmt.Fprintf(c.Stdout, "resuming after row %d\n", after)
		}
	}
	start, last := time.Now(), time.Now()
	total := 0
	for {
		next, n, err := st.Reindex(ctx, after, *batch)
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
		if err := os.WriteFile(cursorFile, []byte(strconv.FormatInt(after, 10)+"\n"+sig), 0o600); err != nil {
			return err
		}
		if time.Since(last) > 2*time.Second {
			last = time.Now()
			fmt.Fprintf(c.Stdout, "reindexed %d resources (%.0f/s)\n", total, float64(total)/time.Since(start).Seconds())
		}
	}
	if err := activate(ctx, db, custom, c.Stdout); err != nil {
		return err
	}
	os.Remove(cursorFile)
	fmt.Fprintf(c.Stdout, "reindexed %d resources in %s\n", total, time.Since(start).Round(time.Millisecond))
	return nil
}

// activate records that every resource is indexed by the SearchParameters
// the run indexed by, except those changed or deleted meanwhile (their new
// versions wait for the next run).
func activate(ctx context.Context, db *sqldb.DB, indexed []store.CustomParam, out io.Writer) error {
	now, err := db.CustomSearchParams(ctx)
	if err != nil {
		return err
	}
	var done []store.CustomParam
	for _, sp := range indexed {
		i := slices.IndexFunc(now, func(n store.CustomParam) bool { return n.ID == sp.ID })
		if i < 0 || now[i].Version != sp.Version {
			fmt.Fprintf(out, "SearchParameter/%s changed during the run; run reindex again to activate it\n", sp.ID)
			continue
		}
		if !now[i].Active {
			done = append(done, sp)
			fmt.Fprintf(out, "SearchParameter/%s version %d is now searchable\n", sp.ID, sp.Version)
		}
	}
	return db.ActivateSearchParams(ctx, done)
}

// paramSignature names the custom parameters a run indexes by, so that a
// resumed run can tell whether they are the same.
func paramSignature(ps []store.CustomParam) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, p.ID+"@"+strconv.FormatInt(p.Version, 10))
	}
	return strings.Join(parts, ",")
}

// withCLI returns ctx acting as the command-line user.
func withCLI(ctx context.Context) context.Context {
	return custodian.NewContextWithActor(ctx, cliActor())
}
