package mllp_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/ingest/hl7v2"
	"github.com/custodian-him/custodian/ingest/mllp"
	"github.com/custodian-him/custodian/sqldb/sqlite"
)

// TestCrashChild is the server process TestKill9 kills; it runs only when
// that test starts it.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("MLLP_CRASH_DIR")
	if dir == "" {
		t.Skip("run by TestKill9")
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	st := newStoreOn(t, db)
	srv := &mllp.Server{
		Handler:     &mllp.StoreHandler{Store: st, Mapper: hl7v2.NewMapper(nil), Actor: feedActor},
		DeadLetters: &mllp.StoreDeadLetters{Store: st, Actor: feedActor},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "addr.tmp"), []byte(ln.Addr().String()), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Rename(filepath.Join(dir, "addr.tmp"), filepath.Join(dir, "addr"))
	srv.Serve(ctx, ln) // until killed
}

// readAck reads one answer without failing the test: a killed server
// ends the stream.
func readAck(cl *client) (id, code string, ok bool) {
	cl.c.SetReadDeadline(time.Now().Add(60 * time.Second))
	if b, err := cl.r.ReadByte(); err != nil || b != 0x0B {
		return "", "", false
	}
	body, err := cl.r.ReadBytes(0x1C)
	if err != nil {
		return "", "", false
	}
	cl.r.ReadByte()
	m, err := hl7v2.Parse(body[:len(body)-1])
	if err != nil {
		return "", "", false
	}
	return m.MustGet("MSA-2"), m.MustGet("MSA-1"), true
}

// TestKill9 kills the server (SIGKILL) while messages stream in, then opens
// its database: every message that was answered AA is there.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MLLP_CRASH_DIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var addr []byte
	for i := 0; ; i++ {
		var err error
		if addr, err = os.ReadFile(filepath.Join(dir, "addr")); err == nil {
			break
		}
		if i > 600 {
			t.Fatal("the server did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", string(addr))
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			go func() {
				for i := 0; ; i++ {
					msg := adt(fmt.Sprintf("K%d-%d", c, i), fmt.Sprintf("K%d-%d", c, i%50), fmt.Sprintf("KV%d-%d", c, i), false)
					if _, err := conn.Write(frameOf(string(msg))); err != nil {
						return
					}
				}
			}()
			cl := &client{tb: t, c: conn, r: bufio.NewReader(conn)}
			for {
				id, code, ok := readAck(cl)
				if !ok {
					return
				}
				if code == "AA" {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		}()
	}
	// Kill it once a fair number are answered, in the middle of the stream.
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 150 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	wg.Wait()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := newStoreOn(t, db)
	actx := custodian.NewContextWithActor(ctx, feedActor)
	missing := 0
	for _, id := range acked {
		q, _ := st.ParseQueryString("Basic", "identifier="+strings.ReplaceAll(mllp.SystemMessagePrefix+"ADT:HOSP", ":", "%3A")+"%7C"+id)
		res, err := st.SearchWithIncludes(actx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Resources) != 1 {
			missing++
			continue
		}
		// What the message maps to committed with its receipt: the visit
		// (control id Kc-i admits visit KVc-i).
		q, _ = st.ParseQueryString("Encounter", "identifier=KV"+strings.TrimPrefix(id, "K"))
		if res, err = st.SearchWithIncludes(actx, q); err != nil {
			t.Fatal(err)
		}
		if len(res.Resources) != 1 {
			t.Errorf("message %s is acknowledged and kept, but its visit is not in the database", id)
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged messages are not in the database after kill -9", missing, len(acked))
	}
	t.Logf("%d messages acknowledged before kill -9, all found", len(acked))
}
