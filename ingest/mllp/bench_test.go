package mllp_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/ingest/mllp"
	"github.com/custodian-him/custodian/store"
)

// BenchmarkThroughput streams ADT^A01 messages (each a new patient and
// visit: Patient, Encounter, Location and the message receipt in one
// transaction) over 16 pipelining connections into a durable SQLite store,
// each answered only after its commit. It reports messages per second.
//
//	go test -run XXX -bench Throughput -benchtime 4000x ./ingest/mllp
func BenchmarkThroughput(b *testing.B) {
	st := benchStore(b)
	st.NoAudit = os.Getenv("MLLP_BENCH_NOAUDIT") != "" // to see what auditing the reads costs
	srv, addr := start(b, st, benchTweak)
	const conns = 16
	per := (b.N + conns - 1) / conns
	b.ResetTimer()
	cpu0, t0 := cpuTime(), time.Now()
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
	elapsed, cpu := time.Since(t0), cpuTime()-cpu0
	b.ReportMetric(float64(per*conns)/elapsed.Seconds(), "msg/s")
	b.ReportMetric(cpu.Seconds()/float64(per*conns)*1000, "cpu-s/1k-msg")
	b.ReportMetric(loadAverage(), "load1")
	reportBatches(b, srv)
}

// benchStore opens the benchmarks' store; MLLP_BENCH_GUARD set gives it
// the write guard a server has (access.Guard: the role table and the
// workflow rules), whose wrapper every write then goes through.
func benchStore(b *testing.B) *store.Store {
	st := newStore(b)
	if os.Getenv("MLLP_BENCH_GUARD") != "" {
		st.Guard = access.Guard{}
	}
	return st
}

// benchTweak sets the server up as the environment asks, to compare:
// MLLP_BENCH_ALONE set stores each message in a transaction of its own,
// as before group commit; MLLP_BENCH_COMMITTERS and MLLP_BENCH_MAXBATCH
// set Server.Committers and Server.MaxBatch.
func benchTweak(s *mllp.Server) {
	if os.Getenv("MLLP_BENCH_ALONE") != "" {
		s.Handler = alone{s.Handler}
	}
	if n, err := strconv.Atoi(os.Getenv("MLLP_BENCH_COMMITTERS")); err == nil {
		s.Committers = n
	}
	if n, err := strconv.Atoi(os.Getenv("MLLP_BENCH_MAXBATCH")); err == nil {
		s.MaxBatch = n
	}
}

// reportBatches adds the mean messages per group commit to b's metrics.
func reportBatches(b *testing.B, s *mllp.Server) {
	if n := s.Batches.Load(); n > 0 {
		b.ReportMetric(float64(s.Batched.Load())/float64(n), "msg/commit")
	}
}

// BenchmarkMix streams the realistic mix (see mix_test.go: ADT A01, A08
// and A03, ORU^R01 with six OBX, MDM^T02; each patient's stay from one
// sender, twenty stays in progress at once) into a durable SQLite store,
// each message answered only after its commit:
//
//   - senders=6: six connections (one per feed; hospitals run 3–10), each
//     sending without waiting for answers;
//   - senders=1: one such connection;
//   - lockstep-senders=6: six connections, each waiting for the answer
//     before sending the next message (what most interfaces do).
//
// It reports messages per second, the CPU time of the process (server and
// the senders, which are light) per thousand messages, and the load
// average at the end (other work on the machine skews the figures).
//
//	go test -run XXX -bench Mix -benchtime 6000x ./ingest/mllp
func BenchmarkMix(b *testing.B) {
	for _, c := range []struct {
		name     string
		senders  int
		lockstep bool
	}{{"senders=6", 6, false}, {"senders=1", 1, false}, {"lockstep-senders=6", 6, true}} {
		b.Run(c.name, func(b *testing.B) { benchMix(b, c.senders, c.lockstep) })
	}
}

func benchMix(b *testing.B, senders int, lockstep bool) {
	st := benchStore(b)
	srv, addr := start(b, st, benchTweak)
	patients := max(1, (b.N+senders*stayMessages-1)/(senders*stayMessages))
	order := feedOrder(patients, 20)
	frames := make([][][]byte, senders)
	for s := range senders {
		for _, pk := range order {
			frames[s] = append(frames[s], frameOf(string(stay(fmt.Sprintf("S%d", s), pk[0], pk[1]))))
		}
	}
	conns := make([]*client, senders)
	for s := range senders {
		conns[s] = dial(b, addr)
	}
	b.ResetTimer()
	cpu0, t0 := cpuTime(), time.Now()
	var wg sync.WaitGroup
	for s, cl := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !lockstep {
				go func() {
					w := bufio.NewWriter(cl.c)
					for _, f := range frames[s] {
						w.Write(f)
					}
					w.Flush()
				}()
			}
			for _, f := range frames[s] {
				if lockstep {
					if _, err := cl.c.Write(f); err != nil {
						b.Error(err)
						return
					}
				}
				if _, code, ok := readAck(cl); !ok || code != "AA" {
					b.Errorf("answer %s %v", code, ok)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed, cpu := time.Since(t0), cpuTime()-cpu0
	b.StopTimer()
	n := float64(senders * len(order))
	b.ReportMetric(n/elapsed.Seconds(), "msg/s")
	b.ReportMetric(cpu.Seconds()/n*1000, "cpu-s/1k-msg")
	b.ReportMetric(loadAverage(), "load1")
	reportBatches(b, srv)
}

// loadAverage is the one-minute load average (0 where /proc has none).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var l float64
	fmt.Sscan(string(b), &l)
	return l
}

// alone hides a Handler's HandleBatch.
type alone struct{ mllp.Handler }
