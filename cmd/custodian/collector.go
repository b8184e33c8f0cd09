package main

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// serverGCPercent is how far the heap of a server may grow past what was
// live after the last collection before the next one (Go's default is
// 100). Writes allocate about 47 KB per stored resource while little of it
// stays live, so with the default the collector ran every few megabytes of
// a transaction load; at 400 transaction Bundles cost about 4% less CPU
// per resource (docs/benchmarks.md, session 7).
const serverGCPercent = 400

// tuneCollector sets the garbage collector for a long-running server: it
// collects less often (serverGCPercent) within a soft limit of half the
// machine's memory, so a large record's projections cannot make the heap
// outgrow the machine. GOGC or GOMEMLIMIT in the environment, an operator's
// own choice, leave the collector as the Go runtime set it from them.
func tuneCollector() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(serverGCPercent)
	if total := physicalMemory(); total > 0 {
		debug.SetMemoryLimit(total / 2)
	}
}

// physicalMemory is the memory this process may use: the machine's
// (MemTotal in /proc/meminfo) or its control group's limit, whichever is
// smaller; 0 if neither can be read.
func physicalMemory() int64 {
	var total int64
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if kb, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				if n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 10, 64); err == nil {
					total = n << 10
				}
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n
		}
	}
	return total
}
