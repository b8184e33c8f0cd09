package main

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// minHeadroom is the least a server's heap may grow past what was live
// after the last collection before the next one. Go's default (GOGC 100)
// lets it grow by what was live: with little live, as in a store taking
// transaction Bundles (about 47 KB allocated per resource, little of it
// kept), the collector then ran every few dozen megabytes. With at least
// 512 MiB of headroom Bundles cost about 4% less CPU per resource
// (docs/benchmarks.md, session 7), and a server whose projections keep more
// than 512 MiB live collects as Go would by default.
const minHeadroom = 512 << 20

// tuneCollector adjusts the garbage collector of a long-running server
// until ctx ends: after each second it sets the heap's growth between
// collections to max(what is live, minHeadroom), so a small heap is not
// collected every few megabytes and a large one grows no more than Go's
// default lets it. GOGC or GOMEMLIMIT in the environment, an operator's own
// choice, leave the collector as the Go runtime set it from them.
func tuneCollector(ctx context.Context) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	set := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetGCPercent(gcPercent(sample[0].Value.Uint64()))
		}
	}
	set()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				set()
			}
		}
	}()
}

// gcPercent is the GOGC that lets a heap with live bytes live grow by
// max(live, minHeadroom) before the next collection, between 100 (Go's
// default) and 1000.
func gcPercent(live uint64) int {
	if live == 0 {
		return 1000
	}
	return int(min(max(100*uint64(minHeadroom)/live, 100), 1000))
}
