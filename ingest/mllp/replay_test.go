package mllp_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/ingest/hl7v2"
	"github.com/custodian-him/custodian/ingest/mllp"
)

type changes struct{ got []*hl7v2.IdentityChange }

func (c *changes) ChangeIdentity(_ context.Context, ch *hl7v2.IdentityChange) error {
	c.got = append(c.got, ch)
	return nil
}

// TestReplay refuses a merge while no master patient index is connected,
// then replays the dead letters once one is.
func TestReplay(t *testing.T) {
	st := newStore(t)
	_, addr := start(t, st, nil)
	cl := dial(t, addr)
	cl.send(sample(t, "ADT-A40-01.hl7"))
	if a := cl.ack(); a.MustGet("MSA-1") != "AE" {
		t.Fatalf("A40 without an MPI: %s", a.MustGet("MSA-1"))
	}
	cl.send(sample(t, "ORM-O01-01.hl7")) // stays refused
	cl.ack()
	if n := len(count(t, st, "Basic", "code=urn:custodian:feed|hl7v2-dead-letter")); n != 2 {
		t.Fatalf("%d dead letters, want 2", n)
	}
	mpi := &changes{}
	h := &mllp.StoreHandler{Store: st, Mapper: hl7v2.NewMapper(nil), Identity: mpi, Actor: feedActor}
	res, err := mllp.Replay(context.Background(), st, h, feedActor)
	if err != nil {
		t.Fatal(err)
	}
	if res.Replayed != 1 || res.Failed != 1 || len(mpi.got) != 1 {
		t.Fatalf("replay %+v, %d merges; want 1 replayed, 1 failed, 1 merge", res, len(mpi.got))
	}
	if c := mpi.got[0]; c.Kind != "merge" || c.Survivor.Value != "12345" || c.Retired.Value != "56789" {
		t.Errorf("merge %+v", c)
	}
	if n := len(count(t, st, "Basic", "code=urn:custodian:feed|hl7v2-dead-letter")); n != 1 {
		t.Errorf("%d dead letters after the replay, want 1", n)
	}
	// Replaying again does nothing more.
	if res, err = mllp.Replay(context.Background(), st, h, feedActor); err != nil || res.Replayed != 0 || len(mpi.got) != 1 {
		t.Errorf("second replay %+v %v, %d merges", res, err, len(mpi.got))
	}
}

type failing struct{ err error }

func (f failing) Handle(context.Context, *hl7v2.Message, []byte) error { return f.err }

// TestStoreFailure: when the store fails, the answer is AR with error 207
// and no dead letter, so the sender sends the message again.
func TestStoreFailure(t *testing.T) {
	st := newStore(t)
	srv, addr := start(t, st, func(s *mllp.Server) { s.Handler = failing{errors.New("disk full")} })
	cl := dial(t, addr)
	cl.send(sample(t, "ADT-A01-01.hl7"))
	a := cl.ack()
	if a.MustGet("MSA-1") != "AR" || a.MustGet("ERR-3") != "207" || strings.Contains(a.MustGet("ERR-8"), "disk") {
		t.Errorf("answer %s %s %q", a.MustGet("MSA-1"), a.MustGet("ERR-3"), a.MustGet("ERR-8"))
	}
	if n := len(count(t, st, "Basic", "code=urn:custodian:feed|hl7v2-dead-letter")); n != 0 || srv.Errors.Load() != 1 {
		t.Errorf("%d dead letters, %d errors", n, srv.Errors.Load())
	}
}

// TestCloseWithIdleConnection: Close ends a connection that is waiting
// for its next message at once, not after the idle timeout.
func TestCloseWithIdleConnection(t *testing.T) {
	st := newStore(t)
	srv, addr := start(t, st, nil)
	cl := dial(t, addr)
	cl.send(adt("I1", "PI", "VI", false))
	cl.ack()
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for the idle connection")
	}
}

// TestReplacement: an MDM T10 stores the new document and marks the one it
// replaces superseded.
func TestReplacement(t *testing.T) {
	st := newStore(t)
	_, addr := start(t, st, nil)
	cl := dial(t, addr)
	orig := string(sample(t, "MDM-T02-02.hl7"))
	// The original, whose number the replacement names in TXA-13.
	first := strings.Replace(orig, "1.2.840.317.5947431.51.20080131160038", "1.2.840.317.5947431.51.20080131155715", 1)
	cl.send([]byte(strings.Replace(first, "PS1-20080131160038", "ORIG-1", 1)))
	if a := cl.ack(); a.MustGet("MSA-1") != "AA" {
		t.Fatalf("original: %s %s", a.MustGet("MSA-1"), a.MustGet("MSA-3"))
	}
	cl.send([]byte(strings.Replace(orig, "MDM^T02^MDM_T02", "MDM^T10^MDM_T10", 1)))
	if a := cl.ack(); a.MustGet("MSA-1") != "AA" {
		t.Fatalf("replacement: %s %s", a.MustGet("MSA-1"), a.MustGet("MSA-3"))
	}
	old := count(t, st, "DocumentReference", "identifier=urn:ietf:rfc:3986|urn:oid:1.2.840.317.5947431.51.20080131155715")
	cur := count(t, st, "DocumentReference", "identifier=urn:ietf:rfc:3986|urn:oid:1.2.840.317.5947431.51.20080131160038")
	if len(old) != 1 || len(cur) != 1 {
		t.Fatalf("%d originals, %d replacements", len(old), len(cur))
	}
	if !strings.Contains(string(old[0].Body), `"status":"superseded"`) || !strings.Contains(string(cur[0].Body), `"status":"current"`) ||
		!strings.Contains(string(cur[0].Body), `"code":"replaces"`) {
		t.Errorf("original %s\nreplacement %s", old[0].Body, cur[0].Body)
	}
}
