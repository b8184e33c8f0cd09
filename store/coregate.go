package store

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/custodian-him/custodian"
)

// A CoreGate shares the machine's cores between a backend's single writer
// and the goroutines that prepare writes for it: validating, indexing,
// encoding and compressing a transaction's resources before it reaches
// Write. Preparation runs on as many goroutines as there are clients, and
// without a gate they take every core while the writer, which every write
// waits for, waits for one. Traced with 16 clients posting transaction
// Bundles on 2 cores, the writer was runnable but not running 26% of the
// time and the cores were 22% idle.
//
// The gate holds one token per core. A preparing goroutine holds one while
// it prepares and gives it up between entries when the writer asks for one
// (Yield); the writer takes one for each group it commits and comes before
// the preparers. A preparer must not wait for the writer while it holds a
// token (preparing only reads); if one ever does, the writer goes on
// without a token after a short wait (Write). Work outside the gate (reading requests, writing
// responses, the collector) still shares the cores as before.
//
// A nil *CoreGate lets everything through: backends that write on many
// connections at once have none.
type CoreGate struct {
	tokens chan struct{}
	// writer counts writers waiting for a token; preparers yield to them.
	writer atomic.Int32
	// preparing counts the goroutines preparing or waiting to (Prepare
	// to Done).
	preparing atomic.Int32
}

// Preparing reports whether a write is being prepared, so will soon reach
// the writer.
func (g *CoreGate) Preparing() bool { return g != nil && g.preparing.Load() > 0 }

// NewCoreGate returns a gate for cores cores (at least one).
func NewCoreGate(cores int) *CoreGate {
	return &CoreGate{tokens: make(chan struct{}, max(cores, 1))}
}

// Prepare waits for a token for a goroutine about to prepare a write. Every
// successful Prepare must be followed by Done.
func (g *CoreGate) Prepare(ctx context.Context) error {
	if g == nil {
		return nil
	}
	g.preparing.Add(1)
	select {
	case g.tokens <- struct{}{}:
		return nil
	case <-ctx.Done():
		g.preparing.Add(-1)
		return custodian.Wrap(custodian.ETIMEOUT, ctx.Err(), "the write was cancelled while it waited to be prepared")
	}
}

// Yield gives the token of a preparing goroutine to a waiting writer and
// waits for another. It is called between pieces of work small enough that
// the writer waits little (a transaction's entries).
func (g *CoreGate) Yield() {
	if g == nil || g.writer.Load() == 0 {
		return
	}
	<-g.tokens
	g.tokens <- struct{}{}
}

// Done returns a preparing goroutine's token.
func (g *CoreGate) Done() {
	if g != nil {
		<-g.tokens
		g.preparing.Add(-1)
	}
}

// Write waits for a token for the writer, ahead of preparers that have not
// started (they wait behind it) and those preparing (they yield to it at
// their next entry), and reports whether it got one: WriteDone must be
// given that answer. The writer waits at most writerWait: a token held by
// a goroutine that is itself waiting for the writer would otherwise stop
// both, and the gate only orders the work, it guards nothing.
func (g *CoreGate) Write() bool {
	if g == nil {
		return false
	}
	select {
	case g.tokens <- struct{}{}:
		return true
	default:
	}
	g.writer.Add(1)
	defer g.writer.Add(-1)
	t := time.NewTimer(writerWait)
	defer t.Stop()
	select {
	case g.tokens <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

// writerWait bounds how long the writer waits for a token: far longer
// than preparing one entry takes (about 0.1 ms), far shorter than a group.
const writerWait = 20 * time.Millisecond

// WriteDone returns the writer's token, if Write got one.
func (g *CoreGate) WriteDone(got bool) {
	if got {
		<-g.tokens
	}
}

// gatedBackend is a Backend whose single writer shares the cores with the
// preparation of its writes (sqldb on SQLite).
type gatedBackend interface {
	CoreGate() *CoreGate
}

// A turn is a token of the gate taken before a transaction's entries are
// known (Store.Preparing), handed to the transaction that prepares them.
type turn struct {
	g    *CoreGate
	over atomic.Bool
}

func (t *turn) end() {
	if t.over.CompareAndSwap(false, true) {
		t.g.Done()
	}
}

type turnKey struct{}

// Preparing takes a token of the store's core gate for work that prepares
// a transaction before Transaction is called, such as decoding a Bundle,
// and returns a context carrying it: the Transaction given that context
// prepares its entries with the same token and gives it back before its
// write, so no token is held while the write waits for the writer. end
// gives it back if no Transaction did (call it in every case; a second
// call does nothing). Without a gate it takes nothing.
func (s *Store) Preparing(ctx context.Context) (_ context.Context, end func(), err error) {
	if s.gate == nil {
		return ctx, func() {}, nil
	}
	if err := s.gate.Prepare(ctx); err != nil {
		return ctx, nil, err
	}
	t := &turn{g: s.gate}
	return context.WithValue(ctx, turnKey{}, t), t.end, nil
}

// prepareTurn takes a token for preparing a transaction, or the one ctx
// carries from Preparing, and returns the function that gives it back.
func (s *Store) prepareTurn(ctx context.Context) (func(), error) {
	if t, ok := ctx.Value(turnKey{}).(*turn); ok && t.g == s.gate && !t.over.Load() {
		return t.end, nil
	}
	if err := s.gate.Prepare(ctx); err != nil {
		return nil, err
	}
	return s.gate.Done, nil
}
