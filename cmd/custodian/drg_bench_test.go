//go:build unix

package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/custodian-him/custodian/drg"
)

// BenchmarkDRGGroupTSV groups the CMS test claims from TSV text to TSV
// output, parsing included, on one goroutine; one iteration is the whole
// file (13,956 claims).
func BenchmarkDRGGroupTSV(b *testing.B) {
	raw, err := os.ReadFile("../../drg/testdata/msdrg_v431_v420_testcases.tsv.gz")
	if err != nil {
		b.Fatal(err)
	}
	z, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		b.Fatal(err)
	}
	text, err := io.ReadAll(z)
	if err != nil {
		b.Fatal(err)
	}
	claims := bytes.Count(text, []byte{'\n'}) - 1
	g := drg.New()
	for _, v := range []string{"v42.0", "v43.1"} {
		if err := g.Load(v); err != nil {
			b.Fatal(err)
		}
	}
	out := bufio.NewWriterSize(io.Discard, 256<<10)
	b.ReportAllocs()
	cpu := drgCPUTime()
	for b.Loop() {
		n, failed, err := groupDRGClaims(context.Background(), g, bytes.NewReader(text), out, io.Discard, drgGroupOptions{})
		if err != nil || failed != 0 || n != claims {
			b.Fatalf("grouped %d, failed %d of %d: %v", n, failed, claims, err)
		}
	}
	b.ReportMetric(float64(b.N*claims)/b.Elapsed().Seconds(), "claims/s")
	// The machine may be shared: claims per second of this process's CPU
	// time is the figure that does not depend on the other load.
	b.ReportMetric(float64(b.N*claims)/(drgCPUTime()-cpu).Seconds(), "claims/cpu-s")
}

// drgCPUTime is the user and system CPU time of the process so far.
func drgCPUTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
