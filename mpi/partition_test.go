package mpi

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestParallelSort checks the bucketed parallel sort against slices.Sort
// for inputs split in several parts, with empty and skewed buckets.
func TestParallelSort(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name  string
		parts [][]uint64
	}{
		{"empty", nil},
		{"one", [][]uint64{{42}}},
		{"uniform", [][]uint64{randoms(r, 5000, 0), randoms(r, 3, 0), nil, randoms(r, 777, 0)}},
		{"skewed", [][]uint64{randoms(r, 4000, 60), randoms(r, 100, 0)}},
		{"repeats", [][]uint64{{7, 7, 7, 1 << 63, 1 << 63, 0}, {7, 0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want []uint64
			for _, p := range c.parts {
				want = append(want, p...)
			}
			slices.Sort(want)
			got, err := parallelSort(context.Background(), c.parts, 16, 3, func(x uint64) int { return int(x >> 60) })
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.vals, want) {
				t.Fatalf("parallelSort differs from slices.Sort")
			}
			for i := range 16 {
				for _, x := range got.bucket(i) {
					if int(x>>60) != i {
						t.Fatalf("%d in bucket %d", x, i)
					}
				}
			}
		})
	}
}

// randoms returns n random integers with their top shift bits cleared.
func randoms(r *rand.Rand, n int, shift uint) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = r.Uint64() >> shift
	}
	return out
}
