package mllp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/ingest/hl7v2"
	"github.com/custodian-him/custodian/ingest/mllp"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

func inbound(t *testing.T, raw []byte) mllp.Inbound {
	t.Helper()
	m, err := hl7v2.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return mllp.Inbound{Message: m, Raw: raw}
}

func handler(st *store.Store) *mllp.StoreHandler {
	return &mllp.StoreHandler{Store: st, Mapper: hl7v2.NewMapper(nil), Actor: feedActor}
}

// summary describes what a store holds after the mix: resources per type,
// and the identifiers written more than once (there must be none).
func summary(t *testing.T, st *store.Store) (counts map[string]int, twice []string) {
	t.Helper()
	counts = map[string]int{}
	seen := map[string]bool{}
	for _, typ := range []string{"Patient", "Encounter", "Practitioner", "Location", "Condition", "DiagnosticReport", "Observation", "DocumentReference", "Basic"} {
		for _, r := range count(t, st, typ, "_count=1000") {
			counts[typ]++
			res, err := store.Decode(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			ids, _ := res["identifier"].([]any)
			for _, x := range ids {
				id, _ := x.(map[string]any)
				k := fmt.Sprintf("%s %v|%v", typ, id["system"], id["value"])
				if seen[k] {
					twice = append(twice, k)
				}
				seen[k] = true
			}
		}
	}
	return counts, twice
}

// TestHandleBatchMatchesOneByOne stores the realistic mix of eight stays
// in batches (each batch one step of every stay, as a busy feed delivers
// them) and the same messages one at a time into another store: the two
// hold the same resources, no practitioner or location the stays share is
// created twice, and the stays ended as their last message says.
func TestHandleBatchMatchesOneByOne(t *testing.T) {
	const patients = 8
	batched, single := newStore(t), newStore(t)
	hb, hs := handler(batched), handler(single)
	ctx := context.Background()
	for k := range stayMessages {
		var batch []mllp.Inbound
		for p := range patients {
			raw := stay("T", p, k)
			batch = append(batch, inbound(t, raw))
			if err := hs.Handle(ctx, inbound(t, raw).Message, raw); err != nil {
				t.Fatalf("one by one, stay %d message %d: %v", p, k, err)
			}
		}
		for i, err := range hb.HandleBatch(ctx, batch) {
			if err != nil {
				t.Fatalf("batch %d, message %d: %v", k, i, err)
			}
		}
	}
	want, twice := summary(t, single)
	if len(twice) > 0 {
		t.Fatalf("one by one wrote identifiers twice: %v", twice)
	}
	got, twice := summary(t, batched)
	if len(twice) > 0 {
		t.Errorf("batches wrote identifiers twice: %v", twice)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("batches stored %v; one by one %v", got, want)
	}
	if got["Basic"] != patients*stayMessages || got["Observation"] != patients*12 || got["Patient"] != patients {
		t.Errorf("stored %v", got)
	}
	if n := len(count(t, batched, "Encounter", "status=finished&_count=100")); n != patients {
		t.Errorf("%d stays finished, want %d", n, patients)
	}
	// A08 changed every phone number.
	for _, r := range count(t, batched, "Patient", "_count=100") {
		if !strings.Contains(string(r.Body), "(217)556") {
			t.Errorf("the demographics update is missing: %s", r.Body)
		}
	}
}

// TestHandleBatchOutcomes checks each message's own outcome inside one
// batch: resends, the same message twice, a message that fails in the
// transaction (refused alone, the others stored), two messages about one
// visit (applied in the order given) and an identity change.
func TestHandleBatchOutcomes(t *testing.T) {
	st := newStore(t)
	h := handler(st)
	ctx := context.Background()
	old := stay("O", 1, 0)
	if err := h.Handle(ctx, inbound(t, old).Message, old); err != nil {
		t.Fatal(err)
	}
	// Two patients share the MRN of the next message: its conditional
	// update matches both, which only the transaction finds out.
	ambiguous := stay("O", 9, 0)
	m, err := hl7v2.Parse(ambiguous)
	if err != nil {
		t.Fatal(err)
	}
	mapped, err := hl7v2.NewMapper(nil).Map(m)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{"resourceType": "Patient", "identifier": mapped.Resources("Patient")[0]["identifier"]})
	if err != nil {
		t.Fatal(err)
	}
	actx := custodian.NewContextWithActor(ctx, feedActor)
	for range 2 {
		if _, err := st.Create(actx, "Patient", body, store.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	fresh, admit, discharge := stay("O", 2, 0), stay("O", 3, 0), stay("O", 3, 5)
	merge := sample(t, "ADT-A40-01.hl7")
	msgs := []mllp.Inbound{inbound(t, old), inbound(t, fresh), inbound(t, fresh), inbound(t, ambiguous), inbound(t, admit), inbound(t, discharge), inbound(t, merge)}
	errs := h.HandleBatch(ctx, msgs)
	want := []struct {
		dup  bool
		code string
	}{{dup: true}, {}, {dup: true}, {code: custodian.EPRECONDITION}, {}, {}, {code: custodian.EUNPROCESSABLE}}
	for i, w := range want {
		switch {
		case w.dup:
			if !errors.Is(errs[i], mllp.ErrDuplicate) {
				t.Errorf("message %d: %v, want a duplicate", i, errs[i])
			}
		case w.code != "":
			if custodian.ErrorCode(errs[i]) != w.code {
				t.Errorf("message %d: %v, want %s", i, errs[i], w.code)
			}
		case errs[i] != nil:
			t.Errorf("message %d: %v", i, errs[i])
		}
	}
	if n := len(count(t, st, "Basic", "code=urn:custodian:feed|hl7v2-message")); n != 4 {
		t.Errorf("%d receipts, want 4 (the first message, then three of the batch)", n)
	}
	enc := count(t, st, "Encounter", "identifier=O-V000003")
	if len(enc) != 1 || !strings.Contains(string(enc[0].Body), `"status":"finished"`) {
		t.Errorf("the visit admitted then discharged in one batch: %d encounters %s", len(enc), bodies(enc))
	}
	if n := len(count(t, st, "Patient", "identifier=O-M000009")); n != 2 {
		t.Errorf("%d patients O-M000009, want the 2 made before", n)
	}
}

func bodies(rs []*store.Resource) string {
	var b strings.Builder
	for _, r := range rs {
		b.Write(r.Body)
	}
	return b.String()
}

// TestGroupCommit sends messages on several connections without waiting:
// they are stored in fewer transactions than messages, and all answered.
func TestGroupCommit(t *testing.T) {
	db := sqldbtest.Open(t)
	st := newStoreOn(t, db)
	srv, addr := start(t, st, nil)
	const conns, patients = 4, 10
	order := feedOrder(patients, patients)
	var wg sync.WaitGroup
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := dial(t, addr)
			sender := fmt.Sprintf("G%d", c)
			go func() {
				for _, pk := range order {
					cl.send(stay(sender, pk[0], pk[1]))
				}
			}()
			for range order {
				if a := cl.ack(); a.MustGet("MSA-1") != "AA" {
					t.Errorf("%s: %s %s", a.MustGet("MSA-2"), a.MustGet("MSA-1"), a.MustGet("ERR-8"))
				}
			}
		}()
	}
	wg.Wait()
	n := conns * len(order)
	if got := srv.Accepted.Load(); got != int64(n) {
		t.Fatalf("accepted %d of %d", got, n)
	}
	entries, err := db.FindAudit(context.Background(), audit.Filter{Action: audit.ActionTransaction, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 || len(entries) >= n {
		t.Errorf("%d messages stored in %d transactions; want fewer transactions than messages", n, len(entries))
	}
	t.Logf("%d messages stored in %d transactions", n, len(entries))
	if got := len(count(t, st, "Encounter", "status=finished&_count=100")); got != conns*patients {
		t.Errorf("%d stays finished, want %d", got, conns*patients)
	}
}

// TestConcurrentResends sends every message on two connections at once, as
// a sender that resends on a new connection before the first answer
// arrives — the second copy naming the patient by another identifier (a
// corrected resend under the same control id): each control id is stored
// once (its receipt has one version) and both copies are answered AA.
func TestConcurrentResends(t *testing.T) {
	st := newStore(t)
	srv, addr := start(t, st, nil)
	const patients = 5
	order := feedOrder(patients, patients)
	var wg sync.WaitGroup
	for c := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := dial(t, addr)
			go func() {
				for _, pk := range order {
					msg := stay("R", pk[0], pk[1])
					if c == 1 {
						msg = []byte(strings.ReplaceAll(string(msg), "|R-M", "|Q-M"))
					}
					cl.send(msg)
				}
			}()
			for range order {
				if a := cl.ack(); a.MustGet("MSA-1") != "AA" {
					t.Errorf("%s: %s %s", a.MustGet("MSA-2"), a.MustGet("MSA-1"), a.MustGet("ERR-8"))
				}
			}
		}()
	}
	wg.Wait()
	n := int64(len(order))
	if srv.Accepted.Load() != n || srv.Duplicates.Load() != n {
		t.Errorf("accepted %d, duplicates %d; want %d each", srv.Accepted.Load(), srv.Duplicates.Load(), n)
	}
	receipts := count(t, st, "Basic", "code=urn:custodian:feed|hl7v2-message&_count=100")
	if len(receipts) != len(order) {
		t.Errorf("%d receipts, want %d", len(receipts), len(order))
	}
	for _, r := range receipts {
		if r.VersionID != 1 {
			t.Errorf("receipt %s has version %d: the control id was applied twice", r.ID, r.VersionID)
		}
	}
}
