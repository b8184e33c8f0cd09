package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

// syncWriter collects output written from the server's goroutine.
type syncWriter struct {
	lines chan string
}

func (w *syncWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		select {
		case w.lines <- l:
		default:
		}
	}
	return len(p), nil
}

// TestServeMLLP: serve --mllp takes an HL7 v2 message over MLLP, stores it
// and only then acknowledges it; feed replay runs over the same store.
func TestServeMLLP(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncWriter{lines: make(chan string, 100)}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- (&ServeCommand{Stdout: out, Stderr: io.Discard, Ready: ready}).Run(ctx,
			[]string{"--data", dir, "--addr", "127.0.0.1:0", "--mllp", "127.0.0.1:0"})
	}()
	var feedAddr string
	deadline := time.After(60 * time.Second)
	for feedAddr == "" {
		select {
		case l := <-out.lines:
			if _, a, ok := strings.Cut(l, "MLLP at "); ok {
				feedAddr = a
			}
		case err := <-done:
			t.Fatalf("serve ended: %v", err)
		case <-deadline:
			t.Fatal("no MLLP listener")
		}
	}
	<-ready
	msg := "MSH|^~\\&|ADT|HOSP|CUSTODIAN|HOSP|20260101120000||ADT^A04^ADT_A01|MSG0001|P|2.5\r" +
		"EVN|A04|20260101120000\r" +
		"PID|1||MRN12345^^^HOSP^MR||Feedwell^Ada||19700101|F\r" +
		"PV1|1|O|CLINIC^^^HOSP||||||||||||||||V123^^^HOSP^VN\r"
	conn, err := net.Dial("tcp", feedAddr)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("\x0b" + msg + "\x1c\x0d"))
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	ack, err := bufio.NewReader(conn).ReadString('\x1c')
	conn.Close()
	if err != nil || !strings.Contains(ack, "MSA|AA|MSG0001") {
		t.Fatalf("ACK: %q %v", ack, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	a, err := openApp(context.Background(), dir, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	q, _ := a.store.ParseQueryString("Patient", "family=Feedwell")
	page, err := a.store.Search(systemCtx(), q)
	a.Close()
	if err != nil || len(page.Resources) != 1 {
		t.Fatalf("the acknowledged patient is not stored: %v %v", page, err)
	}
	var o bytes.Buffer
	if err := (&FeedCommand{Stdout: &o, Stderr: &o}).Run(context.Background(), []string{"replay", "--data", dir}); err != nil || !strings.Contains(o.String(), "replayed 0") {
		t.Fatalf("feed replay: %q %v", o.String(), err)
	}
}
