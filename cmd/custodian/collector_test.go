package main

import "testing"

func TestGCPercent(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 1000},
		{10 << 20, 1000}, // 512 MiB of headroom would be 5,120%: capped
		{128 << 20, 400}, // a store taking Bundles
		{512 << 20, 100}, // as much live as the least headroom
		{346 << 20, 147}, // the projections of a 1M-resource record
		{4 << 30, 100},   // a large record: Go's default
	} {
		if got := gcPercent(c.live); got != c.want {
			t.Errorf("gcPercent(%d MiB) = %d, want %d", c.live>>20, got, c.want)
		}
	}
}
