package sqldb_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/sqldb/sqlite"
)

// killChildEnv names the data directory of the child process of
// TestAuditJournalSurvivesKill.
const killChildEnv = "CUSTODIAN_TEST_AUDIT_KILL_DIR"

// TestAuditJournalSurvivesKill runs a process that reads as fast as it can
// (16 readers) and prints each read once it has been answered, kills it
// with SIGKILL, opens the database again and checks that every read the
// process answered is in the audit chain, and the chain holds.
func TestAuditJournalSurvivesKill(t *testing.T) {
	if dir := os.Getenv(killChildEnv); dir != "" {
		killChild(t, dir)
		return
	}
	if sqldbtest.Engine() != "sqlite" {
		t.Skip("the audit journal is SQLite's")
	}
	// A kill that lands when the journal holds nothing new proves little:
	// try again until one lands with entries only in the journal.
	for try := range 5 {
		if killOnce(t) {
			return
		}
		t.Logf("try %d: the journal held nothing new when the process died", try+1)
	}
	t.Fatal("no kill landed while the journal held entries not yet in the chain")
}

// killOnce runs and kills the child once and checks the trail; it reports
// whether the journal held entries the chain did not have.
func killOnce(t *testing.T) bool {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestAuditJournalSurvivesKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	answered := map[string]bool{}
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if id, ok := strings.CutPrefix(lines.Text(), "answered "); ok {
			answered[id] = true
			if len(answered) == 2000 {
				break
			}
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() { // what it printed before it died
		if id, ok := strings.CutPrefix(lines.Text(), "answered "); ok {
			answered[id] = true
		}
	}
	cmd.Wait()
	if len(answered) < 2000 {
		t.Fatalf("the child answered only %d reads", len(answered))
	}
	journals, _ := filepath.Glob(filepath.Join(dir, "audit-journal-*.log"))
	if len(journals) != 1 {
		t.Fatalf("journals left by the killed process: %v", journals)
	}
	// What the chain held when the process died, read under the store.
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "custodian.db")+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	var before int
	err = raw.QueryRow(`SELECT coalesce(sum(last_seq - first_seq + 1), 0) FROM audit_block`).Scan(&before)
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}

	db, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := os.Stat(journals[0]); !os.IsNotExist(err) {
		t.Fatalf("the killed process's journal is still there: %v", err)
	}
	ctx := context.Background()
	entries, err := db.FindAudit(ctx, audit.Filter{Actor: "reader", Limit: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	inChain := map[string]bool{}
	for _, e := range entries {
		inChain[strings.TrimPrefix(e.Resources[0], "Patient/")] = true
	}
	missing := 0
	for id := range answered {
		if !inChain[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d answered reads are not in the audit trail", missing, len(answered))
	}
	if len(inChain) != len(entries) {
		t.Fatalf("%d entries for %d reads: an entry was appended twice", len(entries), len(inChain))
	}
	res, err := audit.Verify(ctx, db)
	if err != nil || !res.OK {
		t.Fatalf("verify: %+v %v", res, err)
	}
	t.Logf("%d reads answered before the kill; the chain held %d entries then, %d after reopening", len(answered), before, len(entries))
	return before < len(answered)
}

// killChild reads missing patients (each read is audited, as a refusal)
// from 16 goroutines until it is killed, printing each id once answered.
func killChild(t *testing.T, dir string) {
	db, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	_, st := withStore(t, db)
	ctx := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "reader", Kind: "user", Roles: []string{"clinician"}})
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("k%d-%d", g, i)
				if _, err := st.Read(ctx, "Patient", id); custodian.ErrorCode(err) != custodian.ENOTFOUND {
					t.Error(err)
					return
				}
				mu.Lock()
				fmt.Fprintf(w, "answered %s\n", id)
				w.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	time.Sleep(time.Minute) // the parent kills us
}

// TestAuditJournalMovesToNextFile reads enough, with small journal files,
// that the journal moves through several files while reads go on: every
// entry reaches the chain once, in a chain that holds, and the files
// already appended are deleted.
func TestAuditJournalMovesToNextFile(t *testing.T) {
	if sqldbtest.Engine() != "sqlite" {
		t.Skip("the audit journal is SQLite's")
	}
	defer sqldb.SetJournalSegmentSize(16 << 10)()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, st := withStore(t, db)
	ctx := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "reader", Kind: "user", Roles: []string{"clinician"}})
	const readers, each = 8, 150
	var wg sync.WaitGroup
	for g := range readers {
		wg.Go(func() {
			for i := range each {
				if _, err := st.Read(ctx, "Patient", fmt.Sprintf("m%d-%d", g, i)); custodian.ErrorCode(err) != custodian.ENOTFOUND {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n, ok := sqldb.JournalFiles(db); n < 10 || !ok {
		t.Fatalf("the journal began %d files and takes entries: %v", n, ok)
	}
	entries, err := db.FindAudit(context.Background(), audit.Filter{Actor: "reader", Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		seen[e.Resources[0]] = true
	}
	if len(entries) != readers*each || len(seen) != readers*each {
		t.Fatalf("%d entries for %d distinct reads, want %d", len(entries), len(seen), readers*each)
	}
	res, err := audit.Verify(context.Background(), db)
	if err != nil || !res.OK {
		t.Fatalf("verify: %+v %v", res, err)
	}
	// 1,200 entries of about 300 bytes fill more than 20 files of 16 kB;
	// those wholly appended are gone.
	files, _ := filepath.Glob(filepath.Join(dir, "audit-journal-*.log"))
	if len(files) > 2 {
		t.Fatalf("%d journal files left", len(files))
	}
	var rows int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM audit_journal`).Scan(&rows); err != nil || rows > 2 {
		t.Fatalf("%d journal rows left (%v)", rows, err)
	}
}

// TestAuditJournalSyncs checks that entries written to the journal are made
// durable (the files synced) without waiting for the chain to take them
// in, and that the chain then has them.
func TestAuditJournalSyncs(t *testing.T) {
	if sqldbtest.Engine() != "sqlite" {
		t.Skip("the audit journal is SQLite's")
	}
	db, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for i := range 3 {
		e := &audit.Entry{Time: time.Now(), Action: audit.ActionRead, Outcome: "success", Actor: "sync", Resources: []string{fmt.Sprintf("Patient/s%d", i)}}
		if err := db.AppendAudit(ctx, e, false); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		written, synced := sqldb.JournalSynced(db)
		if written == 3 && synced == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d entries written to the journal, %d synced", written, synced)
		}
		time.Sleep(20 * time.Millisecond)
	}
	got, err := db.FindAudit(ctx, audit.Filter{Actor: "sync"})
	if err != nil || len(got) != 3 {
		t.Fatalf("%d entries in the chain (%v), want 3", len(got), err)
	}
}
