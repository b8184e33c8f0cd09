package mllp_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/ingest/hl7v2"
	"github.com/custodian-him/custodian/ingest/mllp"
	"github.com/custodian-him/custodian/store"
)

// BenchmarkMixFloor measures what the store's fastest write path costs for
// the resources the realistic mix writes, to set the feed's figures
// against: the messages of six senders (as in BenchmarkMix, sent in feed
// order) are mapped, and every conditional identity is resolved here, in
// memory, without reading the database (a create-if-absent already made
// is left out, a conditional update becomes an update of the id chosen
// the first time), so the resources, each message's receipt among them,
// reach Store.PutBatch with final ids and references: prepared outside the
// single writer, which then only stores them — new resources without
// reading, updates through its update path — and commits durably. Two
// loaders alternate, batches of 40 messages, so one prepares while the
// other's batch is written.
//
// It is not the feed: no resend check, no ordering, no conditional
// semantics under concurrent writers. The gap between this and
// BenchmarkMix is what the feed's transactions cost beyond the store's
// bulk path; this itself bounds what the feed could reach on this store.
//
//	go test -run XXX -bench MixFloor -benchtime 6000x ./ingest/mllp
func BenchmarkMixFloor(b *testing.B) {
	st := newStore(b)
	ctx := custodian.NewContextWithActor(context.Background(), feedActor)
	const senders, batch = 6, 40
	patients := max(1, (b.N+senders*stayMessages-1)/(senders*stayMessages))
	var msgs [][]byte
	for _, pk := range feedOrder(patients, 20) {
		for s := range senders {
			msgs = append(msgs, stay(fmt.Sprintf("S%d", s), pk[0], pk[1]))
		}
	}
	mp := hl7v2.NewMapper(nil)
	ids := map[string]string{} // identity (type and criteria) → id
	resolve := func(raw []byte) ([]map[string]any, error) {
		m, err := hl7v2.Parse(raw)
		if err != nil {
			return nil, err
		}
		r, err := mp.Map(m)
		if err != nil {
			return nil, err
		}
		refs := map[string]string{}
		var out []map[string]any
		for _, e := range r.Entries {
			typ, _, _ := strings.Cut(e.URL, "?")
			key := e.URL + "?" + e.IfNoneExist
			id, known := ids[key]
			if !known {
				id = store.NewUUID()
				ids[key] = id
			}
			refs[e.FullURL] = typ + "/" + id
			if known && e.Method == store.MethodCreate {
				continue // exists: nothing written
			}
			e.Resource["id"] = id
			out = append(out, e.Resource)
		}
		h := m.Header()
		sum := sha256.Sum256([]byte(h.SendingApp + "|" + h.ControlID))
		receipt := map[string]any{"resourceType": "Basic", "id": hex.EncodeToString(sum[:]),
			"identifier": []any{map[string]any{"system": "urn:custodian:hl7v2:message:" + h.SendingApp, "value": h.ControlID}},
			"code":       map[string]any{"coding": []any{map[string]any{"system": "urn:custodian:feed", "code": "hl7v2-message"}}},
			"extension": []any{map[string]any{"url": "https://custodian.example/fhir/StructureDefinition/hl7v2-message",
				"valueBase64Binary": base64.StdEncoding.EncodeToString(raw)}}}
		for _, res := range out {
			if res["resourceType"] == "Patient" {
				receipt["subject"] = map[string]any{"reference": "Patient/" + res["id"].(string)}
			}
		}
		for _, res := range out {
			mllp.Repoint(res, refs)
		}
		return append(out, receipt), nil
	}
	b.ResetTimer()
	cpu0, t0 := cpuTime(), time.Now()
	var mu sync.Mutex // resolve in message order
	next := 0
	var created, updated, unchanged atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				mu.Lock()
				if next >= len(msgs) {
					mu.Unlock()
					return
				}
				end := min(next+batch, len(msgs))
				var resources []map[string]any
				for _, raw := range msgs[next:end] {
					rs, err := resolve(raw)
					if err != nil {
						mu.Unlock()
						b.Error(err)
						return
					}
					resources = append(resources, rs...)
				}
				next = end
				mu.Unlock()
				results, err := st.PutBatch(ctx, resources)
				if err != nil {
					b.Error(err)
					return
				}
				for _, r := range results {
					switch {
					case r.Err != nil:
						b.Error(r.Err)
						return
					case r.Outcome.Created:
						created.Add(1)
					case r.Outcome.Unchanged:
						unchanged.Add(1)
					default:
						updated.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(t0), cpuTime()-cpu0
	b.StopTimer()
	n := float64(len(msgs))
	b.ReportMetric(n/elapsed.Seconds(), "msg/s")
	b.ReportMetric(cpu.Seconds()/n*1000, "cpu-s/1k-msg")
	b.ReportMetric(loadAverage(), "load1")
	b.ReportMetric(float64(created.Load())/n, "created/msg")
	b.ReportMetric(float64(updated.Load())/n, "updated/msg")
	b.ReportMetric(float64(unchanged.Load())/n, "unchanged/msg")
}
