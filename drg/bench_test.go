//go:build unix

package drg

import (
	"syscall"
	"testing"
	"time"
)

// BenchmarkGroup groups the CMS test claims (already parsed), one claim per
// iteration, on one goroutine.
func BenchmarkGroup(b *testing.B) {
	cases := readTestCases(b)
	claims := make([]Claim, len(cases))
	opts := make([]Options, len(cases))
	for i, tc := range cases {
		f := tc.f
		if err := claims[i].ParseFields(f[2], f[3], f[4], f[5], f[6], f[7]); err != nil {
			b.Fatal(err)
		}
		opts[i] = Options{Version: tc.version}
	}
	g := New()
	var r Result
	for _, v := range []string{"v42.0", "v43.1"} {
		if err := g.Load(v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	cpu := cpuTime()
	i := 0
	for b.Loop() {
		if err := g.GroupInto(&claims[i], opts[i], &r); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(claims) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
	// The machine may be shared: claims per second of this process's CPU
	// time is the figure that does not depend on the other load.
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu).Seconds(), "claims/cpu-s")
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
