package mllp_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// BenchmarkThroughput streams ADT^A01 messages (each a new patient and
// visit: Patient, Encounter, Location and the message receipt in one
// transaction) over 16 pipelining connections into a durable SQLite store,
// each answered only after its commit. It reports messages per second.
//
//	go test -run XXX -bench Throughput -benchtime 4000x ./ingest/mllp
func BenchmarkThroughput(b *testing.B) {
	st := newStore(b)
	st.NoAudit = os.Getenv("MLLP_BENCH_NOAUDIT") != "" // to see what auditing the reads costs
	_, addr := start(b, st, nil)
	const conns = 16
	per := (b.N + conns - 1) / conns
	b.ResetTimer()
	t0 := time.Now()
	var wg sync.WaitGroup
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				b.Error(err)
				return
			}
			defer conn.Close()
			go func() {
				w := bufio.NewWriter(conn)
				for i := range per {
					w.Write(frameOf(string(adt(fmt.Sprintf("B%d-%d", c, i), fmt.Sprintf("BP%d-%d", c, i), fmt.Sprintf("BV%d-%d", c, i), false))))
				}
				w.Flush()
			}()
			cl := &client{tb: b, c: conn, r: bufio.NewReader(conn)}
			for range per {
				if _, code, ok := readAck(cl); !ok || code != "AA" {
					b.Errorf("answer %s %v", code, ok)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(per*conns)/time.Since(t0).Seconds(), "msg/s")
}
