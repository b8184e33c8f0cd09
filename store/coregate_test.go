package store

import (
	"context"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
)

func TestCoreGateNilLetsEverythingThrough(t *testing.T) {
	var g *CoreGate
	if err := g.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	g.Yield()
	g.Done()
	if got := g.Write(); got {
		t.Error("a nil gate gave the writer a token")
	}
	g.WriteDone(false)
	if g.Preparing() {
		t.Error("a nil gate reports preparation")
	}
}

// The writer comes before preparers: one preparing gives its token up at
// its next Yield, and one waiting to start waits behind the writer.
func TestCoreGateWriterFirst(t *testing.T) {
	g := NewCoreGate(1)
	ctx := context.Background()
	if err := g.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if !g.Preparing() {
		t.Fatal("Preparing is false while a goroutine prepares")
	}
	wrote := make(chan bool)
	go func() { wrote <- g.Write() }()
	// The writer waits while the preparer works without yielding.
	select {
	case <-wrote:
		t.Fatal("the writer took a token held by a preparer")
	case <-time.After(5 * time.Millisecond):
	}
	// A second preparer arrives while the writer waits.
	for g.writer.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(2 * time.Millisecond) // the writer is queued for the token
	second := make(chan struct{})
	go func() {
		if err := g.Prepare(ctx); err != nil {
			t.Error(err)
		}
		close(second)
	}()
	for g.preparing.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	yielded := make(chan struct{})
	go func() { g.Yield(); close(yielded) }()
	if !<-wrote {
		t.Fatal("the writer did not get the yielded token")
	}
	select {
	case <-yielded:
		t.Fatal("the preparer got its token back while the writer held it")
	case <-second:
		t.Fatal("a new preparer went before the writer was done")
	case <-time.After(5 * time.Millisecond):
	}
	g.WriteDone(true)
	// One of the two preparers goes on; the other follows once it is done.
	select {
	case <-yielded:
		g.Done()
		<-second
	case <-second:
		g.Done()
		<-yielded
	}
	g.Done()
	if g.Preparing() {
		t.Error("Preparing is true after every preparer is done")
	}
}

// A writer never waits long for a token: a preparer holding one may itself
// be waiting for the writer.
func TestCoreGateWriterDoesNotWaitForever(t *testing.T) {
	g := NewCoreGate(1)
	if err := g.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if g.Write() {
		t.Fatal("the writer got a token no one gave up")
	}
	if waited := time.Since(start); waited < writerWait || waited > 20*writerWait {
		t.Errorf("the writer waited %v, want about %v", waited, writerWait)
	}
	g.WriteDone(false)
	g.Done()
}

func TestCoreGatePrepareCancelled(t *testing.T) {
	g := NewCoreGate(1)
	if err := g.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := g.Prepare(ctx)
	if custodian.ErrorCode(err) != custodian.ETIMEOUT {
		t.Fatalf("Prepare with a cancelled context: %v, want ETIMEOUT", err)
	}
	g.Done()
	if g.Preparing() {
		t.Error("a cancelled Prepare is still counted")
	}
}

// A token taken before a transaction (Store.Preparing, as the API takes it
// to decode a Bundle) is the one the transaction prepares with and gives
// back: never two for one transaction, never given back twice.
func TestPreparingHandsItsTokenToTheTransaction(t *testing.T) {
	s := &Store{gate: NewCoreGate(1)}
	ctx, end, err := s.Preparing(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.gate.tokens); n != 1 {
		t.Fatalf("%d tokens held after Preparing, want 1", n)
	}
	done, err := s.prepareTurn(ctx) // would wait forever for a second token
	if err != nil {
		t.Fatal(err)
	}
	done()
	if n := len(s.gate.tokens); n != 0 {
		t.Fatalf("%d tokens held after the transaction, want 0", n)
	}
	end() // would wait forever if it gave the token back again
	if s.gate.Preparing() {
		t.Error("still preparing after the transaction and end")
	}

	// A context whose turn is over takes a token of its own.
	done, err = s.prepareTurn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.gate.tokens); n != 1 {
		t.Fatalf("%d tokens held, want 1", n)
	}
	done()

	// Without a gate nothing is taken.
	var plain Store
	ctx, end, err = plain.Preparing(context.Background())
	if err != nil || ctx.Value(turnKey{}) != nil {
		t.Fatalf("Preparing without a gate: %v, turn %v", err, ctx.Value(turnKey{}))
	}
	end()
}
